"""Case 5: a run-finished watcher (``ApifyRunFinishedTrigger`` in an ``AssetWatcher``) in a real
triggerer. Runs are started straight on the emulator (as the platform's scheduler or console
would); each successful one must give the asset exactly one event, which schedules the consumer
DAG. On Airflow 3.3 the watcher's mark lives in the asset state store: a triggerer killed with
SIGKILL while runs finish must neither lose nor repeat any of them once a new triggerer starts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from airflow_provider_tasks.common.compat import EVENT_TRIGGER_ASSET_STATE
from airflow_provider_tasks.common.finished_runs import Mark
from airflow_provider_tasks.common.times import parse_time
from airflow_provider_tasks.common.watchers import MARK_KEY
from tests.integration.harness import AirflowApi, AirflowCluster, EmulatorControl, wait_for

pytestmark = pytest.mark.integration

WATCHED_TASK = "it-watched"  # the DAG file watches demo~it-watched
ASSET_NAME = "apify-it-watched-runs"
DEADLINE = 180


def _start_elsewhere(emulator: EmulatorControl) -> str:
    """Start a run of the watched task the way the platform's own scheduler would: not via Airflow."""
    response = emulator.http.post(
        f"{emulator.base_url}/v2/actor-tasks/demo~{WATCHED_TASK}/runs",
        headers={"Authorization": f"Bearer {emulator.token}"},
        json={},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def _run_status(emulator: EmulatorControl, run_id: str) -> str | None:
    return next((run["status"] for run in emulator.runs() if run["id"] == run_id), None)


def _announced(api: AirflowApi) -> Counter[str]:
    """How many asset events announce each run id."""
    asset_id = _asset_id(api)
    if asset_id is None:
        return Counter()
    events = api.request("GET", "/assets/events", params={"asset_id": asset_id, "limit": 100})["asset_events"]
    return Counter(_payload(event)["run_id"] for event in events)


def _asset_id(api: AirflowApi) -> int | None:
    assets = api.request("GET", "/assets", params={"limit": 100})["assets"]
    return next((a["id"] for a in assets if a["name"] == ASSET_NAME), None)


def _stored_mark(api: AirflowApi) -> Any:
    """The watcher's mark in the asset state store (Airflow 3.3+), or None."""
    asset_id = _asset_id(api)
    if asset_id is None:
        return None
    entries = api.request("GET", f"/assets/{asset_id}/state-store")["asset_state_store"]
    return next((e["value"] for e in entries if e["key"] == MARK_KEY), None)


def _stored_mark_covers(api: AirflowApi, emulator: EmulatorControl, run_ids: list[str]) -> bool:
    mark = Mark.from_json(_stored_mark(api))
    runs = {run["id"]: run for run in emulator.runs() if run["id"] in run_ids}
    if mark is None or len(runs) < len(run_ids):
        return False
    finishes = [parse_time(run.get("finishedAt")) for run in runs.values()]
    return all(f is not None and f.timestamp() <= mark.finished for f in finishes)


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    extra = event.get("extra") or {}
    return extra.get("payload") or {}


def _watching_lines(cluster: AirflowCluster) -> int:
    return sum(
        log.read_text(errors="replace").count("Watching actor_task_id=demo~it-watched from now on")
        for log in (cluster.home / "proc-logs").glob("triggerer*.log")
    )


def test_watcher_fires_once_per_finished_run_and_survives_a_triggerer_crash(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    emulator.add_task(WATCHED_TASK, duration_secs=2)
    api.unpause("it_on_finished_run")
    wait_for(lambda: _watching_lines(airflow_cluster) > 0, timeout=DEADLINE, what="the watcher to list the task's runs")

    first = [_start_elsewhere(emulator) for _ in range(2)]
    wait_for(
        lambda: all(_announced(api)[run_id] for run_id in first),
        timeout=DEADLINE,
        what="an asset event for each run started elsewhere",
        describe=lambda: f"announced: {_announced(api)}, runs: {[_run_status(emulator, r) for r in first]}",
    )
    seen = list(first)

    if EVENT_TRIGGER_ASSET_STATE:
        # The watcher stores its mark once the triggerer has stored the events (a second or two
        # later); kill the triggerer after that, let runs finish while none is up, start another.
        wait_for(
            lambda: _stored_mark_covers(api, emulator, first),
            timeout=DEADLINE,
            what="the watcher's stored mark to pass the runs it announced",
            describe=lambda: f"stored: {_stored_mark(api)}",
        )
        old = airflow_cluster.services["triggerer"]
        old.kill_hard()
        wait_for(lambda: not old.group_members(), timeout=30, interval=0.5, what="the triggerer's processes to die")
        while_down = [_start_elsewhere(emulator) for _ in range(2)]
        wait_for(
            lambda: all(_run_status(emulator, r) == "SUCCEEDED" for r in while_down),
            timeout=DEADLINE,
            what="the runs started while no triggerer runs to finish",
        )
        airflow_cluster.start_service("triggerer")
        seen += while_down

    # A run that ends after everything above: once it is announced, any repeat of an earlier run
    # (which would come from the first look after a restart) has already been announced too.
    last = _start_elsewhere(emulator)
    wait_for(
        lambda: _announced(api)[last],
        timeout=DEADLINE,
        what="the asset event of the last run",
        describe=lambda: f"announced: {_announced(api)}",
    )
    seen.append(last)

    announced = _announced(api)
    assert {run_id: announced[run_id] for run_id in seen} == {run_id: 1 for run_id in seen}, announced
    assert set(announced) == set(seen), f"events for runs nobody started: {set(announced) - set(seen)}"

    # The consumer DAG ran on those events and read every run through finished_run().
    def consumer_runs_done() -> list[dict[str, Any]] | None:
        runs = api.request("GET", "/dags/it_on_finished_run/dagRuns", params={"limit": 100})["dag_runs"]
        return runs if runs and all(r["state"] in ("success", "failed") for r in runs) else None

    runs = wait_for(consumer_runs_done, timeout=DEADLINE, what="the consumer DAG runs to finish")
    assert all(r["state"] == "success" for r in runs), [(r["dag_run_id"], r["state"]) for r in runs]
    read: list[str] = []
    for r in runs:
        read += api.xcom("it_on_finished_run", r["dag_run_id"], "read_runs", "return_value")
    assert set(read) >= set(first), (read, first)
