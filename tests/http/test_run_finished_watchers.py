"""Run-finished watchers driven in an event loop (as the triggerer does) against the emulators."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.apify.watchers import ApifyRunFinishedTrigger
from airflow_provider_tasks.common.assets import finished_run
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.lobstr.watchers import LobstrRunFinishedTrigger
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)


async def finished_after_start(trigger: Any, hook: Any, start_runs: Any, count: int) -> list[tuple[str, str, bool]]:
    """Take the watcher's first mark, then start runs, and return the next ``count`` finished runs
    it reports as (run id, status, fires)."""
    mark = await trigger.first_mark(hook)
    await asyncio.to_thread(start_runs)
    seen: list[tuple[str, str, bool]] = []
    try:
        async for run, _after in trigger.finished_runs(hook, mark):
            seen.append((run.id, str(run.raw["status"]), trigger.fires_for(run)))
            if len(seen) == count:
                return seen
    finally:
        await hook.aclose()
    return seen


def test_kwargs_are_plain_json_and_rebuild_the_watcher() -> None:
    for trigger in (
        ApifyRunFinishedTrigger(actor_task_id="demo~t", statuses=["succeeded", "FAILED"], poll_interval=5),
        LobstrRunFinishedTrigger("abc", statuses=["DONE"]),
    ):
        classpath, kwargs = trigger.serialize()
        rebuilt = type(trigger)(**json.loads(json.dumps(kwargs)))
        assert rebuilt.serialize() == (classpath, kwargs)
    assert ApifyRunFinishedTrigger(actor_id="a").serialize()[1]["statuses"] == ["SUCCEEDED"]


def test_bad_watcher_settings_name_the_field_and_the_allowed_values() -> None:
    with pytest.raises(ConfigurationError, match="exactly one of actor_task_id or actor_id"):
        ApifyRunFinishedTrigger()
    with pytest.raises(ConfigurationError, match=r"\['RUNNING'\] are not terminal statuses; allowed: \['ABORTED'"):
        ApifyRunFinishedTrigger(actor_task_id="demo~t", statuses=["RUNNING"])
    with pytest.raises(ConfigurationError, match="allowed: \\['aborted', 'done', 'error'\\]"):
        LobstrRunFinishedTrigger("abc", statuses=["completed"])
    with pytest.raises(ConfigurationError, match="poll_interval must be at least"):
        LobstrRunFinishedTrigger("abc", poll_interval=0)


def test_apify_watcher_reports_each_new_run_once_in_finish_order_and_fires_for_watched_statuses(
    apify_conn_env, apify_emulator
) -> None:
    apify_emulator.add_task("watched", duration_secs=0.3)
    sync = ApifyHook(retry_policy=FAST)
    before = sync.run_task("demo~watched").id  # ended before the watcher looked: history
    sync.wait_for_run(before, Deadline.after(30), poll_interval=0.2)
    trigger = ApifyRunFinishedTrigger(actor_task_id="demo~watched", poll_interval=1)
    started: list[str] = []

    def start() -> None:
        for _ in range(2):
            started.append(sync.run_task("demo~watched").id)

    seen = asyncio.run(finished_after_start(trigger, ApifyHook(retry_policy=FAST), start, 2))
    assert sorted(run_id for run_id, _, _ in seen) == sorted(started)
    assert before not in {run_id for run_id, _, _ in seen}
    assert all(status == "SUCCEEDED" and fires for _, status, fires in seen)


def test_apify_watcher_event_has_the_run_operator_keys_and_skips_unwatched_statuses(
    apify_conn_env, apify_emulator
) -> None:
    apify_emulator.add_task("mixed", duration_secs=0.3)
    sync = ApifyHook(retry_policy=FAST)
    trigger = ApifyRunFinishedTrigger(actor_task_id="demo~mixed", poll_interval=1)

    async def go() -> dict[str, Any]:
        events = trigger.run()
        waiting = asyncio.ensure_future(events.__anext__())
        # the watcher lists before it waits; a run that is still going then fires when it ends
        await asyncio.sleep(0)
        run_id = await asyncio.to_thread(lambda: sync.run_task("demo~mixed").id)
        event = await asyncio.wait_for(waiting, timeout=60)
        await events.aclose()
        return {"run_id": run_id, **event.payload}

    payload = asyncio.run(go())
    assert payload["platform"] == "apify" and payload["status"] == "SUCCEEDED"
    assert payload["console_url"].endswith(payload["run_id"])
    assert payload["default_dataset_id"] and payload["default_key_value_store_id"] and payload["finished_at"]
    assert finished_run({"from_trigger": True, "payload": payload}) == payload
    assert finished_run(payload) == payload  # an operator outlet's extra reads the same way


def test_failed_runs_move_the_mark_but_fire_only_when_watched(apify_conn_env, apify_emulator) -> None:
    sync = ApifyHook(retry_policy=FAST)
    for statuses, fires in ((None, False), (["FAILED"], True)):
        trigger = ApifyRunFinishedTrigger(actor_task_id="demo~fails", statuses=statuses, poll_interval=1)
        seen = asyncio.run(
            finished_after_start(trigger, ApifyHook(retry_policy=FAST), lambda: sync.run_task("demo~fails"), 1)
        )
        assert [(status, fired) for _, status, fired in seen] == [("FAILED", fires)]


class CountingLooks(ApifyRunFinishedTrigger):
    """Counts list requests, to know the watcher has looked (the HTTP path is untouched)."""

    looks = 0

    async def list_page(self, hook: Any, index: int, size: int) -> Any:
        self.looks += 1
        return await super().list_page(hook, index, size)


def test_missing_target_is_looked_for_again_until_it_exists(apify_conn_env, apify_emulator) -> None:
    trigger = CountingLooks(actor_task_id="demo~later", poll_interval=1)
    sync = ApifyHook(retry_policy=FAST)

    async def go() -> list[str]:
        hook = ApifyHook(retry_policy=FAST)
        marking = asyncio.ensure_future(trigger.first_mark(hook))

        async def looked_and_failed() -> None:
            while trigger.looks == 0:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(looked_and_failed(), timeout=30)
        assert not marking.done()  # the 404 did not end the watcher
        apify_emulator.add_task("later", duration_secs=0.3)
        mark = await asyncio.wait_for(marking, timeout=60)
        await asyncio.to_thread(lambda: sync.run_task("demo~later"))
        async for run, _ in trigger.finished_runs(hook, mark):
            await hook.aclose()
            return [str(run.raw["status"])]
        return []

    assert asyncio.run(go()) == ["SUCCEEDED"]
    assert trigger.looks >= 3  # failed look(s), the first mark, the look that saw the run


def test_lobstr_watcher_reports_new_runs_of_a_squid(lobstr_conn_env, lobstr_emulator) -> None:
    squid = lobstr_emulator.add_squid("watched", duration_secs=0.3, results_per_task=2, task_count=1)["id"]
    sync = LobstrHook(retry_policy=FAST)
    trigger = LobstrRunFinishedTrigger(squid, statuses=["done", "error"], poll_interval=1)
    started: list[str] = []

    def start() -> None:
        started.append(sync.start_run(squid).id)

    seen = asyncio.run(finished_after_start(trigger, LobstrHook(retry_policy=FAST), start, 1))
    assert [(run_id, status, fires) for run_id, status, fires in seen] == [(started[0], "done", True)]
    failing = SEED_HASHES["failing-squid"]["hash"]
    trigger = LobstrRunFinishedTrigger(failing, poll_interval=1)
    seen = asyncio.run(finished_after_start(trigger, LobstrHook(retry_policy=FAST), lambda: sync.start_run(failing), 1))
    assert [(status, fires) for _, status, fires in seen] == [("error", False)]


def test_each_look_is_one_list_request_and_no_run_is_fetched(apify_conn_env, apify_emulator) -> None:
    """The cost the README states: one list request per look, none per run (the list items carry
    what the event needs), even with more runs ending than fit one look."""
    apify_emulator.add_task("busy", duration_secs=0.3)
    sync = ApifyHook(retry_policy=FAST)
    trigger = CountingLooks(actor_task_id="demo~busy", poll_interval=1)

    def start() -> None:
        for _ in range(5):
            sync.run_task("demo~busy")

    before = apify_emulator.stats()["by_route"]
    seen = asyncio.run(finished_after_start(trigger, ApifyHook(retry_policy=FAST), start, 5))
    after = apify_emulator.stats()["by_route"]
    used = {route: after[route] - before.get(route, 0) for route in after if after[route] != before.get(route, 0)}
    lists = sum(count for route, count in used.items() if route.startswith("GET") and route.endswith("/runs"))
    assert len(seen) == 5
    assert lists == trigger.looks  # every request the watcher made was one list page
    assert not any(route.startswith("GET /v2/actor-runs/") for route in used), used
