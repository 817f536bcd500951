"""Retry policy for API calls: bounded, exponential with jitter, honouring ``Retry-After``.

The policy is plain data (so a trigger can carry it through Airflow's serde). Blocking code gets
tenacity controllers (:meth:`RetryPolicy.sync`); the triggerer's hot path awaits
:meth:`RetryPolicy.acall`, the same waits without building a controller for every long-poll.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
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

    def delay(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait after failed try number ``attempt`` (1: the first) before the next one:
        the server's ``Retry-After`` when it said (capped at ``max_wait``), else ``initial_wait``
        doubled per try (capped at ``max_wait``) plus up to ``jitter`` random seconds. The same
        waits as the tenacity controllers."""
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

    def _wait(self) -> tenacity.wait.wait_base:
        exponential = tenacity.wait_exponential(multiplier=self.initial_wait, max=self.max_wait)
        return _WaitRetryAfterOr(exponential + tenacity.wait_random(0, self.jitter), self.max_wait)

    def _kwargs(self, retry_on: Any) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(self.max_attempts),
            "wait": self._wait(),
            "retry": tenacity.retry_if_exception(retry_on),
            "reraise": True,
        }

    def sync(self, retry_on: Callable[[BaseException], bool] = is_retryable) -> tenacity.Retrying:
        """A tenacity controller for blocking code."""
        return tenacity.Retrying(**self._kwargs(retry_on))


class _WaitRetryAfterOr(tenacity.wait.wait_base):
    """Wait what the server asked for in ``Retry-After`` when it said; otherwise the fallback."""

    def __init__(self, fallback: tenacity.wait.wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, ApiError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.cap)
        return self.fallback(retry_state)
