"""Case 5: a run-finished watcher (``ApifyRunFinishedTrigger`` in an ``AssetWatcher``) in a real
triggerer. Runs are started straight on the emulator (as the platform's scheduler or console
would); each successful one must give the asset exactly one event, which schedules the consumer
DAG. On Airflow 3.3 the watcher's mark lives in the asset state store: a triggerer killed with
SIGKILL while runs finish must neither lose nor repeat any of them once a new triggerer starts.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from contextlib import closing
from typing import Any

import pytest

from airflow_provider_tasks.common.assets import finished_run
from airflow_provider_tasks.common.compat import EVENT_TRIGGER_ASSET_STATE
from airflow_provider_tasks.common.finished_runs import Mark
from airflow_provider_tasks.common.times import parse_time
from airflow_provider_tasks.common.watchers import MARK_KEY
from tests.integration.harness import AirflowApi, AirflowCluster, EmulatorControl, wait_for

pytestmark = pytest.mark.integration

WATCHED_TASK = "it-watched"  # the DAG file watches demo~it-watched
ASSET_NAME = "apify-it-watched-runs"
DEADLINE = 180


def _start_elsewhere(emulator: EmulatorControl, task: str = WATCHED_TASK) -> str:
    """Start a run of a task the way the platform's own scheduler would: not via Airflow."""
    response = emulator.http.post(
        f"{emulator.base_url}/v2/actor-tasks/demo~{task}/runs",
        headers={"Authorization": f"Bearer {emulator.token}"},
        json={},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def _run_status(emulator: EmulatorControl, run_id: str) -> str | None:
    return next((run["status"] for run in emulator.runs() if run["id"] == run_id), None)


def _announced(cluster: AirflowCluster) -> Counter[str]:
    """How many asset events announce each run id, read from the metadata database (Airflow
    3.3.2's ``GET /assets/events`` answers 500 while an event's DAG run is queued, its
    ``start_date`` still null)."""
    with closing(sqlite3.connect(f"file:{cluster.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)) as db:
        rows = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?", (ASSET_NAME,)
        ).fetchall()
    return Counter(finished_run(json.loads(extra) if isinstance(extra, str) else extra)["run_id"] for (extra,) in rows)


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


def _watching_lines(cluster: AirflowCluster, task: str = f"demo~{WATCHED_TASK}") -> int:
    return sum(
        log.read_text(errors="replace").count(f"Watching actor_task_id={task} from now on")
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
        lambda: all(_announced(airflow_cluster)[run_id] for run_id in first),
        timeout=DEADLINE,
        what="an asset event for each run started elsewhere",
        describe=lambda: f"announced: {_announced(airflow_cluster)}, runs: {[_run_status(emulator, r) for r in first]}",
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
        lambda: _announced(airflow_cluster)[last],
        timeout=DEADLINE,
        what="the asset event of the last run",
        describe=lambda: f"announced: {_announced(airflow_cluster)}",
    )
    seen.append(last)

    announced = _announced(airflow_cluster)
    assert {run_id: announced[run_id] for run_id in seen} == dict.fromkeys(seen, 1), announced
    assert set(announced) == set(seen), f"events for runs nobody started: {set(announced) - set(seen)}"

    # The consumer DAG runs on those events and reads them through finished_run(). Airflow puts every
    # event since the previous DAG run into the next one, and an event stored in the instant a DAG
    # run is created waits for the next event to be consumed: so the consumer has read the first
    # run, never a run twice, and only announced runs.
    def consumer_read() -> list[str] | None:
        runs = api.request("GET", "/dags/it_on_finished_run/dagRuns", params={"limit": 100})["dag_runs"]
        read: list[str] = []
        for run in runs:
            assert run["state"] != "failed", f"consumer DAG run failed: {run}"
            if run["state"] != "success":
                return None
            read += api.xcom("it_on_finished_run", run["dag_run_id"], "read_runs", "return_value")
        return read if first[0] in read else None

    read = wait_for(consumer_read, timeout=DEADLINE, what="the consumer DAG to read the first run")
    assert len(read) == len(set(read)) and set(read) <= set(seen), (read, seen)


def test_example_asset_pair_consumer_reads_runs_from_airflow_and_from_elsewhere(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    """example_dags/example_asset_pair.py: the producer DAG's outlet and the watcher of a task run
    elsewhere feed one consumer DAG, which reads the items of both runs."""
    emulator.add_task("scheduled-scrape", duration_secs=2, item_count=4)
    for dag_id in ("example_asset_producer", "example_asset_consumer"):
        api.unpause(dag_id)
    wait_for(
        lambda: _watching_lines(airflow_cluster, "demo~scheduled-scrape") > 0,
        timeout=DEADLINE,
        what="the example's watcher to list the task's runs",
    )
    producer_run = api.trigger("example_asset_producer", {})
    elsewhere = _start_elsewhere(emulator, "scheduled-scrape")
    produced = api.wait_dag_run_state("example_asset_producer", producer_run, timeout=DEADLINE)
    assert produced["state"] == "success", produced
    from_airflow = api.xcom("example_asset_producer", producer_run, "run_scraper", "run_id")

    def items_read() -> dict[str, int] | None:
        runs = api.request("GET", "/dags/example_asset_consumer/dagRuns", params={"limit": 100})["dag_runs"]
        counts: dict[str, int] = {}
        for run in runs:
            if run["state"] == "failed":
                raise AssertionError(f"consumer DAG run failed: {run}")
            if run["state"] == "success":
                counts.update(api.xcom("example_asset_consumer", run["dag_run_id"], "read_items", "return_value"))
        return counts if {from_airflow, elsewhere} <= set(counts) else None

    counts = wait_for(items_read, timeout=DEADLINE, what="the consumer to read both runs' items")
    assert counts[elsewhere] == 4  # the watched task's run: 4 items
    assert counts[from_airflow] == 25  # demo~succeeds-with-items: 25 items
