"""LobstrHook over real HTTP against the Lobstr.io emulator: reads, runs, results, faults, no duplicates."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_tasks.common.errors import (
    AmbiguousStartError,
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    RunTimeoutError,
)
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline
from airflow_provider_tasks.lobstr.api import RunStatus, TaskStatus
from airflow_provider_tasks.lobstr.hooks import LobstrHook, RunAlreadyActiveError
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES
from tests.http.following import await_run

FAST = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0)
DEMO = SEED_HASHES["demo-squid"]
START = r"^/v1/runs$"


@pytest.fixture
def hook(lobstr_conn_env) -> LobstrHook:
    return LobstrHook(retry_policy=FAST)


@pytest.fixture
def quick_squid(lobstr_emulator) -> str:
    return lobstr_emulator.add_squid("quick", duration_secs=0.5, results_per_task=7, task_count=2)["id"]


def wait(hook, run_id, seconds=30):
    return hook.wait_for_run(run_id, Deadline.after(seconds), poll_interval=0.2)


def test_connection_check_and_bad_key(hook, lobstr_emulator, monkeypatch):
    assert hook.test_connection()[0]
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOBSTR_DEFAULT",
        f'{{"conn_type": "lobstr", "password": "nope", "host": "{lobstr_emulator.base_url}"}}',
    )
    ok, message = LobstrHook().test_connection()
    assert not ok and "401" in message and "API key is missing or invalid" in message


def test_get_seed_task_and_unknown_task_is_named(hook):
    task = hook.get_task(DEMO["tasks"][0])
    assert task.hash == DEMO["tasks"][0] and task.raw["object"] == "task" and "status" in task.raw
    with pytest.raises(NotFoundError, match=r"404 not_found_error.*Task not found.*task '0{32}'"):
        hook.get_task("0" * 32)


def test_list_and_add_tasks(hook, quick_squid):
    assert len(list(hook.iter_tasks(quick_squid, page_size=1))) == 2
    added = hook.add_tasks(quick_squid, [{"url": "https://example.com/new"}, {"url": "https://example.com/new"}])
    assert len(list(hook.iter_tasks(quick_squid))) == 3
    assert (len(added.created), added.duplicates) == (1, 1)


def test_run_wait_and_stream_results(hook, quick_squid):
    run = hook.start_run(quick_squid)
    done = wait(hook, run.id)
    assert done.status is RunStatus.DONE and done.total_results == 14
    rows = [row for page in hook.iter_result_pages(run_id=run.id, page_size=5, min_interval=0) for row in page.items]
    assert len(rows) == 14 and all(row["run"] == run.id for row in rows)
    assert hook.run_stats(run.id)["total_tasks"] == 2


def test_failed_run_carries_its_reason(hook):
    done = wait(hook, hook.start_run(SEED_HASHES["failing-squid"]["hash"]).id)
    assert done.status is RunStatus.ERROR and done.reason


def test_second_start_while_active_is_a_clear_error_or_reuses_on_request(hook, lobstr_emulator):
    slow = SEED_HASHES["slow-squid"]["hash"]
    first = hook.start_run(slow)
    with pytest.raises(RunAlreadyActiveError, match=f"already has an active run \\({first.id}"):
        hook.start_run(slow)
    assert hook.start_run(slow, reuse_active_run=True).id == first.id
    assert len(lobstr_emulator.runs(slow)) == 1
    reused, was_reused = hook.start_or_reuse_run(slow, reuse_active_run=True)
    assert reused.id == first.id and was_reused is True


def test_start_or_reuse_says_a_fresh_run_was_not_reused(hook, quick_squid):
    run, was_reused = hook.start_or_reuse_run(quick_squid, reuse_active_run=True)
    assert was_reused is False and run.id


def test_abort_keeps_partial_results_and_aborting_a_finished_run_is_harmless(hook, quick_squid):
    slow = hook.start_run(SEED_HASHES["slow-squid"]["hash"])
    hook.abort_run(slow.id)
    assert wait(hook, slow.id).status is RunStatus.ABORTED
    done = wait(hook, hook.start_run(quick_squid).id)
    hook.abort_run(done.id)  # 404 "already completed" is not an error here


def test_pending_forever_hits_our_deadline(hook):
    run = hook.start_run(SEED_HASHES["pending-squid"]["hash"])
    with pytest.raises(RunTimeoutError, match="pending"):
        hook.wait_for_run(run.id, Deadline.after(1), poll_interval=0.2)


def test_task_status_follows_the_run(hook, quick_squid, lobstr_emulator):
    task_hash = next(iter(hook.iter_tasks(quick_squid)))["id"]
    wait(hook, hook.start_run(quick_squid).id)
    task = hook.get_task(task_hash)
    assert task.status is TaskStatus.COMPLETED and task.raw["status"]["total_results"] == 7


class TestFaults:
    def test_429_with_retry_after_is_retried_and_a_storm_fails_clearly(self, hook, lobstr_emulator):
        lobstr_emulator.faults.add("status", status=429, retry_after=0.05, count=2, path="/v1/tasks/")
        assert hook.get_task(DEMO["tasks"][0]).hash == DEMO["tasks"][0]
        lobstr_emulator.faults.add("status", status=429, count=None, path="/v1/tasks/")
        with pytest.raises(RateLimitedError, match="429"):
            hook.get_task(DEMO["tasks"][0])

    @pytest.mark.parametrize("fault", [{"kind": "drop_after"}, {"kind": "status", "status": 502}])
    def test_start_answer_lost_after_create_means_exactly_one_run(self, hook, lobstr_emulator, quick_squid, fault):
        lobstr_emulator.faults.add(fault.pop("kind"), method="POST", path=START, count=1, **fault)
        run = hook.start_run(quick_squid)
        assert [r["id"] for r in lobstr_emulator.runs(quick_squid)] == [run.id]

    def test_503_that_never_reached_the_server_does_not_adopt_another_callers_run(
        self, hook, lobstr_emulator, quick_squid
    ):
        """Another caller ran the squid moments ago; our start is refused before the server (503).
        The other caller's run is not ours: a new run is started, the other is left alone."""
        theirs = lobstr_emulator.start_run(quick_squid)["id"]
        wait(hook, theirs)
        lobstr_emulator.faults.add("status", status=503, method="POST", path=START, count=1)
        run = hook.start_run(quick_squid)
        assert run.id != theirs
        assert sorted(r["id"] for r in lobstr_emulator.runs(quick_squid)) == sorted([run.id, theirs])

    def test_a_candidate_already_finished_is_named_not_adopted(self, hook, lobstr_emulator):
        """The answer to our start is lost and the run created since had already ended when we
        looked: nothing proves it is ours, so the start fails naming it and its dashboard link,
        and no second run is started."""
        instant = lobstr_emulator.add_squid("instant", duration_secs=0, export_secs=0, task_count=1)["id"]
        lobstr_emulator.faults.add("drop_after", method="POST", path=START, count=1)
        with pytest.raises(AmbiguousStartError) as caught:
            hook.start_run(instant)
        [candidate] = lobstr_emulator.runs(instant)
        assert candidate["id"] in str(caught.value)
        assert f"/squids/{instant}/runs/{candidate['id']}" in str(caught.value)

    def test_drop_before_starts_normally(self, hook, lobstr_emulator, quick_squid):
        lobstr_emulator.faults.add("drop_before", method="POST", path=START, count=1)
        run = hook.start_run(quick_squid)
        assert [r["id"] for r in lobstr_emulator.runs(quick_squid)] == [run.id]

    def test_revoked_key_mid_run(self, hook, lobstr_emulator, quick_squid):
        run = hook.start_run(quick_squid)
        lobstr_emulator.revoke_token(lobstr_emulator.token)
        with pytest.raises(AuthenticationError):
            hook.get_run(run.id)


def test_async_poll_and_abort(lobstr_conn_env, lobstr_emulator):
    hook = LobstrHook(retry_policy=FAST)
    run = hook.start_run(SEED_HASHES["slow-squid"]["hash"])
    lobstr_emulator.faults.add("status", status=503, count=2, path="/v1/runs/")

    async def go():
        try:
            await hook.aabort_run(run.id)
            return await await_run(hook, run.id, Deadline.after(30), poll_interval=0.2)
        finally:
            await hook.aclose()

    assert asyncio.run(go()).status is RunStatus.ABORTED
