"""Answers bounded in time and size, both platforms, sync and async, over real HTTP.

- ``drip``: a server that sends its body a byte at a time must not hold a call past the request's
  timeout (``requests``' own timeout is per socket read); the timeout is a retryable
  :class:`TransportError`.
- ``oversized``: an answer over the cap is a :class:`ResponseTooLargeError` (not retried), found
  from ``Content-Length`` when there is one and while streaming when there is none.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import ResponseTooLargeError, TransportError, is_retryable
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.sansio import DEFAULT_MAX_BODY
from airflow_provider_tasks.lobstr.hooks import LobstrHook

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)
MIB = 1024 * 1024
PLATFORMS = {"apify": (ApifyHook, r"^/v2/users/me$"), "lobstr": (LobstrHook, r"^/v1/me$")}


@pytest.fixture(params=sorted(PLATFORMS))
def env(request):
    name = request.param
    emulator = request.getfixturevalue(f"{name}_emulator")
    request.getfixturevalue(f"{name}_conn_env")
    hook_class, path = PLATFORMS[name]
    return emulator, (lambda **kw: hook_class(retry_policy=FAST, **kw)), path


def call(hook, *, asynchronous: bool, retry: bool = True, **changes):
    request = dataclasses.replace(hook.auth_check_request(), **changes)
    if not asynchronous:
        return hook.send(request, retry=retry)

    async def run():
        try:
            return await hook.asend(request, retry=retry)
        finally:
            await hook.aclose()

    return asyncio.run(run())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_dripping_body_times_out_within_the_request_timeout_and_is_retried(env, asynchronous):
    emulator, make, path = env
    emulator.faults.add("drip", seconds=0.05, count=None, path=path)  # ~250 bytes: > 10 s a body
    with pytest.raises(TransportError, match=r"timed out after the request was sent.*within 1 s") as caught:
        call(make(timeout=1.0), asynchronous=asynchronous, retry=False)
    assert is_retryable(caught.value) and caught.value.request_sent
    emulator.faults.clear()
    emulator.faults.add("drip", seconds=0.05, count=1, path=path)
    assert call(make(timeout=1.0), asynchronous=asynchronous).status == 200  # the retry gets a whole answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_answer_over_the_cap_is_refused_and_not_retried(env, asynchronous, chunked):
    emulator, make, path = env
    emulator.faults.add("oversized", size=8 * MIB, chunked=chunked, count=None, path=path)
    said = "passed 1.0 MiB and was still going" if chunked else "announces 8.0 MiB"
    with pytest.raises(ResponseTooLargeError, match=f"with a body that {said}, over the 1.0 MiB cap") as caught:
        call(make(), asynchronous=asynchronous, max_body=MIB)
    assert not is_retryable(caught.value)
    assert emulator.stats()["total"] == 1, "an oversized answer is not asked for again"
    assert call(make(), asynchronous=asynchronous, max_body=16 * MIB).status == 200  # a larger cap reads it


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_default_cap_refuses_a_200_mb_run_object_from_its_content_length(env, asynchronous):
    emulator, make, path = env
    emulator.faults.add("oversized", size=200 * 1000 * 1000, count=1, path=path)
    with pytest.raises(
        ResponseTooLargeError, match=rf"announces 190.7 MiB, over the {DEFAULT_MAX_BODY // MIB}.0 MiB cap"
    ):
        call(make(), asynchronous=asynchronous)
    assert call(make(), asynchronous=asynchronous).status == 200  # the connection pool is still usable
