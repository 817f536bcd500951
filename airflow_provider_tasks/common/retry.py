"""Waiting and trying again: one place for every wait after a failure.

:class:`RetryPolicy` repeats one API call, waiting :meth:`~RetryPolicy.delay` between tries
(exponential with jitter, or the server's ``Retry-After``): through tenacity in blocking code, and
through :meth:`~RetryPolicy.acall` on the triggerer's hot path, which builds no controller per
long-poll. :class:`Backoff` spaces the looks of loops that never give up (triggers, watchers).
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
        """A policy, its dict form (as in trigger kwargs), or None for the default."""
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        return cls(**value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed try ``attempt`` (1: the first): the server's ``Retry-After``,
        else ``initial_wait`` doubled per try; either capped at ``max_wait``, plus jitter."""
        if isinstance(error, ApiError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_wait)
        exponential = min(self.initial_wait * 2.0 ** min(attempt - 1, 64), self.max_wait)
        return exponential + random.uniform(0, self.jitter)

    async def acall(
        self, call: Callable[[], Awaitable[T]], retry_on: Callable[[BaseException], bool] = is_retryable
    ) -> T:
        """Await ``call()``, repeating it after a transient failure as :meth:`sync` does."""
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
    """Waits of a loop that never gives up: ``initial`` seconds, doubling per failure up to ``cap``,
    back to ``initial`` on :meth:`reset`."""

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
