"""Which runs of a target finished since the last look: the bookkeeping of a run-finished watcher.

Sans-IO: the watcher lists the target's runs newest-started first and hands them here as
:class:`Listed`; this module says which ones newly finished, in finish order, and what the
:class:`Mark` (the watermark) becomes after each one. The mark is plain JSON so it can live in
Airflow's asset state store and survive triggerer restarts.

Why a mark is more than a timestamp: the APIs sort runs by *start*, not by finish, so a run that
started long ago and finishes now sits deep in the list. The mark therefore remembers the runs it
saw unfinished (``open``, with their start times); each look lists back to the oldest of those
starts (:meth:`Mark.cutoff`) and a run of ``open`` that ended is new whatever its finish time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tasks.common.times import parse_time


@dataclass(frozen=True)
class Listed:
    """A run as a list page shows it: its id, start and finish (epoch seconds), whether it ended."""

    id: str
    started: float | None
    finished: float | None
    terminal: bool
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def listed(raw: Mapping[str, Any], *, started: str | None, finished: str | None, terminal: bool) -> Listed:
    """A list item as :class:`Listed`: ``started``/``finished`` are the item's timestamps as the
    API sends them (each platform names them its own way)."""
    start, end = parse_time(started), parse_time(finished)
    return Listed(
        id=str(raw["id"]),
        started=start.timestamp() if start else None,
        finished=end.timestamp() if end else None,
        terminal=terminal,
        raw=raw,
    )


@dataclass(frozen=True)
class Mark:
    """How far a watcher got: every run that finished before ``finished``, every run of ``ids``
    (those that finished exactly at ``finished``) has been handled, except the runs of ``open``
    (id → start), which were seen unfinished and are watched until they end."""

    finished: float
    ids: frozenset[str] = frozenset()
    open: Mapping[str, float] = field(default_factory=dict)

    def cutoff(self) -> float:
        """Listing newest-started first may stop below this start time: nothing older can be new."""
        return min([self.finished, *self.open.values()])

    def is_new(self, run: Listed) -> bool:
        """Whether ``run`` (terminal) has not been handled yet."""
        if run.id in self.open:
            return True
        if run.finished is None:  # ended without a finish time: only an open run can be placed
            return False
        return run.finished > self.finished or (run.finished == self.finished and run.id not in self.ids)

    def to_json(self) -> dict[str, Any]:
        return {"finished": self.finished, "ids": sorted(self.ids), "open": dict(sorted(self.open.items()))}

    @classmethod
    def from_json(cls, value: Any) -> Mark | None:
        """The mark stored by :meth:`to_json`, or None for anything else (nothing stored yet)."""
        if not isinstance(value, Mapping) or not isinstance(value.get("finished"), (int, float)):
            return None
        opened = value.get("open") or {}
        return cls(
            finished=float(value["finished"]),
            ids=frozenset(str(i) for i in value.get("ids") or ()),
            open={str(k): float(v) for k, v in opened.items()} if isinstance(opened, Mapping) else {},
        )


def baseline(listed: Iterable[Listed], now: float) -> Mark:
    """The mark of a watcher that starts with nothing stored: runs that already ended are history
    (never fired), runs still going are watched. ``now`` (the watcher's clock) places the mark
    when no listed run has ended."""
    runs = list(listed)
    ends = [run.finished for run in runs if run.terminal and run.finished is not None]
    newest = max(ends) if ends else now
    return Mark(
        finished=newest,
        ids=frozenset(run.id for run in runs if run.terminal and run.finished == newest),
        open={run.id: _start(run, newest) for run in runs if not run.terminal},
    )


def newly_finished(mark: Mark, listed: Iterable[Listed]) -> tuple[list[tuple[Listed, Mark]], Mark]:
    """The runs of ``listed`` that finished since ``mark``, oldest finish first, each with the mark
    once it is handled; and the mark after this look (runs seen unfinished added to ``open``).

    Each intermediate mark keeps the later runs of this look in ``open``: a restart that stored
    only the first few marks still lists, and fires, the rest.
    """
    runs = list(listed)
    new = sorted((run for run in runs if run.terminal and mark.is_new(run)), key=_finish_order)
    still_open = {run.id: _start(run, mark.finished) for run in runs if not run.terminal}
    pending = {run.id: _start(run, mark.finished) for run in new}
    steps: list[tuple[Listed, Mark]] = []
    current = mark
    for run in new:
        del pending[run.id]
        current = _after(current, run, {**_kept_open(current.open, runs), **still_open, **pending})
        steps.append((run, current))
    final = Mark(current.finished, current.ids, {**_kept_open(current.open, runs), **still_open})
    return steps, final


def _after(mark: Mark, run: Listed, open_runs: dict[str, float]) -> Mark:
    finished = run.finished if run.finished is not None else mark.finished
    if finished > mark.finished:
        return Mark(finished, frozenset({run.id}), open_runs)
    if finished == mark.finished:
        return Mark(finished, mark.ids | {run.id}, open_runs)
    return Mark(mark.finished, mark.ids, open_runs)  # an open run that ended before the mark


def _kept_open(opened: Mapping[str, float], runs: list[Listed]) -> dict[str, float]:
    """Open runs this look did not see at all (listing stopped above them? then they are still
    going, or they vanished): kept, so they are looked for again."""
    seen = {run.id for run in runs}
    return {run_id: started for run_id, started in opened.items() if run_id not in seen}


def _start(run: Listed, default: float) -> float:
    return run.started if run.started is not None else default


def _finish_order(run: Listed) -> tuple[float, str]:
    return (run.finished if run.finished is not None else float("-inf"), run.id)


__all__ = ["Listed", "Mark", "baseline", "listed", "newly_finished"]
