"""ApifyRunTrigger driven directly in an event loop (as the triggerer does) against the emulator."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.apify.triggers import ApifyRunTrigger
from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, TRIGGER_ON_KILL
from airflow_provider_tasks.common.http import _SHARED_SESSIONS
from airflow_provider_tasks.common.retry import RetryPolicy

AIRFLOW_2 = not AIRFLOW_V_3_0_PLUS
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
    assert len(_SHARED_SESSIONS._entries) == 0


def test_cost_limit_aborts_the_run_from_the_trigger_and_fires_a_cost_limit_event(hook, apify_emulator):
    apify_emulator.add_task("pricey", duration_secs=300, cost_per_second=0.05)
    run = hook.run_task("demo~pricey")
    _, kwargs = make_trigger(run.id, poll_interval=1, cost_limit=0.1).serialize()
    rebuilt = ApifyRunTrigger(**json.loads(json.dumps(kwargs)))  # the limit survives as plain JSON
    event = first_event(rebuilt)
    assert event["status"] == "cost_limit" and event["run_id"] == run.id
    assert f"Apify run {run.id} has cost" in event["message"] and "past the limit of 0.1 USD" in event["message"]
    assert "the run was aborted" in event["message"]
    assert apify_emulator.get_run(run.id)["status"] in ("ABORTING", "ABORTED")


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


# -- a cancelled trigger: a user's kill or a triggerer going away ---------------------------------


def _task_instance(state: str):
    """A task instance of a real DAG run in Airflow 2.11's metadata database, in ``state``."""
    import uuid

    import pendulum
    from airflow.models.dag import DAG
    from airflow.operators.empty import EmptyOperator
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    dag = DAG(f"kill_check_{uuid.uuid4().hex[:8]}", schedule=None, start_date=pendulum.datetime(2024, 1, 1))
    EmptyOperator(task_id="run", dag=dag)
    dag.sync_to_db()
    now = pendulum.now("UTC")
    dag_run = dag.create_dagrun(
        run_id="manual", state=DagRunState.RUNNING, execution_date=now, run_type=DagRunType.MANUAL,
        data_interval=(now, now),
    )
    with create_session() as session:
        ti = dag_run.get_task_instance("run", session=session)
        ti.state = state
        session.merge(ti)
    return ti


def _cancel_while_waiting(trigger, emulator) -> None:
    """Run the trigger as the triggerer does and cancel it once it has looked at the run."""

    async def go():
        async def consume():
            async for _ in trigger.run():
                pass

        task = asyncio.ensure_future(consume())
        while not emulator.stats()["by_route"].get("GET /v2/actor-runs/{runId}"):
            await asyncio.sleep(0.05)  # polling the emulator's request log, not a timing guess
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


@pytest.mark.skipif(not AIRFLOW_2, reason="the database path is Airflow 2.11's; 3.0-3.2 ask the triggerer's "
                    "supervisor (integration suite), 3.3 calls on_kill itself")
@pytest.mark.parametrize(("state", "aborted"), [("failed", True), ("success", True), ("deferred", False)])
def test_before_3_3_a_cancelled_trigger_aborts_only_when_its_task_left_deferral(
    airflow_db, hook, apify_emulator, state, aborted
):
    apify_emulator.add_task("long", duration_secs=300, item_count=1)
    run = hook.run_task("demo~long")
    trigger = make_trigger(run.id)
    trigger.task_instance = _task_instance(state)
    _cancel_while_waiting(trigger, apify_emulator)
    status = apify_emulator.get_run(run.id)["status"]
    assert (status in {"ABORTING", "ABORTED"}) is aborted, status
    assert len(_SHARED_SESSIONS._entries) == 0


@pytest.mark.skipif(not TRIGGER_ON_KILL, reason="before 3.3 a cancelled trigger reads its task's state (above)")
def test_from_3_3_a_cancelled_trigger_leaves_the_run_to_on_kill(hook, apify_emulator):
    apify_emulator.add_task("long", duration_secs=300, item_count=1)
    run = hook.run_task("demo~long")
    _cancel_while_waiting(make_trigger(run.id), apify_emulator)
    assert apify_emulator.get_run(run.id)["status"] == "RUNNING"
    assert len(_SHARED_SESSIONS._entries) == 0
