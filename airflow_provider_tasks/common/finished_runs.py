"""Sans-IO bookkeeping of a run-finished watcher: which listed runs newly finished, and the watermark after each.

The APIs sort runs by *start*, so a run started long ago that finishes now sits deep in the list: the
:class:`Mark` (plain JSON, for the asset state store) remembers the runs it saw unfinished (``open``), and each
look lists back to the oldest of their starts (:meth:`Mark.cutoff`).
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
    """A list item as :class:`Listed`; ``started``/``finished`` are its timestamps as the API sends them."""
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
    """How far a watcher got: runs finished before ``finished``, and those of ``ids`` (finished exactly then), are
    handled; runs of ``open`` (id → start) were seen unfinished and are watched until they end."""

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
    """The mark of a watcher with nothing stored: ended runs are history (never fired), runs still going are
    watched; ``now`` places the mark when no listed run has ended."""
    runs = list(listed)
    newest = max((run.finished for run in runs if run.terminal and run.finished is not None), default=now)
    return Mark(
        finished=newest,
        ids=frozenset(run.id for run in runs if run.terminal and run.finished == newest),
        open={run.id: _start(run, newest) for run in runs if not run.terminal},
    )


def newly_finished(mark: Mark, listed: Iterable[Listed]) -> tuple[list[tuple[Listed, Mark]], Mark]:
    """The runs newly finished since ``mark``, oldest finish first, each with the mark once handled, and the mark
    after this look. Each intermediate mark keeps this look's later runs ``open``, so a restart fires the rest."""
    runs = list(listed)
    seen = {run.id for run in runs}
    # Open runs this look did not see (listing stopped above them, or they vanished) are kept, to look for again.
    watched = {run_id: started for run_id, started in mark.open.items() if run_id not in seen}
    watched.update({run.id: _start(run, mark.finished) for run in runs if not run.terminal})
    new = sorted((run for run in runs if run.terminal and mark.is_new(run)), key=_finish_order)
    pending = {run.id: _start(run, mark.finished) for run in new}
    steps: list[tuple[Listed, Mark]] = []
    current = mark
    for run in new:
        del pending[run.id]
        current = _after(current, run, {**watched, **pending})
        steps.append((run, current))
    return steps, Mark(current.finished, current.ids, watched)


def _after(mark: Mark, run: Listed, open_runs: dict[str, float]) -> Mark:
    finished = run.finished if run.finished is not None else mark.finished
    if finished > mark.finished:
        return Mark(finished, frozenset({run.id}), open_runs)
    if finished == mark.finished:
        return Mark(finished, mark.ids | {run.id}, open_runs)
    return Mark(mark.finished, mark.ids, open_runs)  # an open run that ended before the mark


def _start(run: Listed, default: float) -> float:
    return run.started if run.started is not None else default


def _finish_order(run: Listed) -> tuple[float, str]:
    return (run.finished if run.finished is not None else float("-inf"), run.id)


__all__ = ["Listed", "Mark", "baseline", "listed", "newly_finished"]
