"""ApifyHook over real HTTP against the emulator: every call, every fault switch, no duplicate runs."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_tasks.apify.api import RunOptions, RunStatus, Target
from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RunTimeoutError,
    ServerError,
    TransportError,
)
from airflow_provider_tasks.common.http import _SHARED_SESSIONS
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline
from tests.http.following import await_run

FAST_RETRIES = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0)
START_PATH = r"/actor-tasks/[^/]+/runs$"


@pytest.fixture
def hook(apify_conn_env) -> ApifyHook:
    return ApifyHook(retry_policy=FAST_RETRIES)


@pytest.fixture
def quick_task(apify_emulator) -> str:
    apify_emulator.add_task("quick", duration_secs=0.3, item_count=7)
    return "demo~quick"


class TestReads:
    def test_connection_check_succeeds_and_fails_on_a_bad_token(self, hook, monkeypatch, apify_emulator):
        assert hook.test_connection()[0] is True
        monkeypatch.setenv(
            "AIRFLOW_CONN_APIFY_DEFAULT",
            f'{{"conn_type": "apify", "password": "wrong", "host": "{apify_emulator.base_url}"}}',
        )
        ok, message = ApifyHook().test_connection()
        assert not ok and "401" in message and "token is missing or invalid" in message
        assert "wrong" not in message

    def test_get_task_by_tilde_name_and_unknown_task_is_named(self, hook):
        task = hook.get_task("demo~succeeds-with-items")
        assert task["name"] == "succeeds-with-items" and task["username"] == "demo"
        with pytest.raises(NotFoundError, match=r"404 record-not-found.*Actor task 'demo~nope'"):
            hook.get_task("demo~nope")

    def test_lists_walk_every_page(self, hook, apify_emulator):
        for i in range(5):
            apify_emulator.add_task(f"extra-{i}")
        names = [task["name"] for task in hook.iter_tasks(page_size=2)]
        assert len(names) == len(set(names)) and {f"extra-{i}" for i in range(5)} <= set(names)

    def test_list_task_runs_filters_by_status(self, hook, quick_task, apify_emulator):
        first = hook.run_task(quick_task)
        hook.wait_for_run(first.id, Deadline.after(30), poll_interval=5)
        hook.run_task(quick_task)
        all_runs = list(hook.iter_task_runs(quick_task, desc=True, page_size=1))
        done = list(hook.iter_task_runs(quick_task, status="SUCCEEDED"))
        assert len(all_runs) == 2 and [run["id"] for run in done] == [first.id]


class TestRuns:
    def test_run_wait_and_read_the_dataset(self, hook, quick_task):
        run = hook.run_task(quick_task, RunOptions(memory_mbytes=256), {"extra": True})
        assert run.status in (RunStatus.READY, RunStatus.RUNNING)
        done = hook.wait_for_run(run.id, Deadline.after(30), poll_interval=10)
        assert done.status is RunStatus.SUCCEEDED and done.raw["options"]["memoryMbytes"] == 256
        items = list(hook.iter_dataset_items(done.default_dataset_id, page_size=3))
        assert len(items) == 7 and hook.get_dataset(done.default_dataset_id)["itemCount"] == 7

    def test_jsonl_fast_path_yields_the_same_items_unparsed(self, hook, quick_task):
        import json

        done = hook.wait_for_run(hook.run_task(quick_task).id, Deadline.after(30), poll_interval=10)
        chunks = list(hook.iter_dataset_jsonl(done.default_dataset_id, page_size=3))
        lines = [json.loads(line) for chunk in chunks for line in chunk.splitlines()]
        assert len(chunks) == 3 and all(isinstance(chunk, bytes) for chunk in chunks)
        assert lines == list(hook.iter_dataset_items(done.default_dataset_id))

    def test_long_poll_means_few_requests(self, hook, apify_emulator):
        apify_emulator.add_task("two-secs", duration_secs=2)
        run = hook.run_task("demo~two-secs")
        before = apify_emulator.stats()["total"]
        hook.wait_for_run(run.id, Deadline.after(30), poll_interval=60)
        assert apify_emulator.stats()["total"] - before == 1  # the very first request is already a long-poll

    def test_run_actor_and_last_run(self, hook):
        run = hook.run_actor("demo~example-actor", run_input={"q": "x"})
        assert run.raw["actorTaskId"] is None
        assert hook.last_run(Target("actor", "demo~example-actor")).id == run.id
        assert hook.last_run(Target("task", "demo~fails"), status="SUCCEEDED") is None

    def test_failed_run_is_returned_with_its_message(self, hook):
        run = hook.wait_for_run(hook.run_task("demo~fails").id, Deadline.after(30), poll_interval=10)
        assert run.status is RunStatus.FAILED and run.status_message

    def test_our_deadline_ends_the_wait_on_a_run_stuck_in_ready(self, hook):
        run = hook.run_task("demo~stuck-ready")
        with pytest.raises(RunTimeoutError, match=f"{run.id}.*READY"):
            hook.wait_for_run(run.id, Deadline.after(1.5), poll_interval=60)

    def test_abort(self, hook, apify_emulator):
        run = hook.run_task("demo~slow")
        hook.abort_run(run.id)
        done = hook.wait_for_run(run.id, Deadline.after(30), poll_interval=10)
        assert done.status is RunStatus.ABORTED

    def test_reuse_follows_the_newest_ready_or_running_run_else_starts_one(self, hook, quick_task):
        target = Target("task", "demo~slow")
        older, newer = hook.run_task("demo~slow"), hook.run_task("demo~slow")
        run, reused = hook.start_or_reuse_run(target, reuse_active_run=True)
        assert reused and run.id == newer.id
        hook.abort_run(newer.id)
        run, reused = hook.start_or_reuse_run(target, reuse_active_run=True)
        assert reused and run.id == older.id
        hook.abort_run(older.id)
        run, reused = hook.start_or_reuse_run(target, reuse_active_run=True)
        assert not reused and run.id not in (older.id, newer.id)
        hook.abort_run(run.id)
        done = hook.wait_for_run(hook.run_task(quick_task).id, Deadline.after(30), poll_interval=10)
        assert done.status is RunStatus.SUCCEEDED
        run, reused = hook.start_or_reuse_run(Target("task", quick_task), reuse_active_run=True)
        assert not reused and run.id != done.id
        started, reused = hook.start_or_reuse_run(target)  # without the flag a run is started
        assert not reused
        hook.abort_run(started.id)

    def test_bad_option_rejected_by_the_server_surfaces_type_and_message(self, hook):
        with pytest.raises(ApiError) as caught:
            hook.run_task("demo~succeeds-with-items", RunOptions(memory_mbytes=100))
        assert caught.value.status == 400 and caught.value.error_type == "invalid-input"


class TestFaults:
    def test_429_with_retry_after_is_retried(self, hook, apify_emulator, quick_task):
        apify_emulator.faults.add("status", status=429, retry_after=0.05, count=2, path="/actor-tasks/")
        assert hook.get_task(quick_task)["name"] == "quick"

    def test_5xx_burst_shorter_than_the_budget_recovers_longer_fails_clearly(self, hook, apify_emulator):
        apify_emulator.faults.add("status", status=503, count=3, path="/users/me")
        assert hook.send(hook.auth_check_request()).status == 200
        apify_emulator.faults.add("status", status=502, count=None, path="/users/me")
        with pytest.raises(ServerError, match="502"):
            hook.send(hook.auth_check_request())

    def test_rate_limit_beyond_the_budget_raises_rate_limited(self, hook, apify_emulator):
        apify_emulator.faults.add("status", status=429, count=None, path="/users/me")
        with pytest.raises(RateLimitedError):
            hook.send(hook.auth_check_request())

    def test_latency_beyond_the_http_timeout_is_a_transport_error(self, apify_conn_env, apify_emulator):
        hook = ApifyHook(retry_policy=RetryPolicy(max_attempts=2, initial_wait=0, jitter=0), timeout=0.3)
        apify_emulator.faults.add("latency", seconds=2, count=None, path="/users/me")
        with pytest.raises(TransportError, match="after the request was sent"):
            hook.send(hook.auth_check_request())

    def test_malformed_body_is_retried_then_reported(self, hook, apify_emulator):
        apify_emulator.faults.add("malformed", count=1, path="/actor-tasks/")
        assert hook.get_task("demo~fails")["name"] == "fails"
        apify_emulator.faults.add("malformed", count=None, path="/actor-tasks/")
        with pytest.raises(MalformedResponseError, match="expected a JSON body"):
            hook.get_task("demo~fails")

    def test_revoked_token_mid_run_fails_with_401_not_retried(self, hook, apify_emulator, quick_task):
        run = hook.run_task(quick_task)
        apify_emulator.revoke_token(apify_emulator.token)
        with pytest.raises(AuthenticationError, match="401"):
            hook.get_run(run.id)


class TestNoDuplicateRuns:
    def test_dropped_answer_after_create_yields_exactly_one_run(self, hook, apify_emulator, quick_task):
        apify_emulator.faults.add("drop_after", method="POST", path=START_PATH, count=1)
        run = hook.run_task(quick_task)
        task_runs = [
            r for r in apify_emulator.runs() if r["id"] == run.id or r.get("actorTaskId") == run.raw["actorTaskId"]
        ]
        assert len(task_runs) == 1 and task_runs[0]["id"] == run.id

    def test_repeated_drops_and_5xx_still_one_run(self, hook, apify_emulator, quick_task):
        apify_emulator.faults.add("status", status=503, method="POST", path=START_PATH, count=1)
        apify_emulator.faults.add("drop_after", method="POST", path=START_PATH, count=1)
        run = hook.run_task(quick_task)
        assert [r["id"] for r in apify_emulator.runs() if r.get("actorTaskId") == run.raw["actorTaskId"]] == [run.id]

    def test_drop_before_the_server_saw_it_starts_normally(self, hook, apify_emulator, quick_task):
        apify_emulator.faults.add("drop_before", method="POST", path=START_PATH, count=1)
        run = hook.run_task(quick_task)
        assert [r["id"] for r in apify_emulator.runs() if r.get("actorTaskId") == run.raw["actorTaskId"]] == [run.id]

    def test_a_concurrent_start_by_someone_else_is_not_adopted(self, hook, apify_emulator, quick_task):
        other = ApifyHook(retry_policy=FAST_RETRIES).run_task(quick_task)
        apify_emulator.faults.add("drop_after", method="POST", path=START_PATH, count=1)
        ours = hook.run_task(quick_task)
        assert ours.id != other.id
        ids = {r["id"] for r in apify_emulator.runs() if r.get("actorTaskId") == ours.raw["actorTaskId"]}
        assert ids == {ours.id, other.id}

    def test_a_later_try_finds_the_unfinished_run_its_task_instance_started(self, hook, apify_emulator):
        apify_emulator.add_task("long", duration_secs=3)
        ours = hook.start_run(Target("task", "demo~long"), identity="ti-aaaa")
        hook.start_run(Target("task", "demo~long"), identity="ti-bbbb")  # another task instance's
        hook.start_run(Target("task", "demo~long"))  # started outside Airflow
        assert hook.find_unfinished_run(Target("task", "demo~long"), "ti-aaaa").id == ours.id
        assert hook.find_unfinished_run(Target("task", "demo~long"), "ti-cccc") is None
        hook.abort_run(ours.id)
        assert hook.find_unfinished_run(Target("task", "demo~long"), "ti-aaaa") is None  # ended: not picked up


class TestAsync:
    @pytest.mark.parametrize("machinery, sessions", [("True", 1), ("False", 5)], ids=["shared", "switched-off"])
    def test_triggers_of_one_connection_share_one_session_and_release_it(
        self, apify_conn_env, apify_emulator, quick_task, monkeypatch, machinery, sessions
    ):
        """With the scale machinery switched off (common/scale.py) each trigger has its own
        session and the wait ends the same way."""
        monkeypatch.setenv("AIRFLOW__AIRFLOW_PROVIDER_TASKS__TRIGGERER_SCALE_MACHINERY", machinery)
        hooks = [ApifyHook(retry_policy=FAST_RETRIES) for _ in range(5)]
        run = hooks[0].run_task(quick_task)

        async def follow_all():
            results = await asyncio.gather(*(await_run(h, run.id, Deadline.after(30), poll_interval=10) for h in hooks))
            shared = len(_SHARED_SESSIONS._entries)
            for h in hooks:
                await h.aclose()
            return results, shared, len(_SHARED_SESSIONS._entries)

        results, shared, after = asyncio.run(follow_all())
        assert {r.status for r in results} == {RunStatus.SUCCEEDED}
        assert shared == sessions and after == 0

    def test_async_retries_and_abort(self, apify_conn_env, apify_emulator):
        hook = ApifyHook(retry_policy=FAST_RETRIES)
        run = hook.run_task("demo~slow")
        apify_emulator.faults.add("status", status=500, count=2, path="/actor-runs/")

        async def go():
            try:
                await hook.aabort_run(run.id)
                return await await_run(hook, run.id, Deadline.after(30), poll_interval=10)
            finally:
                await hook.aclose()

        assert asyncio.run(go()).status is RunStatus.ABORTED

    def test_async_deadline(self, apify_conn_env):
        hook = ApifyHook(retry_policy=FAST_RETRIES)
        run = hook.run_task("demo~stuck-ready")

        async def go():
            try:
                await await_run(hook, run.id, Deadline.after(1), poll_interval=60)
            finally:
                await hook.aclose()

        with pytest.raises(RunTimeoutError):
            asyncio.run(go())
