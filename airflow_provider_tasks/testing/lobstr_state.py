"""The Lobstr.io emulator's registry: one account, its squids, tasks and runs.

Seed data is rebuilt on every ``reset``. Squid hashes derive from names and task hashes from
``(squid, params)``, so seed hashes are the same in every process (:data:`SEED_HASHES`).
Callers hold the emulator's lock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from airflow_provider_tasks.testing.ids import seed_time
from airflow_provider_tasks.testing.lobstr_models import Behaviour, Crawler, Squid, Task, new_hash
from airflow_provider_tasks.testing.lobstr_runs import CREDITS_PER_RESULT, Run
from airflow_provider_tasks.testing.lobstr_uploads import Upload, UploadTiming, parse_task_file

#: The crawler of every squid: tasks take a ``url``, or a ``keyword`` (and ``location``).
CRAWLER = Crawler(
    hash=new_hash("crawler:google-maps-search"),
    name="Google Maps Search Export",
    module=5,
    task_keys=("url", "keyword", "location"),
)
DEFAULT_SQUID_PARAMS = {"max_results": None, "language": "en"}

#: Seed squids: ``(name, behaviour, task count)``.
SEED_SQUIDS: tuple[tuple[str, Behaviour, int], ...] = (
    ("demo-squid", Behaviour(duration_secs=3.0, results_per_task=20, pending_secs=1.0), 3),
    ("failing-squid", Behaviour(duration_secs=2.0, outcome="error", results_per_task=0), 2),
    ("slow-squid", Behaviour(duration_secs=120.0, results_per_task=20), 3),
    ("pending-squid", Behaviour(pending_secs=math.inf), 1),
)


def task_url(squid_name: str, n: int) -> str:
    """The ``url`` param of the ``n``-th generated task of a squid."""
    return f"https://example.com/{squid_name}/{n}"


def task_hash(squid_hash: str, params: dict[str, Any]) -> str:
    return new_hash(f"task:{squid_hash}:{json.dumps(params, sort_keys=True)}")


#: ``{squid name: {"hash": ..., "tasks": [task hashes]}}`` of the seed data.
SEED_HASHES = {
    name: {
        "hash": new_hash(f"squid:{name}"),
        "tasks": [task_hash(new_hash(f"squid:{name}"), {"url": task_url(name, n)}) for n in range(1, count + 1)],
    }
    for name, _, count in SEED_SQUIDS
}


class LobstrState:
    """Everything the emulated account holds; ``now`` is the server clock's wall time."""

    def __init__(self, now: Callable[[], datetime], seed: bool = True) -> None:
        self._now = now
        self.squids: dict[str, Squid] = {}
        self.tasks: dict[str, Task] = {}
        self.runs: dict[str, Run] = {}
        self.uploads: dict[str, Upload] = {}
        self.upload_timing = UploadTiming()
        self.export_limit: int | None = None
        """A free plan's cap: ``/v1/results`` serves only this many rows and adds a ``warning``."""
        self.results_page_cap: int | None = None
        """At most this many rows a ``/v1/results`` page, reported as the envelope's ``limit``."""
        self._seeding = seed
        for name, behaviour, count in SEED_SQUIDS if seed else ():
            self.add_squid(name, behaviour, task_count=count)
        self._seeding = False

    def _created(self) -> datetime:
        return seed_time(len(self.squids) + len(self.tasks)) if self._seeding else self._now()

    # -- squids and tasks ------------------------------------------------------------------
    def add_squid(
        self,
        name: str,
        behaviour: Behaviour,
        *,
        task_count: int = 3,
        tasks: list[dict[str, Any]] | None = None,
        concurrency: int = 1,
        is_ready: bool = True,
        params: dict[str, Any] | None = None,
    ) -> Squid:
        """A squid and its tasks (``tasks`` params, else ``task_count`` generated ``url`` tasks)."""
        if not name or not isinstance(name, str):
            raise ValueError(f"invalid squid name {name!r}")
        if self.find_squid(name) is not None:
            raise ValueError(f"a squid named {name!r} already exists")
        if not 1 <= concurrency <= 20:
            raise ValueError("concurrency must be between 1 and 20")
        if task_count < 0:
            raise ValueError("task_count must be >= 0")
        squid = Squid(
            hash=new_hash(f"squid:{name}"),
            name=name,
            crawler=CRAWLER,
            behaviour=behaviour,
            created_at=self._created(),
            concurrency=concurrency,
            is_ready=is_ready,
            params=dict(params if params is not None else DEFAULT_SQUID_PARAMS),
        )
        inputs = tasks if tasks is not None else [{"url": task_url(name, n)} for n in range(1, task_count + 1)]
        self.check_task_params(inputs)
        self.squids[squid.hash] = squid
        self.add_tasks(squid, inputs)
        return squid

    def check_task_params(self, inputs: Any) -> None:
        """Raise ValueError (the API's 400) unless ``inputs`` is a list of valid task params."""
        if not isinstance(inputs, list):
            raise ValueError("'tasks' must be a list of objects")
        for params in inputs:
            if not isinstance(params, dict) or not params:
                raise ValueError("Each task must be a non-empty object of params")
            for key, value in params.items():
                if key not in CRAWLER.task_keys or not isinstance(value, str) or not value.strip():
                    raise ValueError(f"Invalid param: {key}")

    def add_tasks(
        self, squid: Squid, inputs: list[dict[str, Any]], *, is_active: bool = True
    ) -> tuple[list[Task], int]:
        """Add tasks (params already checked); returns ``(created, duplicated_count)``."""
        created: list[Task] = []
        duplicates = 0
        for params in inputs:
            hash_ = task_hash(squid.hash, params)
            if hash_ in squid.tasks:
                duplicates += 1
                continue
            task = Task(hash_, squid, dict(params), self._created(), is_active=is_active)
            squid.tasks[hash_] = task
            self.tasks[hash_] = task
            created.append(task)
        return created, duplicates

    def delete_task(self, task: Task) -> None:
        """Forget a task; runs that included it keep their record of it."""
        del self.tasks[task.hash]
        del task.squid.tasks[task.hash]

    def start_upload(self, squid: Squid, content: bytes, filename: str, content_type: str, t: float) -> Upload:
        """A bulk upload of a CSV/TSV file of tasks (see :mod:`.lobstr_uploads`)."""
        rows, invalid, failure = parse_task_file(content, filename, content_type, CRAWLER.task_keys)
        timing = self.upload_timing
        upload = Upload(new_hash(), squid, rows, invalid, timing.failure or failure, t, timing)
        self.uploads[upload.hash] = upload
        return upload

    def settle(self, t: float) -> None:
        """Insert the tasks of every upload that has reached SUCCESS by ``t`` (once each)."""
        for upload in self.uploads.values():
            if upload.applied or upload.state_at(t) != "SUCCESS":
                continue
            upload.applied = True
            if upload.squid.hash not in self.squids:  # deleted meanwhile
                continue
            created, upload.duplicates = self.add_tasks(upload.squid, upload.rows)
            upload.inserted = len(created)

    def find_squid(self, ref: str) -> Squid | None:
        """By hash, or by name (the Python API and control endpoints accept names)."""
        found = self.squids.get(ref)
        if found is not None:
            return found
        return next((squid for squid in self.squids.values() if squid.name == ref), None)

    # -- runs ------------------------------------------------------------------------------
    def active_run(self, squid: Squid, t: float) -> Run | None:
        return next((run for run in reversed(squid.runs) if run.is_active(t)), None)

    def start_run(self, squid: Squid, t: float, origin: str = "user") -> Run:
        """Start a run of the squid's active tasks; ValueError (the API's 400) when it cannot."""
        self.settle(t)
        if not squid.is_ready:
            raise ValueError("Squid is not ready")
        if self.active_run(squid, t) is not None:
            raise ValueError("A run is already active for this squid")
        tasks = tuple(squid.active_tasks())
        run = Run(new_hash(), squid, tasks, squid.behaviour, squid.concurrency, origin, t, self._now())
        self.runs[run.hash] = run
        squid.runs.append(run)
        for task in tasks:
            task.last_run = run
        return run

    def get_run(self, run_hash: str) -> Run:
        run = self.runs.get(run_hash)
        if run is None:
            raise KeyError(run_hash)
        return run

    # -- account ---------------------------------------------------------------------------
    def user_json(self) -> dict[str, Any]:
        """``GET /v1/me``."""
        return {
            "first_name": "Demo",
            "last_name": "User",
            "email": "demo@example.com",
            "email_verified": True,
            "plan": [{"name": "Emulator", "status": "active", "interval": "month"}],
            "login_count": 1,
            "profile_image": None,
            "is_staff": False,
            "credit_interval": "month",
        }

    def balance_json(self, t: float) -> dict[str, Any]:
        """``GET /v1/user/balance``: ``available`` is the whole allotment, ``consumed`` the runs' credits."""
        active = [run for run in self.runs.values() if run.is_active(t)]
        return {
            "id": new_hash("plan:emulator"),
            "object": "plan",
            "name": "Emulator",
            "available": 100_000,
            "consumed": round(sum(run.total_results(t) for run in self.runs.values()) * CREDITS_PER_RESULT, 2),
            "bonus_credit": 0,
            "rollover_credit": 0,
            "rollover_credit_expires_at": None,
            "interval": "month",
            "used_slots": sum(run.concurrency for run in active),
            "total_available_slots": 20,
            "has_unpaid_bill": False,
            "reset_time": None,
        }
