"""Mapped runs at scale on a real Airflow 3: DAG ``it_mapped`` (``dag_files/integration_dags.py``)
expands a deferrable ``ApifyRunActorOperator`` over 50 inputs and a download over the runs' return
values, against an emulated Actor that echoes its input into its items.

One map index is cleared while it is deferred (REST); everything else is read back through the
REST API (task instances, XCom, extra links, asset events) and the emulator (runs, inputs), and
the downloaded files from the DAG run's output folder. Waits are deadline-bounded polls.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_1_PLUS
from tests.integration.harness import AirflowApi, AirflowCluster, EmulatorControl, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

DAG_ID = "it_mapped"
INPUTS = 50  # MAPPED_INPUTS of the DAG file
ITEMS = 3
#: Long enough that a run is still going when its index is cleared, however slowly a busy 2-core
#: machine starts the 50 tasks; the runs overlap, so the test takes little longer for it.
RUN_SECONDS = 40
DEADLINE = 600.0
ABORT_STATUSES = {"ABORTING", "ABORTED"}


def _mapped(api: AirflowApi, run_id: str, task_id: str) -> dict[int, dict[str, Any]]:
    """The mapped task instances of ``task_id`` by map index (none before it is expanded)."""
    data = api.request(
        "GET",
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/listMapped",
        params={"limit": 100},
        expect=(200, 404),
    )
    return {ti["map_index"]: ti for ti in (data or {}).get("task_instances", [])}


def _xcom(api: AirflowApi, run_id: str, task_id: str, index: int, key: str) -> Any:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
    return api.request("GET", path, params={"map_index": index})["value"]


def _links(api: AirflowApi, run_id: str, index: int) -> dict[str, Any]:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/run/links"
    data = api.request("GET", path, params={"map_index": index})
    return data.get("extra_links", data)  # 3.x wraps the links; be lenient about the envelope


def _trigger_started(cluster: AirflowCluster, run_id: str, index: int) -> bool:
    """Whether a triggerer started the trigger of map index ``index`` of ``run`` (its trigger log
    ``.../task_id=run/map_index=N/attempt=1.log.trigger.<job id>.log`` says so)."""
    folder = cluster.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / "task_id=run" / f"map_index={index}"
    return any(" starting" in path.read_text(errors="replace") for path in folder.glob("attempt=*.log.trigger.*.log"))


_INPUTS: dict[str, Any] = {}
"""Run id -> its input (read once: a run's input never changes)."""


def _runs_by_index(emulator: EmulatorControl, actor: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """The Actor's emulator runs, oldest first, grouped by the map index their input names."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for run in emulator.runs():
        if run["actId"] == actor["id"]:
            if run["id"] not in _INPUTS:
                _INPUTS[run["id"]] = emulator.run_input(run)
            grouped.setdefault(_INPUTS[run["id"]]["index"], []).append(run)
    return grouped


def test_fifty_mapped_runs_each_once_with_their_own_dataset_event_and_link(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    """50 map indexes: each input run exactly once, also with one index cleared while deferred
    (its run aborted, exactly one replacement, no other index touched); map index i downloads run
    i's dataset; one asset event and one "Apify run" link per map index, each naming its run."""
    started = time.monotonic()
    uid = uuid.uuid4().hex[:8]
    actor = emulator.add_actor(f"it-mapped-{uid}", duration_secs=RUN_SECONDS, item_count=ITEMS, echo_input=True)
    out_dir = airflow_cluster.home / "mapped-output" / uid
    run_id = api.trigger(DAG_ID, {"actor": f"demo~{actor['name']}", "out_dir": str(out_dir)})

    # 1. Clear one map index while it is deferred and its trigger runs in the triggerer.
    def one_deferred_and_running() -> tuple[int, dict[str, Any]] | None:
        deferred = sorted(i for i, ti in _mapped(api, run_id, "run").items() if ti["state"] == "deferred")
        for index in deferred:
            if _trigger_started(airflow_cluster, run_id, index):
                runs = _runs_by_index(emulator, actor).get(index, [])
                if len(runs) == 1 and runs[0]["status"] == "RUNNING":
                    return index, runs[0]
        return None

    cleared, first = wait_for(
        one_deferred_and_running,
        timeout=DEADLINE,
        what="a map index deferred, its trigger running and its Apify run RUNNING",
        describe=lambda: f"states: {Counter(ti['state'] for ti in _mapped(api, run_id, 'run').values())}",
    )
    api.request(
        "POST",
        f"/dags/{DAG_ID}/clearTaskInstances",
        json={"dry_run": False, "dag_run_id": run_id, "task_ids": [["run", cleared]], "only_failed": False},
    )

    def runs_of_cleared() -> list[tuple[str, str]]:
        return [(r["id"], r["status"]) for r in _runs_by_index(emulator, actor).get(cleared, [])]

    wait_for(
        lambda: any(run_id == first["id"] and status in ABORT_STATUSES for run_id, status in runs_of_cleared()),
        timeout=120,
        what=f"the Apify run of cleared map index {cleared} to be aborted",
        describe=lambda: f"runs of it: {runs_of_cleared()}",
    )

    dag_run = api.wait_dag_run_state(DAG_ID, run_id, timeout=DEADLINE)
    runs_tis, download_tis = _mapped(api, run_id, "run"), _mapped(api, run_id, "download")
    states = Counter(ti["state"] for ti in [*runs_tis.values(), *download_tis.values()])
    assert dag_run["state"] == "success", (dag_run["state"], states)
    assert sorted(runs_tis) == sorted(download_tis) == list(range(INPUTS))
    assert states == {"success": 2 * INPUTS}, states

    # 2. Each input ran exactly once, but the cleared one: its run aborted and exactly one more.
    by_index = _runs_by_index(emulator, actor)
    assert sorted(by_index) == list(range(INPUTS))
    counts = {index: len(runs) for index, runs in by_index.items()}
    assert counts == {index: 2 if index == cleared else 1 for index in range(INPUTS)}, counts
    assert by_index[cleared][0]["id"] == first["id"] and by_index[cleared][0]["status"] == "ABORTED"
    final = {index: runs[-1] for index, runs in by_index.items()}
    assert {run["status"] for run in final.values()} == {"SUCCEEDED"}
    assert runs_tis[cleared]["try_number"] == 2
    assert {ti["try_number"] for index, ti in runs_tis.items() if index != cleared} == {1}

    # 3. Per map index: XCom, the download (its return value and file), the extra link.
    for index in range(INPUTS):
        run = final[index]
        assert _xcom(api, run_id, "run", index, "run_id") == run["id"]
        assert _xcom(api, run_id, "run", index, "default_dataset_id") == run["defaultDatasetId"]
        written = _xcom(api, run_id, "download", index, "return_value")
        if isinstance(written, str):  # some lines hand XCom values back serialised
            written = json.loads(written)
        assert written["dataset_id"] == run["defaultDatasetId"], (index, written)
        assert written["item_count"] == ITEMS
        assert Path(written["path"]) == out_dir / f"{index}.jsonl"
        items = [json.loads(line) for line in Path(written["path"]).read_text().splitlines()]
        assert [item["input"] for item in items] == [{"index": index, "search": f"query {index}"}] * ITEMS
        links = _links(api, run_id, index)
        assert links.get("Apify run") == f"https://console.apify.com/actors/runs/{run['id']}", (index, links)
    assert len({run["defaultDatasetId"] for run in final.values()}) == INPUTS

    # 4. One asset event per map index, its extra naming that index's (final) run.
    events = api.request(
        "GET", "/assets/events", params={"source_dag_id": DAG_ID, "source_run_id": run_id, "limit": 100}
    )["asset_events"]
    by_event_index = {event["source_map_index"]: event for event in events}
    assert sorted(event["source_map_index"] for event in events) == list(range(INPUTS))
    for index, event in by_event_index.items():
        assert event["source_task_id"] == "run"
        assert event["extra"]["run_id"] == final[index]["id"], (index, event["extra"])
        assert event["extra"]["default_dataset_id"] == final[index]["defaultDatasetId"]
        assert event["extra"]["status"] == "SUCCEEDED"

    print(
        f"\n[it_mapped] {INPUTS} mapped runs + downloads, map index {cleared} cleared while deferred: "
        f"{time.monotonic() - started:.0f}s (Airflow {'3.1+' if AIRFLOW_V_3_1_PLUS else '3.0'})"
    )
