"""The emulators' clock: wall time for timestamps, monotonic time for state progression.

Both share one offset, so a test can jump ahead (``EmulatorServer.advance``) instead of sleeping:
a run due to finish in 120 s finishes now, and its ``finishedAt`` reads 120 s after ``startedAt``.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall and monotonic time sharing one offset, so ``advance`` moves both (thread-safe)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """Seconds on a never-decreasing scale: drives run lifecycles and deadlines."""
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        """Current UTC time (aware), for timestamps in API objects."""
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
