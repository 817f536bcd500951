"""The fault matrix, for both platforms: each emulator fault switch against the real hook over HTTP.

Every case asserts the outcome, that no run was duplicated or lost, and that the API token
appears in no log line (urllib3 logs every request line at DEBUG) and no exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import (
    AuthenticationError,
    MalformedResponseError,
    ProviderError,
    RateLimitedError,
    RunFailedError,
    RunTimeoutError,
    ServerError,
    TransportError,
)
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

BUDGET = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0)


@dataclass
class Platform:
    """How one platform's hook, emulator and paths plug into the matrix."""

    name: str
    hook_class: type
    emulator_fixture: str
    conn_fixture: str
    start_path: str
    read_path: str
    prepare: Callable[[Any], dict[str, str]]  # emulator -> {"quick", "stuck", "aborted", "timed_out"} targets
    start: Callable[[Any, str], Any]
    runs_of: Callable[[Any, str], list[str]]
    read: Callable[[Any], Any]


def _apify_prepare(emulator):
    emulator.add_task("quick", duration_secs=0.3, item_count=2)
    return {"quick": "demo~quick", "stuck": "demo~stuck-ready", "timed_out": "demo~times-out", "aborted": "demo~slow"}


def _apify_runs(emulator, task_name):
    task_id = ApifyHook(retry_policy=BUDGET).get_task(task_name)["id"]
    return [run["id"] for run in emulator.runs() if run.get("actorTaskId") == task_id]


def _lobstr_prepare(emulator):
    quick = emulator.add_squid("quick", duration_secs=0.3, results_per_task=2, task_count=1)["id"]
    return {
        "quick": quick,
        "stuck": SEED_HASHES["pending-squid"]["hash"],
        "timed_out": None,
        "aborted": SEED_HASHES["slow-squid"]["hash"],
    }


PLATFORMS = [
    Platform(
        "apify", ApifyHook, "apify_emulator", "apify_conn_env",
        start_path=r"/actor-tasks/[^/]+/runs$", read_path=r"/v2/actor-tasks/[^/]+$",
        prepare=_apify_prepare,
        start=lambda hook, target: hook.run_task(target),
        runs_of=_apify_runs,
        read=lambda hook: hook.get_task("demo~fails")["id"],
    ),
    Platform(
        "lobstr", LobstrHook, "lobstr_emulator", "lobstr_conn_env",
        start_path=r"^/v1/runs$", read_path=r"^/v1/tasks/",
        prepare=_lobstr_prepare,
        start=lambda hook, target: hook.start_run(target),
        runs_of=lambda emulator, squid: [run["id"] for run in emulator.runs(squid)],
        read=lambda hook: hook.get_task(SEED_HASHES["demo-squid"]["tasks"][0]).hash,
    ),
]


@pytest.fixture(params=PLATFORMS, ids=[p.name for p in PLATFORMS])
def env(request, caplog):
    platform: Platform = request.param
    emulator = request.getfixturevalue(platform.emulator_fixture)
    request.getfixturevalue(platform.conn_fixture)
    caplog.set_level(logging.DEBUG)
    targets = platform.prepare(emulator)
    yield platform, emulator, targets, (lambda **kw: platform.hook_class(retry_policy=BUDGET, **kw))
    assert emulator.token not in caplog.text, "the API token leaked into a log line"


def no_token_in(error: BaseException, emulator) -> BaseException:
    assert emulator.token not in str(error) and emulator.token not in repr(error.args)
    return error


@pytest.mark.parametrize("retry_after", [0.05, None], ids=["retry-after", "no-retry-after"])
def test_429_storm_shorter_than_the_budget_recovers_longer_fails(env, retry_after):
    platform, emulator, _, make = env
    emulator.faults.add("status", status=429, retry_after=retry_after, count=3, path=platform.read_path)
    assert platform.read(make())
    emulator.faults.add("status", status=429, retry_after=retry_after, count=None, path=platform.read_path)
    with pytest.raises(RateLimitedError, match="429") as caught:
        platform.read(make())
    no_token_in(caught.value, emulator)


def test_5xx_burst_shorter_than_the_budget_recovers_longer_fails(env):
    platform, emulator, _, make = env
    emulator.faults.add("status", status=503, count=3, path=platform.read_path)
    assert platform.read(make())
    emulator.faults.add("status", status=500, count=None, path=platform.read_path)
    with pytest.raises(ServerError, match="500") as caught:
        platform.read(make())
    no_token_in(caught.value, emulator)


@pytest.mark.parametrize("drop", ["drop_before", "drop_after"], ids=["reset-before-server", "reset-after-server"])
def test_connection_reset_around_the_start_creates_exactly_one_run(env, drop):
    platform, emulator, targets, make = env
    emulator.faults.add(drop, method="POST", path=platform.start_path, count=1)
    run = platform.start(make(), targets["quick"])
    assert platform.runs_of(emulator, targets["quick"]) == [run.id]


def test_start_answer_lost_every_time_still_one_run_and_a_clear_error(env):
    platform, emulator, targets, make = env
    emulator.faults.add("drop_after", method="POST", path=platform.start_path, count=None)
    # the first attempt creates the run, later attempts are preceded by a lookup that adopts it
    run = platform.start(make(), targets["quick"])
    assert platform.runs_of(emulator, targets["quick"]) == [run.id]


def test_slow_answers_beyond_the_http_timeout_are_retried_then_reported(env):
    platform, emulator, _, make = env
    emulator.faults.add("latency", seconds=1.0, count=1, path=platform.read_path)
    assert platform.read(make(timeout=0.3))
    emulator.faults.add("latency", seconds=1.0, count=None, path=platform.read_path)
    with pytest.raises(TransportError, match="after the request was sent") as caught:
        platform.read(make(timeout=0.3))
    no_token_in(caught.value, emulator)


def test_malformed_json_is_retried_then_reported(env):
    platform, emulator, _, make = env
    emulator.faults.add("malformed", count=2, path=platform.read_path)
    assert platform.read(make())
    emulator.faults.add("malformed", count=None, path=platform.read_path)
    with pytest.raises(MalformedResponseError):
        platform.read(make())


def test_token_revoked_mid_run_fails_at_once_with_401(env):
    platform, emulator, targets, make = env
    hook = make()
    run = platform.start(hook, targets["quick"])
    emulator.revoke_token(emulator.token)
    before = emulator.stats()["total"]
    with pytest.raises(AuthenticationError, match="401") as caught:
        hook.wait_for_run(run.id, Deadline.after(30), poll_interval=0.2)
    assert emulator.stats()["total"] - before == 1  # not retried
    no_token_in(caught.value, emulator)


def test_a_run_that_never_starts_hits_our_deadline(env):
    platform, emulator, targets, make = env
    hook = make()
    run = platform.start(hook, targets["stuck"])
    with pytest.raises(RunTimeoutError, match="Timed out waiting") as caught:
        hook.wait_for_run(run.id, Deadline.after(1), poll_interval=0.2)
    no_token_in(caught.value, emulator)
    assert platform.runs_of(emulator, targets["stuck"]) == [run.id]


def test_aborted_and_timed_out_runs_are_failures_with_their_status(env):
    platform, _, targets, make = env
    hook = make()
    run = platform.start(hook, targets["aborted"])
    hook.abort_run(run.id)
    ended = hook.wait_for_run(run.id, Deadline.after(30), poll_interval=0.2).snapshot()
    assert ended.terminal and not ended.succeeded and ended.status.lower().startswith("abort")
    assert isinstance(ended.failure(platform.name), RunFailedError)
    if targets["timed_out"]:
        ended = hook.wait_for_run(
            platform.start(hook, targets["timed_out"]).id, Deadline.after(30), poll_interval=0.2
        ).snapshot()
        assert ended.status == "TIMED-OUT" and not ended.succeeded and "TIMED-OUT" in str(ended.failure(platform.name))


def test_provider_errors_are_all_provider_errors(env):
    platform, emulator, _, make = env
    emulator.faults.add("status", status=502, count=None, path=platform.read_path)
    with pytest.raises(ProviderError):
        platform.read(make())
