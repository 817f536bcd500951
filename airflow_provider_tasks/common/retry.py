"""Waiting and trying again: one place for every wait after a failure.

:class:`RetryPolicy` repeats one API call a bounded number of times, waiting
:meth:`RetryPolicy.delay` between tries (exponential with jitter, or the server's
``Retry-After``). It is plain data, so a trigger can carry it through Airflow's serde. Blocking
code gets a tenacity controller (:meth:`RetryPolicy.sync`) whose waits are that same ``delay``;
the triggerer's hot path awaits :meth:`RetryPolicy.acall`, the same waits without building a
controller for every long-poll. :class:`Backoff` spaces the looks of loops that never give up
(a trigger that outlives a transient error, a watcher that lives as long as its DAG).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import tenacity

from airflow_provider_tasks.common.errors import ApiError, is_retryable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is repeated after a transient failure.

    :param max_attempts: total tries including the first one (1 disables retries).
    :param initial_wait: seconds before the first retry; doubles each time, with jitter.
    :param max_wait: cap for one wait, also applied to a server's ``Retry-After``.
    :param jitter: up to this many random seconds added to each exponential wait.
    """

    max_attempts: int = 8
    initial_wait: float = 0.5
    max_wait: float = 30.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"retry max_attempts must be >= 1, got {self.max_attempts}")
        if self.initial_wait < 0 or self.max_wait < 0 or self.jitter < 0:
            raise ValueError("retry waits must be >= 0")

    @classmethod
    def from_value(cls, value: RetryPolicy | dict[str, Any] | None) -> RetryPolicy:
        """Accept a policy, its dict form (as stored in trigger kwargs), or None for the default."""
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        return cls(**value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1: the first) before the next one:
        the server's ``Retry-After`` when it said (capped at ``max_wait``), else ``initial_wait``
        doubled per try (capped at ``max_wait``) plus up to ``jitter`` random seconds."""
        if isinstance(error, ApiError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_wait)
        exponential = min(self.initial_wait * 2.0 ** min(attempt - 1, 64), self.max_wait)
        return exponential + random.uniform(0, self.jitter)

    async def acall(
        self, call: Callable[[], Awaitable[T]], retry_on: Callable[[BaseException], bool] = is_retryable
    ) -> T:
        """Await ``call()``, repeating it after a transient failure: at most ``max_attempts`` tries
        with :meth:`delay` between them, the last error re-raised. Nothing is built per call, so
        a trigger's long-poll pays only for the retries it needs (cancellation is never retried)."""
        attempt = 1
        while True:
            try:
                return await call()
            except Exception as error:
                if attempt >= self.max_attempts or not retry_on(error):
                    raise
                wait = self.delay(attempt, error)
            await asyncio.sleep(wait)
            attempt += 1

    def tenacity_wait(self, retry_state: tenacity.RetryCallState) -> float:
        """:meth:`delay`, as tenacity asks for a wait."""
        outcome = retry_state.outcome
        return self.delay(retry_state.attempt_number, outcome.exception() if outcome is not None else None)

    def sync(self, retry_on: Callable[[BaseException], bool] = is_retryable) -> tenacity.Retrying:
        """A tenacity controller for blocking code, waiting :meth:`delay` between tries."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self.tenacity_wait,
            retry=tenacity.retry_if_exception(retry_on),
            reraise=True,
        )


@dataclass
class Backoff:
    """The wait before the next look of a loop that never gives up: ``initial`` seconds after the
    first failure, doubling after each further one up to ``cap``, back to ``initial`` after a
    success (:meth:`reset`)."""

    initial: float
    cap: float
    _next: float = field(init=False)

    def __post_init__(self) -> None:
        self._next = self.initial

    def next(self) -> float:
        """The wait after one more failure."""
        wait, self._next = self._next, min(self._next * 2, self.cap)
        return wait

    def reset(self) -> None:
        self._next = self.initial
