"""Retry policy and error classification (pure logic)."""

from __future__ import annotations

import pickle

import pytest
import tenacity

from airflow_provider_tasks.common.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
    TransportError,
    is_retryable,
    may_have_been_applied,
)
from airflow_provider_tasks.common.retry import RetryPolicy


def api_error(cls, status, retry_after=None):
    return cls(status, "t", "m", platform="P", method="GET", path="/x", retry_after=retry_after)


@pytest.mark.parametrize(
    ("error", "retry", "applied"),
    [
        (api_error(RateLimitedError, 429), True, False),
        (api_error(ServerError, 502), True, True),
        (TransportError("reset", request_sent=True), True, True),
        (TransportError("refused", request_sent=False), True, False),
        (MalformedResponseError("junk"), True, True),
        (api_error(AuthenticationError, 401), False, False),
        (api_error(ApiError, 400), False, False),
    ],
)
def test_classification(error, retry, applied):
    assert is_retryable(error) is retry
    assert may_have_been_applied(error) is applied


def test_errors_survive_pickling_with_their_fields():
    error = pickle.loads(pickle.dumps(api_error(RateLimitedError, 429, retry_after=2.0)))
    assert isinstance(error, RateLimitedError) and error.retry_after == 2.0 and "429" in str(error)
    transport = pickle.loads(pickle.dumps(TransportError("x", request_sent=False)))
    assert transport.request_sent is False


def test_policy_round_trips_through_plain_data():
    policy = RetryPolicy(max_attempts=3, initial_wait=0.1, max_wait=2, jitter=0)
    assert RetryPolicy.from_value(policy.to_dict()) == policy
    assert RetryPolicy.from_value(None) == RetryPolicy()
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def _waits(policy, errors):
    waits = []
    retrying = policy.sync()
    retrying.sleep = waits.append
    calls = iter(errors)

    def call():
        error = next(calls, None)
        if error is not None:
            raise error
        return "ok"

    return retrying(call), waits


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(max_attempts=5, initial_wait=0.1, max_wait=4, jitter=0)
    result, waits = _waits(policy, [api_error(RateLimitedError, 429, 2.5), api_error(RateLimitedError, 429, 99)])
    assert result == "ok" and waits == [2.5, 4]


def test_exponential_backoff_without_retry_after():
    policy = RetryPolicy(max_attempts=4, initial_wait=0.5, max_wait=10, jitter=0)
    result, waits = _waits(policy, [api_error(ServerError, 500)] * 3)
    assert result == "ok" and waits == [0.5, 1.0, 2.0]


def test_non_retryable_errors_fail_at_once_and_budget_is_bounded():
    policy = RetryPolicy(max_attempts=3, initial_wait=0, jitter=0)
    with pytest.raises(AuthenticationError):
        _waits(policy, [api_error(AuthenticationError, 401)])
    with pytest.raises(ServerError):
        _waits(policy, [api_error(ServerError, 500)] * 3)
    assert isinstance(policy.sync(), tenacity.Retrying)


def _async_waits(policy, errors):
    """The same as :func:`_waits` through :meth:`RetryPolicy.acall` (the triggerer's path)."""
    import asyncio
    from unittest import mock

    waits = []
    calls = iter(errors)
    tries = []

    async def call():
        tries.append(1)
        error = next(calls, None)
        if error is not None:
            raise error
        return "ok"

    async def sleep(seconds):
        waits.append(seconds)

    with mock.patch("airflow_provider_tasks.common.retry.asyncio.sleep", sleep):
        return asyncio.run(policy.acall(call)), waits, len(tries)


def test_the_async_path_waits_as_the_sync_controller_does():
    policy = RetryPolicy(max_attempts=5, initial_wait=0.1, max_wait=4, jitter=0)
    errors = [api_error(RateLimitedError, 429, 2.5), api_error(RateLimitedError, 429, 99)]
    assert _async_waits(policy, list(errors))[:2] == _waits(policy, list(errors)) == ("ok", [2.5, 4])
    policy = RetryPolicy(max_attempts=4, initial_wait=0.5, max_wait=10, jitter=0)
    errors = [api_error(ServerError, 500)] * 3
    assert _async_waits(policy, list(errors)) == ("ok", [0.5, 1.0, 2.0], 4)
    jittered = RetryPolicy(max_attempts=2, initial_wait=0.5, max_wait=10, jitter=1)
    _, waits, _ = _async_waits(jittered, [api_error(ServerError, 500)])
    assert 0.5 <= waits[0] <= 1.5


def test_the_async_path_fails_at_once_on_permanent_errors_and_bounds_its_tries():
    policy = RetryPolicy(max_attempts=3, initial_wait=0, jitter=0)
    with pytest.raises(AuthenticationError):
        _async_waits(policy, [api_error(AuthenticationError, 401)])
    with pytest.raises(ServerError):
        _async_waits(policy, [api_error(ServerError, 500)] * 3)


def test_a_loop_that_never_gives_up_doubles_its_wait_to_the_cap_and_starts_over_after_a_success():
    from airflow_provider_tasks.common.retry import Backoff

    backoff = Backoff(1.0, 6.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 6.0, 6.0]
    backoff.reset()
    assert backoff.next() == 1.0
