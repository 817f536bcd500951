"""Waiting without hammering, over real HTTP against the emulators (issue 9).

The emulators count every request; these tests hold the status requests of one short run to a
small number whatever ``poll_interval`` says, in a worker (the hook's blocking wait) and in a
trigger. Before the fix, ``poll_interval=0.5`` sent ``waitForFinish=0`` in a tight loop: 8,535
status requests from the worker and 20,759 from a trigger for one 10 s Apify run (15,723 with a
sensor's ``poke_interval=0.3`` in deferrable mode).

Also here: a status the code does not know (keep waiting, warn once, the deadline ends it as a
timeout: the same in the worker and the trigger) and the trigger's progress lines.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.apify.triggers import ApifyRunTrigger
from airflow_provider_tasks.common.errors import RunTimeoutError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger
from tests.logs import Logged

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0).to_dict()
APIFY_STATUS = "GET /v2/actor-runs/{runId}"
LOBSTR_STATUS = "GET /v1/runs/{run_hash}"


def status_requests(emulator, route: str) -> int:
    return emulator.stats()["by_route"].get(route, 0)


def first_event(trigger) -> dict:
    async def go():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(go())


@pytest.fixture
def apify(apify_conn_env, apify_emulator):
    return ApifyHook(retry_policy=FAST), apify_emulator


@pytest.fixture
def lobstr(lobstr_conn_env, lobstr_emulator):
    return LobstrHook(retry_policy=FAST), lobstr_emulator


def apify_trigger(run_id: str, seconds: float, poll_interval: float) -> ApifyRunTrigger:
    return ApifyRunTrigger(
        run_id=run_id,
        conn_id="apify_default",
        deadline=time.time() + seconds,
        poll_interval=poll_interval,
        retry_policy=FAST,
    )


def lobstr_trigger(run_id: str, seconds: float, poll_interval: float) -> LobstrRunTrigger:
    return LobstrRunTrigger(
        run_id=run_id,
        conn_id="lobstr_default",
        deadline=time.time() + seconds,
        poll_interval=poll_interval,
        retry_policy=FAST,
    )


# -- request counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("poll_interval", [0.5, 0.3, 60])
def test_apify_worker_wait_asks_about_a_short_run_a_few_times_whatever_the_interval(apify, poll_interval):
    hook, emulator = apify
    emulator.add_task("six", duration_secs=6)
    run = hook.run_task("demo~six")
    before = status_requests(emulator, APIFY_STATUS)
    done = hook.wait_for_run(run.id, Deadline.after(60), poll_interval=poll_interval)
    assert done.snapshot().succeeded
    assert status_requests(emulator, APIFY_STATUS) - before <= 6 + 2  # in practice 1 long-poll


@pytest.mark.parametrize("poll_interval", [0.5, 0.3])
def test_apify_trigger_asks_about_a_short_run_a_few_times_whatever_the_interval(apify, poll_interval):
    hook, emulator = apify
    emulator.add_task("six", duration_secs=6)
    run = hook.run_task("demo~six")
    before = status_requests(emulator, APIFY_STATUS)
    assert first_event(apify_trigger(run.id, 60, poll_interval))["status"] == "success"
    assert status_requests(emulator, APIFY_STATUS) - before <= 6 + 2


def test_apify_wait_near_its_deadline_does_not_spin(apify):
    """The last second before a deadline once made ``waitForFinish=0`` requests back to back."""
    hook, emulator = apify
    run = hook.run_task("demo~stuck-ready")
    before = status_requests(emulator, APIFY_STATUS)
    with pytest.raises(RunTimeoutError):
        hook.wait_for_run(run.id, Deadline.after(3.5), poll_interval=0.5)
    assert status_requests(emulator, APIFY_STATUS) - before <= 3 + 2


def test_lobstr_waits_keep_the_documented_five_seconds_between_polls(lobstr):
    hook, emulator = lobstr
    squid = emulator.add_squid("six", duration_secs=5, export_secs=1, results_per_task=2, task_count=1)["id"]
    run = hook.start_run(squid)
    before = status_requests(emulator, LOBSTR_STATUS)
    assert hook.wait_for_run(run.id, Deadline.after(60), poll_interval=0.2).snapshot().succeeded  # floored to 5 s
    worker = status_requests(emulator, LOBSTR_STATUS) - before
    assert worker <= 6 / 5 + 2

    run = hook.start_run(squid)
    before = status_requests(emulator, LOBSTR_STATUS)
    # a trigger serialised before the floor existed (poll_interval=1) still keeps it
    assert first_event(lobstr_trigger(run.id, 60, poll_interval=1))["status"] == "success"
    assert status_requests(emulator, LOBSTR_STATUS) - before <= 6 / 5 + 2


# -- statuses the code does not know -------------------------------------------------------------


def test_apify_unknown_status_keeps_the_worker_and_the_trigger_waiting_until_success(apify):
    hook, emulator = apify
    emulator.add_task("resurrects", duration_secs=1, unknown_status="RESURRECTING", unknown_secs=3)
    run = hook.run_task("demo~resurrects")
    seen = hook.poll_run(run.id, 1)  # was a MalformedResponseError ("unknown run status")
    assert seen.raw["status"] == "RESURRECTING" and seen.snapshot().unknown and not seen.snapshot().terminal
    assert hook.wait_for_run(run.id, Deadline.after(60), just_looked=True).snapshot().succeeded
    run = hook.run_task("demo~resurrects")
    assert first_event(apify_trigger(run.id, 60, 60))["status"] == "success"


def test_apify_unknown_status_ends_as_the_same_timeout_in_worker_and_trigger(apify, caplog, capfd):
    hook, emulator = apify
    emulator.add_task("limbo", unknown_status="RESURRECTING", unknown_secs=math.inf)
    run = hook.run_task("demo~limbo")
    with pytest.raises(RunTimeoutError) as caught:
        hook.wait_for_run(run.id, Deadline.after(2))
    event = first_event(apify_trigger(run.id, 2, 60))
    assert event["status"] == "timeout"
    expected = f"Timed out waiting for Apify run {run.id} (last status RESURRECTING)"
    assert str(caught.value).startswith(expected) and event["message"].startswith(expected)
    assert "reports status 'RESURRECTING', which this provider does not know" in Logged(caplog, capfd)


def test_lobstr_unknown_status_keeps_waiting_and_ends_as_the_same_timeout(lobstr, caplog, capfd):
    hook, emulator = lobstr
    passing = emulator.add_squid(
        "hibernates", duration_secs=2, pause_secs=6, pause_status="hibernating", task_count=1
    )["id"]
    run = hook.start_run(passing)  # running 1 s, hibernating 6 s, running 1 s, uploading 1 s, done
    assert first_event(lobstr_trigger(run.id, 60, 5))["status"] == "success"
    assert "reports status 'hibernating', which this provider does not know" in Logged(caplog, capfd)

    stuck = emulator.add_squid(
        "limbo", duration_secs=2, pause_secs=math.inf, pause_status="hibernating", task_count=1
    )["id"]
    run = hook.start_run(stuck)
    with pytest.raises(RunTimeoutError) as caught:
        hook.wait_for_run(run.id, Deadline.after(7), poll_interval=5)
    event = first_event(lobstr_trigger(run.id, 7, 5))
    expected = f"Timed out waiting for Lobstr.io run {run.id} (last status hibernating)"
    assert event["status"] == "timeout"
    assert str(caught.value).startswith(expected) and event["message"].startswith(expected)


# -- progress lines ------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes_per_look", [False, True], ids=["rate-limited", "five-minutes-between-looks"])
def test_trigger_logs_status_and_results_when_they_change_at_most_every_five_minutes(
    lobstr, caplog, capfd, minutes_per_look
):
    """A trigger keeps its first look to itself and logs a change at most every 5 minutes: its
    lines go through the triggerer's supervisor, which 10,000 triggers logging once a minute
    deadlocked (Airflow 3.3.2)."""
    hook, emulator = lobstr
    caplog.set_level(logging.INFO)
    squid = emulator.add_squid("progress", duration_secs=8, export_secs=1, results_per_task=10, task_count=1)["id"]
    run = hook.start_run(squid)
    trigger = lobstr_trigger(run.id, 60, 5)  # looks at about 5 s (running) and 10 s (done)
    if minutes_per_look:
        ticks = iter(range(0, 100_000, 301))
        trigger.clock = lambda: float(next(ticks))  # the rate limit's clock: five minutes pass per look
    assert first_event(trigger)["status"] == "success"
    lines = Logged(caplog, capfd).lines(f"Lobstr.io run {run.id} is ")
    if minutes_per_look:
        assert len(lines) == 1 and "is done (10 results)" in lines[0]  # the first look (running) is not logged
    else:
        assert lines == []  # the first look is not logged, and the change to done came within five minutes
