"""What a long wait tells the task (or triggerer) log: status and progress when they change, rate-limited."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from airflow_provider_tasks.common.snapshot import Snapshot

PROGRESS_LOG_SECONDS = 60.0
"""A wait logs the run's status and progress when they change, at most this often."""

TRIGGER_PROGRESS_LOG_SECONDS = 300.0
"""The same for a trigger, which also keeps its first look to itself: its lines go synchronously
through the triggerer's supervisor, and 10,000 runs logging once a minute deadlocked Airflow 3.3.2's
triggerer. The task logs the start before deferring and the end when it resumes."""


@dataclass
class ProgressLog:
    """What a long wait tells the log, without flooding it: one warning per unknown status, and the
    status and progress when they change, at most once per ``every`` seconds. The first look is
    logged unless the run already ended (the task logs that) or ``log_first_look`` is False (triggers).
    ``clock`` is injectable so a test can check the rate limit without sleeping."""

    log: logging.Logger | Any
    platform: str
    _: KW_ONLY
    every: float = PROGRESS_LOG_SECONDS
    clock: Callable[[], float] = time.monotonic
    log_first_look: bool = True
    _unknown: set[str] = field(default_factory=set, init=False, repr=False)
    _shown: tuple[str, str | None] | None = field(default=None, init=False, repr=False)
    _shown_at: float | None = field(default=None, init=False, repr=False)

    def record(self, snapshot: Snapshot) -> None:
        if snapshot.unknown and snapshot.status not in self._unknown:
            self._unknown.add(snapshot.status)
            self.log.warning(
                "%s run %s reports status %r, which this provider does not know; treating it as "
                "still running (the wait's timeout ends it if the run never finishes)",
                self.platform,
                snapshot.id,
                snapshot.status,
            )
        state = (snapshot.status, snapshot.progress)
        if state == self._shown:
            return
        if self._shown_at is None and (snapshot.terminal or not self.log_first_look):
            # ended before the wait saw it going, or a trigger's first look: remembered, not told
            self._shown_at = self.clock()
            self._shown = state
            return
        now = self.clock()
        if self._shown_at is not None and now - self._shown_at < self.every:
            return
        self._shown, self._shown_at = state, now
        detail = f" ({snapshot.progress})" if snapshot.progress else ""
        self.log.info("%s run %s is %s%s", self.platform, snapshot.id, snapshot.status, detail)
