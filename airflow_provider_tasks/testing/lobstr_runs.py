"""Runs of the Lobstr.io emulator: lifecycle on the clock, per-task progress, and their JSON.

A run's status is computed from the emulator's monotonic clock (a shared
:class:`~.lifecycle.Timeline`), with the statuses of the notes §3.1::

    pending (pending_secs) -> running (duration_secs; with pause_secs > 0 it is paused half-way,
    done_reason no_account_available) -> uploading (export_secs) -> done (done_reason tasks_done)
    outcome "error":   running -> error (no export)
    abort (API):       -> uploading for 1 s (is_done true, done_reason aborted) -> aborted

Choices where the notes are silent or UNVERIFIED:

* ``is_done`` turns true when collection ends -- at ``uploading``, before the status is terminal --
  as the abort example shows (``"status":"uploading","is_done":true``); so ``is_done`` alone is not
  "finished". ``export_done`` is null until the export is built (``done``/``aborted``), then true;
  an ``error`` run never exports. ``ended_at`` is when collection ended.
* A run can be aborted while it collects (pending, running, paused); once ``is_done`` the abort is
  the documented 404 "Run not found or already completed".
* ``duration`` is a float of seconds in start/list/abort answers and a ``0:00:50.183300`` string in
  get-run and stats (the notes §2.6). ``started_at`` is the creation time (set while pending).
* A run takes the squid's active tasks when it starts. They run ``concurrency`` at a time, in equal
  slots of the collection time; each collects ``results_per_task`` rows evenly during its slot and
  ends ``completed`` (``error`` for an ``error`` outcome, keeping its rows). An abort leaves finished
  tasks as they are and marks the others ``aborted`` (``run_aborted``) with the rows collected so far.
* A run of a squid without active tasks completes at once with no results (the start-run page;
  the errors page's ``NoTasksPresent`` can be injected with a status fault).
* ``credit_used`` is one credit per result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_tasks.testing.lifecycle import Timeline
from airflow_provider_tasks.testing.lobstr_models import (
    TASK_DONE_REASON,
    Behaviour,
    Progress,
    Squid,
    Task,
    duration_text,
    naive_iso,
    new_hash,
    pages_of,
    zulu_iso,
)

TERMINAL = frozenset({"done", "aborted", "error"})
#: Statuses with ``is_done`` true: collection is over.
COLLECTION_OVER = TERMINAL | {"uploading"}
ABORT_EXPORT_SECS = 1.0
PAUSE_REASON = ("no_account_available", "No account available; the run resumes when one is")
ABORT_REASON = ("aborted", "Run aborted by user")
CREDITS_PER_RESULT = 1.0


@dataclass(eq=False)
class Run:
    hash: str
    squid: Squid
    tasks: tuple[Task, ...]
    behaviour: Behaviour
    concurrency: int
    origin: str
    created_mono: float
    created_at: datetime
    timeline: Timeline = field(init=False, repr=False)
    collect_secs: float = field(init=False)
    _batches: int = field(init=False, repr=False)
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        b = self.behaviour
        self.collect_secs = b.duration_secs if self.tasks else 0.0
        if b.pause_secs > 0 and self.collect_secs > 0:
            half = self.collect_secs / 2
            collecting = [("running", half), (b.pause_status, b.pause_secs), ("running", self.collect_secs - half)]
        else:
            collecting = [("running", self.collect_secs)]
        phases = [("pending", b.pending_secs), *collecting]
        if b.outcome == "done":
            phases.append(("uploading", b.export_secs if self.tasks else 0.0))
        self.timeline = Timeline(self.created_mono, phases, b.outcome, aborting="uploading", aborted="aborted")
        self._batches = math.ceil(len(self.tasks) / self.concurrency)
        self._index = {task.hash: i for i, task in enumerate(self.tasks)}

    # -- lifecycle -------------------------------------------------------------------------
    def wall(self, t: float) -> datetime:
        return self.created_at + timedelta(seconds=t - self.created_mono)

    def status_at(self, t: float) -> str:
        return self.timeline.status_at(t)

    def is_done(self, t: float) -> bool:
        return self.status_at(t) in COLLECTION_OVER

    def is_active(self, t: float) -> bool:
        """Not terminal yet: another run of the squid cannot start."""
        return self.status_at(t) not in TERMINAL

    def abort(self, t: float) -> bool:
        """Abort at ``t``; False (no change) once collection is over."""
        return not self.is_done(t) and self.timeline.abort(t, ABORT_EXPORT_SECS)

    def collection_end(self) -> float:
        if self.timeline.abort_started is not None:
            return self.timeline.abort_started
        return self.timeline.when_spent("running", self.collect_secs)

    def reason(self, t: float) -> tuple[str | None, str | None]:
        """``(done_reason, done_reason_desc)`` at ``t``."""
        status = self.status_at(t)
        if status in ("pending", "running"):
            return None, None
        if status == "paused":
            return PAUSE_REASON
        if status == self.behaviour.pause_status:  # a status the documentation does not list
            return None, None
        return ABORT_REASON if self.timeline.abort_started is not None else self.behaviour.reason

    def done_reason(self, t: float) -> str | None:
        return self.reason(t)[0]

    # -- tasks -----------------------------------------------------------------------------
    def task_window(self, index: int) -> tuple[float, float]:
        """The collection seconds ``(from, to)`` of the ``index``-th task's slot."""
        batch = index // self.concurrency

        def bound(n: int) -> float:
            return self.collect_secs if n >= self._batches else self.collect_secs * n / self._batches

        return bound(batch), bound(batch + 1)

    def collected_at(self, index: int, row: int) -> float:
        """Monotonic moment the ``row``-th result (0-based) of the ``index``-th task was collected."""
        low, high = self.task_window(index)
        wanted = self.behaviour.results_per_task
        return self.timeline.when_spent("running", low + (high - low) * (row + 1) / wanted)

    def includes(self, task_hash: str) -> bool:
        return task_hash in self._index

    def progress_of(self, task: Task, t: float) -> Progress:
        return self.progress(self._index[task.hash], t)

    def progress(self, index: int, t: float) -> Progress:
        timeline = self.timeline
        low, high = self.task_window(index)
        start, end = timeline.when_spent("running", low), timeline.when_spent("running", high)
        abort = timeline.abort_started if timeline.abort_started is not None else math.inf
        wanted = self.behaviour.results_per_task
        if end <= t and end <= abort:
            status = "completed" if self.behaviour.outcome == "done" else "error"
            last = self.wall(end) if wanted else None
            return Progress(status, self.wall(start), self.wall(end), wanted, last)
        if start >= abort or start > t:
            if abort <= t:
                return Progress("aborted", None, self.wall(abort), 0, None)
            return Progress("pending", None, None, 0, None)
        spent = timeline.seconds_in("running", t) - low
        collected = math.floor(wanted * min(1.0, max(spent, 0.0) / (high - low))) if high > low else wanted
        last = self.wall(self.collected_at(index, collected - 1)) if collected else None
        if abort <= t:
            return Progress("aborted", self.wall(start), self.wall(abort), collected, last)
        return Progress("running", self.wall(start), None, collected, last)

    def all_progress(self, t: float) -> list[Progress]:
        return [self.progress(i, t) for i in range(len(self.tasks))]

    def total_results(self, t: float) -> int:
        return sum(p.collected for p in self.all_progress(t))

    # -- JSON ------------------------------------------------------------------------------
    def _ended_and_duration(self, t: float) -> tuple[datetime | None, float]:
        ended = self.wall(self.collection_end()) if self.is_done(t) else None
        return ended, ((ended or self.wall(t)) - self.created_at).total_seconds()

    def to_json(self, t: float, *, duration_text_form: bool = False) -> dict[str, Any]:
        """The run object; ``duration_text_form`` for get-run (a timedelta string there)."""
        status = self.status_at(t)
        total = self.total_results(t)
        ended, duration = self._ended_and_duration(t)
        exported = status in ("done", "aborted")
        reason, reason_desc = self.reason(t)
        return {
            "id": self.hash,
            "object": "run",
            "squid": self.squid.hash,
            "status": status,
            "is_done": status in COLLECTION_OVER,
            "created_at": zulu_iso(self.created_at),
            "started_at": zulu_iso(self.created_at),
            "ended_at": zulu_iso(ended),
            "duration": duration_text(duration) if duration_text_form else round(duration, 6),
            "credit_used": round(total * CREDITS_PER_RESULT, 2),
            "origin": self.origin,
            "total_results": total,
            "total_unique_results": total,
            "export_done": True if exported else None,
            "export_count": total if exported else 0,
            "export_time": zulu_iso(self.wall(self.timeline.terminal_at())) if exported else None,
            "done_reason": reason,
            "done_reason_desc": reason_desc,
            "next_launch_at": None,
            "force_launch": False,
            "email_done": None,
            "email_time": None,
            "email_verification": None,
        }

    def stats_json(self, t: float) -> dict[str, Any]:
        """``GET /v1/runs/{hash}/stats``: progress figures, no ``status``."""
        status = self.status_at(t)
        progress = self.all_progress(t)
        done = status in COLLECTION_OVER
        finished = sum(p.status in TASK_DONE_REASON for p in progress)
        collected = sum(p.collected for p in progress)
        spent = self.timeline.seconds_in("running", t)
        if self.collect_secs:
            percent = int(100 * min(spent / self.collect_secs, 1.0))
        else:
            percent = 100 if done else 0
        if done:
            eta = "0:00:00"
        else:
            eta = "∞" if status in ("pending", "paused") else duration_text(self.collect_secs - spent)
        ended, duration = self._ended_and_duration(t)
        current = next((task.hash for task, p in zip(self.tasks, progress) if p.status == "running"), "")
        return {
            "id": self.hash,
            "object": "run",
            "duration": duration_text(duration),
            "started_at": zulu_iso(self.created_at),
            "ended_at": zulu_iso(ended),
            "is_done": done,
            "percent_done": f"{percent}%",
            "eta": eta,
            "total_tasks": len(self.tasks),
            "total_tasks_done": finished,
            "total_tasks_left": len(self.tasks) - finished,
            "total_results": collected,
            "results_total": len(self.tasks) * self.behaviour.results_per_task,
            "results_done": collected,
            "current_task": current,
            "total_requests": sum(pages_of(p.collected, p.status == "completed") for p in progress),
            "updated_at": zulu_iso(self.wall(min(t, self.timeline.terminal_at()))),
        }

    def runtask_json(self, index: int, t: float) -> dict[str, Any]:
        """An item of ``GET /v1/runtasks?run=``."""
        task = self.tasks[index]
        p = self.progress(index, t)
        wanted = self.behaviour.results_per_task
        desc = {"aborted": ABORT_REASON[1], "error": self.behaviour.error_message}.get(p.status)
        return {
            "object": "runtask",
            "id": new_hash(f"runtask:{self.hash}:{task.hash}"),
            "task": task.hash,
            "run": self.hash,
            "status": p.status,
            "done_reason": TASK_DONE_REASON.get(p.status),
            "done_reason_desc": desc,
            "params": dict(task.params),
            "started_at": naive_iso(p.started_at),
            "ended_at": naive_iso(p.ended_at),
            "total_results": wanted,
            "last_result": p.collected,
            "total_pages": pages_of(wanted, True),
            "last_page": pages_of(p.collected, p.status == "completed"),
            "last_collection_at": naive_iso(p.last_result_at),
        }
