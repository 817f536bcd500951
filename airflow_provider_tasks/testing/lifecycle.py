"""Jobs whose status is a pure function of the emulator's monotonic clock (every platform's runs).

A :class:`Timeline` is a start moment, a list of phases ``(status, seconds)`` played in order, and
the terminal ``outcome`` reached after the last phase. Nothing ticks in the background: the status
at time ``t`` is computed, so ``EmulatorServer.advance`` moves every run at once and a long-poll
can sleep exactly until :meth:`Timeline.terminal_at`. A phase may last ``math.inf`` (a run that
never leaves it); a status may appear in several phases (running, paused, running again).

An abort at ``t`` freezes the phases: the job shows ``aborting`` for ``settle_secs`` and then
``aborted``. Apify's ``READY -> RUNNING -> SUCCEEDED`` and Lobstr.io's
``pending -> running -> uploading -> done`` are both timelines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Timeline:
    """Phases from ``start`` on the monotonic clock, then ``outcome``; abortable once."""

    start: float
    phases: Sequence[tuple[str, float]]
    outcome: str
    aborting: str
    aborted: str
    abort_started: float | None = None
    abort_done: float | None = None
    _ends: list[float] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        moment = self.start
        for status, seconds in self.phases:
            if not seconds >= 0:
                raise ValueError(f"phase {status!r} needs seconds >= 0, got {seconds!r}")
            moment += seconds
            self._ends.append(moment)

    def phase_end(self, index: int) -> float:
        """Moment the ``index``-th phase ends (negative indexes count from the last)."""
        return self._ends[index]

    def status_at(self, t: float) -> str:
        if self.abort_started is not None and t >= self.abort_started:
            assert self.abort_done is not None
            return self.aborted if t >= self.abort_done else self.aborting
        for (status, _), end in zip(self.phases, self._ends):
            if t < end:
                return status
        return self.outcome

    def natural_end(self) -> float:
        """Moment the phases run out (``inf`` when one of them never ends)."""
        return self._ends[-1] if self._ends else self.start

    def terminal_at(self) -> float:
        """Moment the job is (or will be) terminal: the abort's settling, else the natural end."""
        return self.abort_done if self.abort_done is not None else self.natural_end()

    def abort(self, t: float, settle_secs: float = 0.0) -> bool:
        """Abort at ``t``; False (and no change) when already terminal. A second abort can only
        make the settling shorter."""
        if t >= self.terminal_at():
            return False
        if self.abort_started is None or self.abort_done is None:
            self.abort_started, self.abort_done = t, t + settle_secs
        else:
            self.abort_done = min(self.abort_done, t + settle_secs)
        return True

    def seconds_in(self, status: str, t: float) -> float:
        """Seconds spent in phases named ``status`` before ``t`` (an abort stops the count)."""
        until = t if self.abort_started is None else min(t, self.abort_started)
        spent = 0.0
        begin = self.start
        for (name, _), end in zip(self.phases, self._ends):
            if name == status and until > begin:
                spent += min(until, end) - begin
            begin = end
        return spent

    def when_spent(self, status: str, seconds: float) -> float:
        """Moment ``seconds`` seconds of ``status`` phases have passed (``inf``: never), ignoring
        any abort: the inverse of :meth:`seconds_in`."""
        begin = self.start
        for (name, length), end in zip(self.phases, self._ends):
            if name == status:
                if seconds <= length:
                    return begin + seconds
                seconds -= length
            begin = end
        return math.inf
