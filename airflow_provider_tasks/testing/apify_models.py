"""Objects of the Apify emulator -- Actors, tasks, runs, datasets -- and their API JSON shapes.

No HTTP and no registry here (see :mod:`.apify_state`): plain objects plus the JSON shapes the API
returns for them (the seeds in
``/work/shared/seeds/apify-*.md`` and the official ``apify-client`` models are the contract).

A run's status is never stored; it is *computed* from the emulator's monotonic clock and the
run's :class:`Behaviour` (a shared :class:`~.lifecycle.Timeline`), so nothing has to tick in the
background and a long-poll can compute the exact moment the run becomes terminal and sleep until then::

    READY (ready_secs) -> RUNNING (duration_secs) -> outcome
    with ``unknown_status``: READY -> <unknown_status> (unknown_secs; inf: for good) -> RUNNING ...,
    a status the API may add later (say ``RESURRECTING``) that clients must survive.
    outcome TIMED-OUT: RUNNING -> TIMING-OUT (0.5 s) -> TIMED-OUT; likewise a run whose duration
    exceeds its ``timeoutSecs`` option times out at that limit.
    outcome ABORTED:   RUNNING -> ABORTING (0.5 s) -> ABORTED.
    abort via API:     -> ABORTING (0.5 s, gracefully) -> ABORTED, or ABORTED at once.

Dataset items appear all at once when the run becomes terminal: ``item_count`` items for a run
that reached its task's outcome (so ``add_task(outcome="FAILED", item_count=5)`` models a failed
run with partial results), none for a run aborted through the API. The Actor's key-value store
records (``OUTPUT`` …) follow the same rule (:mod:`.apify_stores`).

All access goes through the owning emulator's lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.testing.ids import stable_id
from airflow_provider_tasks.testing.lifecycle import Timeline

ITEM_FIELDS = ("id", "url", "title", "price", "tags", "details")
"""The fields of a generated dataset item (``apify_items.make_item``)."""

if TYPE_CHECKING:
    from airflow_provider_tasks.testing.apify_stores import Record

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
STATUSES = frozenset({"READY", "RUNNING", "TIMING-OUT", "ABORTING"}) | TERMINAL
TRANSITION_SECS = 0.5
_BUILD_NUMBER = re.compile(r"^([0-9]|[1-9][0-9])\.([0-9]|[1-9][0-9])(\.[1-9][0-9]{0,4})$")


def iso(moment: datetime | None) -> str | None:
    """``2024-01-15T09:00:00.000Z``: UTC with milliseconds, as the API writes timestamps."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Behaviour:
    """How the runs of an Actor or task play out on the emulator's clock."""

    duration_secs: float = 3.0
    outcome: str = "SUCCEEDED"
    item_count: int = 0
    ready_secs: float = 0.0
    status_message: str | None = None
    unknown_status: str | None = None
    unknown_secs: float = 0.0
    cost_per_second: float = 0.0
    """USD added to ``usageTotalUsd`` per second of RUNNING, on top of the compute-unit price
    (0.4 USD per CU): lets a test make a run's bill grow quickly and predictably."""
    records: tuple[Record, ...] | None = None
    """Records the Actor writes to the run's default key-value store when the run reaches its
    outcome; None: one ``OUTPUT`` record ``{"status", "itemCount"}`` (see :mod:`.apify_stores`)."""
    log_lines: int = 3
    """Progress lines the run writes to its log, spread evenly over RUNNING (see :mod:`.apify_logs`)."""
    echo_input: bool = False
    """Each item of a run's default dataset carries the run's input under ``input``, as a
    scraper records the query or URL an item came from: runs with different inputs then have
    different items, so a test can tell whose dataset a download read."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cost_per_second) and self.cost_per_second >= 0):
            raise ValueError("cost_per_second must be a finite number >= 0")
        if self.outcome not in TERMINAL:
            raise ValueError(f"outcome must be one of {sorted(TERMINAL)}, not {self.outcome!r}")
        if self.unknown_status is not None and (not self.unknown_status or self.unknown_status in STATUSES):
            raise ValueError(f"unknown_status must be a status the API does not have yet, not {self.unknown_status!r}")
        if isinstance(self.log_lines, bool) or not isinstance(self.log_lines, int) or self.log_lines < 0:
            raise ValueError(f"log_lines must be an integer >= 0, not {self.log_lines!r}")
        if not self.unknown_secs >= 0:
            raise ValueError("unknown_secs must be >= 0")
        if not (self.duration_secs >= 0 and self.ready_secs >= 0 and self.item_count >= 0):
            raise ValueError("duration_secs, ready_secs and item_count must be >= 0")
        if math.isinf(self.duration_secs):
            raise ValueError("duration_secs must be finite (use ready_secs=inf for a run that never starts)")


@dataclass
class Actor:
    id: str
    name: str
    username: str
    user_id: str
    created_at: datetime
    behaviour: Behaviour
    default_input: dict[str, Any]
    options: dict[str, Any]
    total_runs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userId": self.user_id,
            "name": self.name,
            "username": self.username,
            "title": self.name.replace("-", " ").capitalize(),
            "description": "An Actor served by the local Apify API emulator.",
            "isPublic": False,
            "createdAt": iso(self.created_at),
            "modifiedAt": iso(self.created_at),
            "stats": {"totalBuilds": 1, "totalRuns": self.total_runs, "totalUsers": 1},
            "versions": [{"versionNumber": "0.0", "sourceType": "SOURCE_FILES", "buildTag": "latest"}],
            "defaultRunOptions": {
                "build": self.options["build"],
                "timeoutSecs": self.options["timeoutSecs"],
                "memoryMbytes": self.options["memoryMbytes"],
                "restartOnError": False,
            },
            "exampleRunInput": {"body": "{}", "contentType": "application/json; charset=utf-8"},
            "isDeprecated": False,
            "taggedBuilds": {"latest": {"buildId": stable_id(f"build:{self.id}"), "buildNumber": "0.0.1"}},
        }


@dataclass
class Task:
    id: str
    name: str
    username: str
    user_id: str
    actor: Actor
    created_at: datetime
    behaviour: Behaviour
    input: dict[str, Any]
    options: dict[str, Any]
    total_runs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userId": self.user_id,
            "actId": self.actor.id,
            "name": self.name,
            "username": self.username,
            "createdAt": iso(self.created_at),
            "modifiedAt": iso(self.created_at),
            "removedAt": None,
            "stats": {"totalRuns": self.total_runs},
            "options": dict(self.options),
            "input": dict(self.input),
            "standbyUrl": None,
        }

    def list_item(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userId": self.user_id,
            "actId": self.actor.id,
            "actName": self.actor.name,
            "name": self.name,
            "username": self.username,
            "actUsername": self.actor.username,
            "createdAt": iso(self.created_at),
            "modifiedAt": iso(self.created_at),
            "stats": {"totalRuns": self.total_runs},
        }


@dataclass
class Run:
    id: str
    actor: Actor
    task: Task | None
    user_id: str
    behaviour: Behaviour
    options: dict[str, Any]
    input: Any
    input_bytes: int
    user_agent: str | None
    client_ip: str | None
    created_mono: float
    started_at: datetime
    dataset_id: str
    store_id: str
    queue_id: str
    build_number: str
    webhooks: list[Any] = field(default_factory=list)
    origin: str = "API"
    container: str = field(
        default_factory=lambda: "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(12))
    )
    timeline: Timeline = field(init=False, repr=False)

    # -- lifecycle -------------------------------------------------------------------------
    def __post_init__(self) -> None:
        """The run left alone: READY, RUNNING, then the outcome (a timeout shortens RUNNING)."""
        duration, outcome = self.behaviour.duration_secs, self.behaviour.outcome
        timeout = self.options.get("timeoutSecs") or 0
        if timeout > 0 and duration > timeout:
            duration, outcome = float(timeout), "TIMED-OUT"
        phases = [("READY", self.behaviour.ready_secs), ("RUNNING", duration)]
        if self.behaviour.unknown_status is not None:
            phases.insert(1, (self.behaviour.unknown_status, self.behaviour.unknown_secs))
        if outcome in ("TIMED-OUT", "ABORTED"):
            phases.append(("TIMING-OUT" if outcome == "TIMED-OUT" else "ABORTING", TRANSITION_SECS))
        self.timeline = Timeline(self.created_mono, phases, outcome, aborting="ABORTING", aborted="ABORTED")

    def status_at(self, t: float) -> str:
        return self.timeline.status_at(t)

    def terminal_at(self) -> float:
        """Monotonic moment the run is (or will be) terminal; ``inf`` when it never starts."""
        return self.timeline.terminal_at()

    def abort(self, t: float, gracefully: bool) -> bool:
        """Start aborting at ``t``; False (and no change) when the run is already terminal."""
        return self.timeline.abort(t, TRANSITION_SECS if gracefully else 0.0)

    def item_count_at(self, t: float) -> int:
        if self.timeline.abort_started is not None or self.status_at(t) not in TERMINAL:
            return 0
        return self.behaviour.item_count

    def wall(self, t: float) -> datetime:
        return self.started_at + timedelta(seconds=t - self.created_mono)

    # -- JSON ------------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "clientIp": self.client_ip,
            "userAgent": self.user_agent,
            "scheduleId": None,
            "scheduledAt": None,
        }

    def list_item(self, t: float) -> dict[str, Any]:
        status = self.status_at(t)
        return {
            "id": self.id,
            "actId": self.actor.id,
            "userId": self.user_id,
            "actorTaskId": self.task.id if self.task else None,
            "status": status,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.wall(self.terminal_at())) if status in TERMINAL else None,
            "buildId": stable_id(f"build:{self.actor.id}"),
            "buildNumber": self.build_number,
            "meta": self._meta(),
            "usageTotalUsd": self._usage(t)[2],
            "defaultKeyValueStoreId": self.store_id,
            "defaultDatasetId": self.dataset_id,
            "defaultRequestQueueId": self.queue_id,
        }

    def to_json(self, t: float) -> dict[str, Any]:
        status = self.status_at(t)
        terminal = status in TERMINAL
        run_secs = self._run_secs(t)
        usage, usage_usd, total_usd = self._usage(t)
        memory_bytes = self.options["memoryMbytes"] * 1024 * 1024
        running = status in ("RUNNING", "TIMING-OUT", "ABORTING")
        data: dict[str, Any] = {
            "id": self.id,
            "actId": self.actor.id,
            "userId": self.user_id,
            "actorTaskId": self.task.id if self.task else None,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.wall(self.terminal_at())) if terminal else None,
            "status": status,
            "statusMessage": self._status_message(status),
            "isStatusMessageTerminal": terminal,
            "meta": self._meta(),
            "stats": {
                "inputBodyLen": self.input_bytes,
                "migrationCount": 0,
                "rebootCount": 0,
                "restartCount": 0,
                "resurrectCount": 0,
                "memAvgBytes": round(memory_bytes * 0.25, 1) if run_secs else 0.0,
                "memMaxBytes": int(memory_bytes * 0.4) if run_secs else 0,
                "memCurrentBytes": int(memory_bytes * 0.3) if running else 0,
                "cpuAvgUsage": 12.5 if run_secs else 0.0,
                "cpuMaxUsage": 87.5 if run_secs else 0.0,
                "cpuCurrentUsage": 10.0 if running else 0.0,
                "netRxBytes": int(run_secs * 20_000),
                "netTxBytes": int(run_secs * 4_000),
                "durationMillis": int(run_secs * 1000),
                "runTimeSecs": round(run_secs, 3),
                "metamorph": 0,
                "computeUnits": usage["ACTOR_COMPUTE_UNITS"],
            },
            "options": dict(self.options),
            "buildId": stable_id(f"build:{self.actor.id}"),
            "exitCode": {"SUCCEEDED": 0, "FAILED": 1}.get(status),
            "generalAccess": "FOLLOW_USER_SETTING",
            "defaultKeyValueStoreId": self.store_id,
            "defaultDatasetId": self.dataset_id,
            "defaultRequestQueueId": self.queue_id,
            "buildNumber": self.build_number,
            "containerUrl": f"https://{self.container}.runs.apify.net",
            "isContainerServerReady": running,
            "gitBranchName": None,
            "usage": usage,
            "usageTotalUsd": total_usd,
            "usageUsd": usage_usd,
        }
        return data

    def _status_message(self, status: str) -> str:
        custom = self.behaviour.status_message
        if status == self.behaviour.outcome and custom and self.timeline.abort_started is None:
            return custom
        return {
            "READY": "Waiting for resources to start the run",
            "RUNNING": "Actor is running",
            "TIMING-OUT": "Actor is timing out",
            "ABORTING": "Actor is being aborted",
            "SUCCEEDED": "Actor finished successfully",
            "FAILED": "Actor failed: example failure",
            "TIMED-OUT": f"Actor timed out after {self.options.get('timeoutSecs')} seconds",
            "ABORTED": "Actor run was aborted",
        }.get(status, f"Actor run is {status.lower()}")

    def _run_secs(self, t: float) -> float:
        ready_end = self.timeline.phase_end(0)
        end = min(t, self.terminal_at())
        return max(0.0, end - ready_end) if math.isfinite(ready_end) else 0.0

    def compute_units(self, t: float) -> float:
        """Memory in GB times running hours, as Apify bills it."""
        return round(self.options["memoryMbytes"] / 1024 * self._run_secs(t) / 3600, 6)

    def _usage(self, t: float) -> tuple[dict[str, Any], dict[str, Any], float]:
        compute_units = self.compute_units(t)
        items = self.item_count_at(t)
        usage = {
            "ACTOR_COMPUTE_UNITS": compute_units,
            "DATASET_READS": 0,
            "DATASET_WRITES": items,
            "KEY_VALUE_STORE_READS": 1,
            "KEY_VALUE_STORE_WRITES": 1,
            "KEY_VALUE_STORE_LISTS": 0,
            "REQUEST_QUEUE_READS": 0,
            "REQUEST_QUEUE_WRITES": 0,
            "DATA_TRANSFER_INTERNAL_GBYTES": 0.0,
            "DATA_TRANSFER_EXTERNAL_GBYTES": 0.0,
            "PROXY_RESIDENTIAL_TRANSFER_GBYTES": 0.0,
            "PROXY_SERPS": 0,
        }
        usage_usd = {
            "ACTOR_COMPUTE_UNITS": round(compute_units * 0.4, 6),
            "DATASET_READS": 0.0,
            "DATASET_WRITES": round(items * 0.000005, 6),
            "KEY_VALUE_STORE_READS": 0.000005,
            "KEY_VALUE_STORE_WRITES": 0.00005,
            "KEY_VALUE_STORE_LISTS": 0.0,
            "REQUEST_QUEUE_READS": 0.0,
            "REQUEST_QUEUE_WRITES": 0.0,
            "DATA_TRANSFER_INTERNAL_GBYTES": 0.0,
            "DATA_TRANSFER_EXTERNAL_GBYTES": 0.0,
            "PROXY_RESIDENTIAL_TRANSFER_GBYTES": 0.0,
            "PROXY_SERPS": 0.0,
        }
        extra = self.behaviour.cost_per_second * self._run_secs(t)
        return usage, usage_usd, round(sum(usage_usd.values()) + extra, 6)


@dataclass
class Dataset:
    """A dataset: a run's default one (items follow the run) or a standalone one of fixed size."""

    id: str
    name: str | None
    user_id: str
    created_at: datetime
    run: Run | None = None
    fixed_item_count: int = 0
    empty_every: int = 0
    """When > 0, every ``empty_every``-th item (index ``k*n - 1``) is the empty object ``{}``, so
    ``clean``/``skipEmpty`` pages hold fewer items than their ``limit`` before the end."""
    page_cap: int = 0
    """When > 0, an items page holds at most this many items whatever ``limit`` asked, and the
    ``X-Apify-Pagination-Limit`` header reports that lower effective limit (a server-side cap)."""

    def item_count_at(self, t: float) -> int:
        return self.run.item_count_at(t) if self.run is not None else self.fixed_item_count

    def item_extra(self) -> dict[str, Any] | None:
        """Fields added to every generated item: the run's input when its Actor echoes it."""
        if self.run is not None and self.run.behaviour.echo_input:
            return {"input": self.run.input}
        return None

    def is_empty(self, index: int) -> bool:
        return self.empty_every > 0 and index % self.empty_every == self.empty_every - 1

    def empty_count(self, count: int) -> int:
        """How many of the first ``count`` items are empty."""
        return count // self.empty_every if self.empty_every > 0 else 0

    def to_json(self, t: float) -> dict[str, Any]:
        count = self.item_count_at(t)
        modified = self.run.wall(min(t, self.run.terminal_at())) if self.run else self.created_at
        return {
            "id": self.id,
            "name": self.name,
            "userId": self.user_id,
            "createdAt": iso(self.created_at),
            "modifiedAt": iso(modified),
            "accessedAt": iso(modified),
            "itemCount": count,
            "cleanItemCount": count - self.empty_count(count),
            "actId": self.run.actor.id if self.run else None,
            "actRunId": self.run.id if self.run else None,
            "fields": [*ITEM_FIELDS, *(self.item_extra() or {})] if count else [],
            "consoleUrl": f"https://console.apify.com/storage/datasets/{self.id}",
            "generalAccess": "FOLLOW_USER_SETTING",
            "stats": {"readCount": 0, "writeCount": count, "storageBytes": count * 180},
        }


def build_number_for(build: str) -> str:
    """The run's ``buildNumber``: the requested build when it is a number, else ``0.0.1``.

    (The official client validates ``buildNumber`` against ``^N.N.M$`` with M >= 1, so ``0.0.0``
    would break it.)
    """
    return build if _BUILD_NUMBER.match(build) else "0.0.1"
