"""ApifyRunTrigger driven directly in an event loop (as the triggerer does) against the emulator."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.apify.triggers import ApifyRunTrigger
from airflow_provider_tasks.common.http import _SHARED_SESSIONS
from airflow_provider_tasks.common.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0).to_dict()


def make_trigger(run_id, **kwargs):
    kwargs.setdefault("conn_id", "apify_default")
    kwargs.setdefault("deadline", time.time() + 60)
    kwargs.setdefault("poll_interval", 10)
    kwargs.setdefault("retry_policy", FAST)
    return ApifyRunTrigger(run_id=run_id, **kwargs)


def first_event(trigger):
    async def go():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(go())


@pytest.fixture
def hook(apify_conn_env):
    return ApifyHook(retry_policy=FAST)


def test_serialised_kwargs_are_plain_json_and_rebuild_the_trigger():
    trigger = make_trigger("r1", fire_not_before=123.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_tasks.apify.triggers.ApifyRunTrigger"
    rebuilt = ApifyRunTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)


def test_serialised_kwargs_survive_airflows_serde():
    from airflow_provider_tasks.common.compat import serde

    _, kwargs = make_trigger("r1").serialize()
    assert serde().deserialize(serde().serialize(kwargs)) == kwargs


def test_success_event_carries_the_run(hook, apify_emulator):
    apify_emulator.add_task("t", duration_secs=0.5, item_count=1)
    run = hook.run_task("demo~t")
    event = first_event(make_trigger(run.id))
    assert event["status"] == "success" and event["run"]["id"] == run.id and event["run"]["status"] == "SUCCEEDED"
    assert _SHARED_SESSIONS.open_sessions() == 0


def test_failed_run_event(hook):
    run = hook.run_task("demo~fails")
    event = first_event(make_trigger(run.id))
    assert event["status"] == "failed" and event["message"] == "Actor failed: example failure"


def test_deadline_gives_a_timeout_event(hook):
    run = hook.run_task("demo~stuck-ready")
    event = first_event(make_trigger(run.id, deadline=time.time() + 1))
    assert event["status"] == "timeout" and "READY" in event["message"]


def test_transient_errors_beyond_the_request_budget_are_retried_inside_the_trigger(hook, apify_emulator):
    apify_emulator.add_task("t", duration_secs=0.5)
    run = hook.run_task("demo~t")
    # 7 failures: more than one request's budget of 3 attempts, so the trigger's own loop must carry on
    apify_emulator.faults.add("status", status=503, count=7, path="/actor-runs/")
    event = first_event(make_trigger(run.id))
    assert event["status"] == "success"


def test_revoked_token_is_an_error_event_not_retried(hook, apify_emulator):
    run = hook.run_task("demo~slow")
    apify_emulator.revoke_token(apify_emulator.token)
    event = first_event(make_trigger(run.id))
    assert event["status"] == "error" and "401" in event["message"]
    assert apify_emulator.token not in json.dumps(event)


def test_fire_guard_holds_an_early_event(hook, apify_emulator):
    apify_emulator.add_task("t", duration_secs=0.2)
    run = hook.run_task("demo~t")
    guard = time.time() + 1.5
    first_event(make_trigger(run.id, fire_not_before=guard))
    assert time.time() >= guard


def test_on_kill_aborts_the_run_and_cleanup_does_not(hook, apify_emulator):
    run = hook.run_task("demo~slow")
    trigger = make_trigger(run.id)
    asyncio.run(trigger.cleanup())
    assert apify_emulator.get_run(run.id)["status"] == "RUNNING"

    async def kill():
        await trigger.on_kill()
        await trigger.cleanup()

    asyncio.run(kill())
    assert apify_emulator.get_run(run.id)["status"] in ("ABORTING", "ABORTED")


def test_on_kill_respects_cancel_on_kill_false_and_never_raises(hook, apify_emulator):
    run = hook.run_task("demo~slow")
    asyncio.run(make_trigger(run.id, cancel_on_kill=False).on_kill())
    assert apify_emulator.get_run(run.id)["status"] == "RUNNING"
    apify_emulator.faults.add("status", status=500, count=None, path="/abort")
    asyncio.run(make_trigger(run.id).on_kill())  # logs, does not raise


def test_operator_on_kill_aborts_the_run_it_started(apify_conn_env, apify_emulator):
    from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator

    operator = ApifyRunTaskOperator(task_id="t", actor_task_id="demo~slow")
    run = operator.hook.run_task("demo~slow")
    operator._run_id = run.id
    operator.on_kill()
    assert apify_emulator.get_run(run.id)["status"] in ("ABORTING", "ABORTED")
