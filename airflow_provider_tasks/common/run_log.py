"""The remote run's own log in the Airflow task log: its last lines when the run fails, and, in a
worker, the whole log as the run writes it.

A platform whose API serves run logs mixes :class:`RemoteRunLog` into its run operator (before
:class:`~airflow_provider_tasks.common.run_operator.RemoteRunOperator`, whose hook points for the
run's log it fills in) and gives its hook the methods of :class:`RunLogHook`. Each remote line in
the task log is prefixed ``[<platform> run <id>] ``, cut to a bounded size, without terminal
control sequences, and with the connection's token replaced by ``***``. Fetching the log never
masks the real failure: when it fails, a warning says so and the task fails with the run's own error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.log_lines import last_within, safe_line

if TYPE_CHECKING:
    import logging

    from airflow_provider_tasks.common.streams import StreamedLines
    from airflow_provider_tasks.common.waiting import Deadline

DEFAULT_TAIL_LINES = 50
MAX_TAIL_LINES = 10_000
MAX_LINE_CHARS = 1_000
"""Characters of one remote log line shown in the task log (a longer one is cut and says so)."""
MAX_TAIL_CHARS = 20_000
"""Characters of a failed run's log tail in all: earlier lines are left out past it (and counted)."""
FOLLOW_SECONDS_WITHOUT_DEADLINE = 7 * 24 * 3600.0
"""How long a streamed log is followed when the wait has no deadline."""
TAIL_ATTEMPTS = 3
TAIL_MAX_WAIT = 2.0
"""Tries, and the longest wait between two, for a failed run's log tail (fewer than other calls)."""
EMPTY_STREAM_PAUSE = 0.5
EMPTY_STREAM_MAX_PAUSE = 5.0
"""Pauses before a log stream that came back empty (nothing logged yet) is opened again."""
STREAM_END_GRACE = 10.0
"""Seconds the wait gives the log stream, once the run has ended, to deliver its last lines."""


def require_log_tail_lines(value: Any) -> int:
    """``log_tail_lines``: an integer from 0 (off) to :data:`MAX_TAIL_LINES`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TAIL_LINES:
        raise ConfigurationError(
            f"log_tail_lines must be an integer from 0 (no log lines) to {MAX_TAIL_LINES}, got {value!r}"
        )
    return value


class RunLogHook(Protocol):
    """What a platform hook offers for run logs (see ``ApifyHook``)."""

    def get_run_log_tail(self, run_id: str, lines: int = DEFAULT_TAIL_LINES, *, max_line_chars: int = ...) -> list[str]:
        """The log's last ``lines`` lines."""

    def open_run_log_stream(self, run_id: str, *, follow_secs: float, max_line_chars: int = ...) -> StreamedLines:
        """The log from its start, then each line as the run writes it, until the run ends."""


def log_secrets(hook: Any) -> list[str]:
    """What must never show in a task log: the connection's token (read by the hook already)."""
    token = hook.transport.endpoint.token
    return [token] if token else []


def fetched_line_chars(secrets: list[str]) -> int:
    """Characters of a line to fetch: past :data:`MAX_LINE_CHARS` by the longest secret, so that a
    secret straddling the cut is still whole, and replaced, when the line is made safe."""
    return MAX_LINE_CHARS + max((len(secret) for secret in secrets), default=0) + 1


def log_tail(
    log: logging.Logger | Any,
    hook: RunLogHook,
    *,
    platform: str,
    run_id: str,
    url: str | None,
    lines: int,
    secrets: list[str],
) -> None:
    """Put the last ``lines`` lines of the run's log into ``log``: a header, then each line,
    prefixed; on any failure to fetch them a warning instead (never raises)."""
    where = f" ({url})" if url else ""
    try:
        fetched = hook.get_run_log_tail(run_id, lines, max_line_chars=fetched_line_chars(secrets))
    except Exception as error:
        log.warning("Could not fetch the log of %s run %s to show its last lines: %s", platform, run_id, error)
        return
    if not fetched:
        log.info("The log of %s run %s is empty%s", platform, run_id, where)
        return
    shown, left_out = last_within([safe_line(line, secrets, MAX_LINE_CHARS) for line in fetched], MAX_TAIL_CHARS)
    note = f"; {left_out} earlier lines left out, over {MAX_TAIL_CHARS} characters" if left_out else ""
    log.info("Last %d lines of %s run %s log%s%s:", len(shown), platform, run_id, where, note)
    prefix = line_prefix(platform, run_id)
    for line in shown:
        log.info("%s%s", prefix, line)


def line_prefix(platform: str, run_id: str) -> str:
    """What marks a line of the remote run's log in the task log."""
    return f"[{platform} run {run_id}] "


class LogFollower:
    """A daemon thread that copies a run's streamed log into ``log`` as the run writes it, until the
    server ends the stream (the run ended) or :meth:`stop` aborts it (the wait timed out, failed or
    was killed), so no read is left waiting.

    A run still waiting to start answers an empty stream that ends at once: it is opened again after
    a pause that doubles from :data:`EMPTY_STREAM_PAUSE` up to :data:`EMPTY_STREAM_MAX_PAUSE`, and
    once more after :meth:`run_ended` (its lines may have come since). A stream that fails is a
    warning in the task log, never the task's failure.
    """

    def __init__(
        self, log: logging.Logger | Any, hook: RunLogHook, *, platform: str, run_id: str, follow_secs: float,
        secrets: list[str],
    ) -> None:  # fmt: skip
        self.log, self.hook, self.platform, self.run_id = log, hook, platform, run_id
        self.follow_secs, self.secrets = follow_secs, secrets
        self.lines = 0
        self._lock = threading.Lock()
        self._stopping = False
        self._run_over = False
        self._wake = threading.Event()
        self._stream: StreamedLines | None = None
        self._thread = threading.Thread(target=self._run, name=f"{platform}-run-log-{run_id}", daemon=True)

    def start(self) -> LogFollower:
        self.log.info("Following the log of %s run %s as it is written (stream_log=True)", self.platform, self.run_id)
        self._thread.start()
        return self

    def _run(self) -> None:
        pause = EMPTY_STREAM_PAUSE
        try:
            while not self._stopping:
                over = self._run_over
                if self._follow_once() or self._stopping or over:
                    return
                self._wake.wait(pause)  # woken early by stop() or run_ended()
                self._wake.clear()
                pause = min(pause * 2, EMPTY_STREAM_MAX_PAUSE)
        except Exception as error:
            if not self._stopping:
                self.log.warning("Stopped following the log of %s run %s: %s", self.platform, self.run_id, error)

    def _follow_once(self) -> int:
        """Copy one stream's lines until it ends; how many there were."""
        prefix = line_prefix(self.platform, self.run_id)
        stream = self.hook.open_run_log_stream(
            self.run_id, follow_secs=self.follow_secs, max_line_chars=fetched_line_chars(self.secrets)
        )
        with self._lock:
            self._stream = stream
            stopping = self._stopping
        if stopping:
            stream.abort()
        before = self.lines
        try:
            for line in stream:
                if self._stopping:
                    break
                self.log.info("%s%s", prefix, safe_line(line, self.secrets, MAX_LINE_CHARS))
                self.lines += 1
        finally:
            with self._lock:
                self._stream = None
            stream.close()
        return self.lines - before

    def run_ended(self) -> None:
        """The run is over: its stream ends by itself; an empty one is not waited on again."""
        self._run_over = True
        self._wake.set()

    def finished(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds for the stream to end by itself; True when it did."""
        self._thread.join(grace)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """End the stream now and wait (briefly) for the thread."""
        with self._lock:
            self._stopping = True
            stream = self._stream
        self._wake.set()
        if stream is not None:
            with suppress(Exception):
                stream.abort()
        self._thread.join(5.0)


class RemoteRunLog:
    """Mixed into a platform's run operator (before ``RemoteRunOperator``): the run's log in the
    task log. The operator sets :attr:`log_tail_lines` and :attr:`stream_log` in its ``__init__``."""

    log_tail_lines: int = DEFAULT_TAIL_LINES
    stream_log: bool = False
    platform: ClassVar[str]

    if TYPE_CHECKING:
        followed_run_url: str | None

        @property
        def log(self) -> Any: ...  # BaseOperator's task logger (its type differs by Airflow version)

        def make_hook(self) -> Any: ...

    def on_run_failed(self, run_id: str | None) -> None:
        """The task is about to fail for run ``run_id``: its last lines into the task log.

        Through a hook of its own whose retries are few and short (:data:`TAIL_ATTEMPTS`,
        :data:`TAIL_MAX_WAIT`): the lines help, but must not hold the failure back for long."""
        if not run_id or not self.log_tail_lines:
            return
        hook = self.make_hook()
        policy = hook.retry_policy
        hook.retry_policy = replace(
            policy, max_attempts=min(policy.max_attempts, TAIL_ATTEMPTS), max_wait=min(policy.max_wait, TAIL_MAX_WAIT)
        )
        with closing(hook):
            try:
                log_tail(
                    self.log, hook, platform=self.platform, run_id=run_id, url=self.followed_run_url,
                    lines=self.log_tail_lines, secrets=log_secrets(hook),
                )  # fmt: skip
            except Exception as error:  # the connection itself failed: the task's error says so
                self.log.warning("Could not fetch the log of %s run %s: %s", self.platform, run_id, error)

    @contextmanager
    def following_log(self, run_id: str, deadline: Deadline) -> Iterator[None]:
        """Around a wait in the worker: with :attr:`stream_log`, the log copied as the run writes it."""
        if not self.stream_log:
            yield
            return
        with closing(self.make_hook()) as hook:  # its own HTTP session: the wait's goes on in this thread
            try:
                remaining = deadline.remaining()
                follower = LogFollower(
                    self.log, hook, platform=self.platform, run_id=run_id, secrets=log_secrets(hook),
                    follow_secs=FOLLOW_SECONDS_WITHOUT_DEADLINE if remaining is None else remaining,
                ).start()  # fmt: skip
            except Exception as error:
                self.log.warning("Could not follow the log of %s run %s: %s", self.platform, run_id, error)
                yield
                return
            try:
                yield
                follower.run_ended()
                follower.finished(STREAM_END_GRACE)
            finally:
                follower.stop()
