"""Objects of the Lobstr.io emulator -- crawler, squids, tasks -- and their API JSON shapes.

No HTTP and no registry here (:mod:`.lobstr_state` holds the objects, :mod:`.lobstr_runs` the runs).
The contract for ``GET /v1/tasks/{task_hash}`` is ``/work/shared/seeds/lobstr-get-task.md``; every
other shape follows ``/work/shared/notes/lobstr-api.md``. Choices where those are silent:

* Hashes are 32 lowercase hex digits. A squid's derives from its name and a task's from its
  squid and params, so they are the same in every process; runs get random ones.
* Timestamps: tasks, runtasks, results and squids use naive ISO with microseconds
  (``2025-02-04T10:26:52.310738``, the seed's form); runs use ``2025-02-10T14:27:45Z`` (the
  start-run example's form). Both are UTC. A client has to parse both leniently.
* ``module`` is the crawler's integer id on ``GET /tasks/{hash}`` but its hash on the items that
  ``POST /tasks`` returns, as the two documentation examples show.
* A task's ``status`` reflects the latest run that included it (UNVERIFIED in the notes); before
  any run it is ``pending`` with null times, ``is_done`` false and zero totals. Every field of the
  seed is always present (null when it does not apply yet).
* ``total_pages`` counts scraped pages of up to :data:`RESULTS_PER_PAGE` rows (the seed shows 156
  results on one page); a completed task processed at least one page.

All access goes through the owning emulator's lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from airflow_provider_tasks.testing.ids import HEX, random_id, stable_id

#: How a run may end on its own (``aborted`` comes from an abort only).
OUTCOMES = ("done", "error")
#: Run ``done_reason`` and ``done_reason_desc`` by outcome, unless a squid sets its own.
DEFAULT_REASONS = {
    "done": ("tasks_done", "All tasks are done"),
    "error": ("website_inaccessible", "The website could not be reached"),
}
RESULTS_PER_PAGE = 200
#: Runtask status (notes §2.9) -> task ``status.status`` (seed vocabulary).
TASK_STATUS = {
    "pending": "pending",
    "running": "running",
    "completed": "completed",
    "aborted": "aborted",
    "error": "failed",
}
#: Runtask status -> task/runtask ``done_reason``.
TASK_DONE_REASON = {"completed": "completed", "aborted": "run_aborted", "error": "error"}


def new_hash(seed: str | None = None) -> str:
    """A Lobstr-style 32-hex hash: derived from ``seed`` when given, else random."""
    return stable_id(seed, 32, HEX) if seed is not None else random_id(32, HEX)


def naive_iso(moment: datetime | None) -> str | None:
    """``2025-02-04T10:26:52.310738``: UTC without a zone, always with microseconds."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


def zulu_iso(moment: datetime | None) -> str | None:
    """``2025-02-10T14:27:45Z``: UTC to the second."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_text(seconds: float) -> str:
    """A duration as Python/Django print a timedelta: ``0:00:50.183300``."""
    return str(timedelta(seconds=round(max(seconds, 0.0), 6)))


@dataclass(frozen=True)
class Behaviour:
    """How the runs of a squid play out on the emulator's clock.

    ``pending_secs`` in ``pending`` (``math.inf``: never starts), then ``duration_secs`` collecting
    (``running``; a ``pause_secs`` > 0 pauses it half-way with ``no_account_available``), then
    ``export_secs`` in ``uploading`` for a ``done`` outcome, then ``outcome``. Each task yields
    ``results_per_task`` rows, collected evenly while it runs.
    """

    duration_secs: float = 3.0
    outcome: str = "done"
    results_per_task: int = 20
    pending_secs: float = 0.0
    export_secs: float = 1.0
    pause_secs: float = 0.0
    done_reason: str | None = None
    done_reason_desc: str | None = None
    error_message: str = "HTTP 503 Service Unavailable while fetching the page"
    pause_status: str = "paused"
    """The status shown during the half-way pause: another value (say ``"hibernating"``) makes
    runs pass through (``pause_secs=inf``: stay in) a status the documentation does not list."""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        if not self.pause_status or self.pause_status in (
            "pending",
            "running",
            "uploading",
            "done",
            "aborted",
            "error",
        ):
            raise ValueError(
                f"pause_status must be 'paused' or a status the API does not list, not {self.pause_status!r}"
            )
        numbers = (self.duration_secs, self.pending_secs, self.export_secs, self.pause_secs, self.results_per_task)
        if not all(value >= 0 for value in numbers):
            raise ValueError("durations and results_per_task must be >= 0")
        if math.isinf(self.duration_secs) or math.isinf(self.export_secs):
            raise ValueError("duration_secs and export_secs must be finite (pending_secs/pause_secs may be inf)")

    @property
    def reason(self) -> tuple[str, str]:
        """``(done_reason, done_reason_desc)`` of a run that reached the outcome by itself."""
        default, desc = DEFAULT_REASONS[self.outcome]
        return self.done_reason or default, self.done_reason_desc or desc


@dataclass(frozen=True)
class Progress:
    """One task's execution inside a run at some moment (runtask status vocabulary)."""

    status: str
    started_at: datetime | None
    ended_at: datetime | None
    collected: int
    last_result_at: datetime | None


class RunRecord(Protocol):
    """What a task and a squid read of their runs. :class:`~.lobstr_runs.Run` provides it; it is
    declared here so that this module does not import that one (which builds on this one)."""

    hash: str
    created_at: datetime

    def status_at(self, t: float) -> str: ...

    def is_done(self, t: float) -> bool: ...

    def done_reason(self, t: float) -> str | None: ...

    def progress_of(self, task: Task, t: float) -> Progress: ...


@dataclass(frozen=True)
class Crawler:
    """The scraper template of every squid (Lobstr calls it ``module`` on tasks)."""

    hash: str
    name: str
    module: int
    task_keys: tuple[str, ...]


@dataclass(eq=False)
class Task:
    hash: str
    squid: Squid
    params: dict[str, Any]
    created_at: datetime
    is_active: bool = True
    last_run: RunRecord | None = None

    def _progress(self, t: float) -> Progress | None:
        if self.last_run is None:
            return None
        return self.last_run.progress_of(self, t)

    def to_json(self, t: float) -> dict[str, Any]:
        """``GET /v1/tasks/{task_hash}`` (the seed), keys in the seed's order."""
        return {
            "hash_value": self.hash,
            "created_at": naive_iso(self.created_at),
            "is_active": self.is_active,
            "params": dict(self.params),
            "module": self.squid.crawler.module,
            "status": status_json(self._progress(t), self.squid.behaviour.error_message),
            "object": "task",
        }

    def list_item(self) -> dict[str, Any]:
        """An item of ``GET /v1/tasks?squid=`` (no status)."""
        return {
            "id": self.hash,
            "created_at": naive_iso(self.created_at),
            "is_active": self.is_active,
            "params": dict(self.params),
        }

    def added_item(self) -> dict[str, Any]:
        """An item of the ``tasks`` list that ``POST /v1/tasks`` returns."""
        return {
            "id": self.hash,
            "object": "task",
            "created_at": naive_iso(self.created_at),
            "is_active": self.is_active,
            "params": dict(self.params),
            "module": self.squid.crawler.hash,
        }


def pages_of(collected: int, finished: bool) -> int:
    pages = math.ceil(collected / RESULTS_PER_PAGE)
    return max(pages, 1) if finished else pages


def status_json(progress: Progress | None, error_message: str) -> dict[str, Any]:
    """The ``status`` object of a task: its latest execution, or a never-run task's."""
    if progress is None:
        status, started, ended, collected = "pending", None, None, 0
    else:
        status, started, ended, collected = progress.status, progress.started_at, progress.ended_at, progress.collected
    failed = status == "error"
    return {
        "status": TASK_STATUS[status],
        "started_at": naive_iso(started),
        "ended_at": naive_iso(ended),
        "is_done": status in TASK_DONE_REASON,
        "total_results": collected,
        "total_pages": pages_of(collected, status == "completed"),
        "done_reason": TASK_DONE_REASON.get(status),
        "has_errors": failed,
        "errors": error_message if failed else None,
    }


@dataclass(eq=False)
class Squid:
    hash: str
    name: str
    crawler: Crawler
    behaviour: Behaviour
    created_at: datetime
    concurrency: int = 1
    is_ready: bool = True
    is_active: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    runs: list[RunRecord] = field(default_factory=list)

    def active_tasks(self) -> list[Task]:
        return [task for task in self.tasks.values() if task.is_active]

    def to_json(self, t: float, download_url: str | None = None) -> dict[str, Any]:
        """``GET /v1/squids/{hash}`` and the items of ``GET /v1/squids``."""
        last = self.runs[-1] if self.runs else None
        status = last.status_at(t) if last else None
        return {
            "id": self.hash,
            "object": "squid",
            "name": self.name,
            "crawler": self.crawler.hash,
            "crawler_name": self.crawler.name,
            "created_at": naive_iso(self.created_at),
            "is_active": self.is_active,
            "is_ready": self.is_ready,
            "concurrency": self.concurrency,
            "to_complete": None,
            "export_unique_results": False,
            "no_line_breaks": False,
            "params": dict(self.params),
            "accounts": [],
            "schedule": None,
            "timezone": None,
            "message": None,
            "total_tasks": len(self.tasks),
            "total_runs": len(self.runs),
            "last_run": last.hash if last else None,
            "last_run_at": zulu_iso(last.created_at) if last else None,
            "last_run_status": status.upper() if status else None,
            "last_run_done_reason": last.done_reason(t) if last else None,
            "last_run_is_done": last.is_done(t) if last else None,
            "download_url": download_url,
            "notifications_params": {"run_notify": None},
            "chain": None,
            "google_sheet_fields": None,
            "ftp_fields": None,
            "s3_fields": None,
            "webhook_fields": None,
            "slack_fields": None,
        }
