"""The emulators' clock: wall time for timestamps, monotonic time for state progression.

Both share one offset, so a test can jump ahead (``EmulatorServer.advance``) instead of sleeping:
a run due to finish in 120 s finishes now, and its ``finishedAt`` reads 120 s after ``startedAt``.
A frozen clock moves only when advanced, so a test that checks exact progress (a percentage, a
cost per second) does not depend on how long a busy machine took between two requests.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall and monotonic time sharing one offset, so ``advance`` moves both (thread-safe)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: tuple[float, datetime] | None = None  # the real (monotonic, wall) time it stopped at
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """Seconds on a never-decreasing scale: drives run lifecycles and deadlines."""
        frozen = self._frozen
        return (frozen[0] if frozen else time.monotonic()) + self._offset

    def now(self) -> datetime:
        """Current UTC time (aware), for timestamps in API objects."""
        frozen = self._frozen
        return (frozen[1] if frozen else datetime.now(timezone.utc)) + timedelta(seconds=self._offset)

    def freeze(self) -> None:
        """Stop real time from moving the clock: from now on only :meth:`advance` does."""
        with self._lock:
            if self._frozen is None:
                self._frozen = (time.monotonic(), datetime.now(timezone.utc))

    def thaw(self) -> None:
        """Let real time move the clock again; it jumps to the real time (it never goes back)."""
        with self._lock:
            self._frozen = None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
