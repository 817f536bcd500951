"""OpenLineage through real Airflow (issue 11, section 3): ``dag.test()`` with the OpenLineage
provider's file transport, and the emitted events' inputs and outputs checked.

Each DAG runs in its own interpreter (``dag_runner``): the provider decides once per process,
from the environment, whether it is enabled and where events go. The OpenLineage provider is in
the ``test`` extra, so it is always there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.dag_harness import DAG_HEADER

ROOT = Path(__file__).resolve().parents[2]


def run_with_lineage(body: str, tmp_path: Path) -> tuple[str, str, list[dict[str, Any]]]:
    """Run a DAG of ``body`` with lineage going to a file; (state, output, the events)."""
    dag_id = f"ol_{uuid.uuid4().hex[:12]}"
    source = DAG_HEADER + textwrap.dedent(
        f"""
        with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False) as dag:
        """
    ) + textwrap.indent(textwrap.dedent(body), "    ")
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{dag_id}.py"
    path.write_text(source)
    events_file = tmp_path / "openlineage.jsonl"
    state_file = tmp_path / f"{dag_id}.state"
    env = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "lineage-tests",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.lineage.dag_runner", str(path), dag_id, str(state_file)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        )
    finally:
        path.unlink(missing_ok=True)
    output = done.stdout + done.stderr
    state = state_file.read_text() if state_file.exists() else f"no state (exit {done.returncode})"
    events = [json.loads(line) for line in events_file.read_text().splitlines()] if events_file.exists() else []
    return state, output, [
        event for event in events if event.get("job", {}).get("name", "").startswith(f"{dag_id}.")
    ]


def task_events(events: list[dict[str, Any]], task_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["job"]["name"].endswith(f".{task_id}") and e["eventType"] == event_type]


def task_event(events: list[dict[str, Any]], task_id: str, event_type: str = "COMPLETE") -> dict[str, Any]:
    """The one ``event_type`` event of ``task_id`` (a deferred task's resumption emits a second
    START, never a second COMPLETE or FAIL)."""
    found = task_events(events, task_id, event_type)
    assert len(found) == 1, [(e["job"]["name"], e["eventType"]) for e in events]
    return found[0]


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in datasets]


def host_of(emulator) -> str:
    return emulator.base_url.split("://", 1)[1]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_apify_run_produces_its_dataset_and_the_download_writes_the_file(
    airflow_db, apify_conn_env, apify_emulator, tmp_path, deferrable
):
    apify_emulator.add_task("crawl", duration_secs=7, item_count=12)
    out = tmp_path / "items.jsonl"
    state, output, events = run_with_lineage(
        f"""
        run = ApifyRunTaskOperator(task_id="run", actor_task_id="demo~crawl", deferrable={deferrable})
        items = ApifyDatasetItemsOperator(task_id="items", output_path={str(out)!r})
        run >> items
        """,
        tmp_path,
    )
    assert state == "success", output[-4000:]
    run = apify_emulator.runs()[0]
    namespace = f"apify://{host_of(apify_emulator)}"
    dataset = (namespace, f"datasets/{run['defaultDatasetId']}")

    started = task_events(events, "run", "START")
    assert len(started) == (2 if deferrable else 1)  # the resumption after the trigger starts again
    assert {event["job"]["namespace"] for event in started} == {"lineage-tests"}
    completed = task_event(events, "run")
    assert names(completed["inputs"]) == []
    assert names(completed["outputs"]) == [dataset]
    query = completed["run"]["facets"]["externalQuery"]
    assert (query["externalQueryId"], query["source"]) == (run["id"], namespace)

    download = task_event(events, "items")
    assert names(download["inputs"]) == [dataset]
    assert names(download["outputs"]) == [("file", str(out))]
    assert download["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 12


def test_apify_actor_run_and_object_storage_target(airflow_db, apify_conn_env, apify_emulator, tmp_path):
    """An Actor run, and a download to an object-storage URL (``file://``, the scheme that needs no
    service or provider: object-store buckets are named the same way, see test_naming)."""
    apify_emulator.add_actor("scraper", duration_secs=2, item_count=5)
    out = tmp_path / "out" / "items.csv"
    state, output, events = run_with_lineage(
        f"""
        run = ApifyRunActorOperator(task_id="run", actor_id="demo~scraper", deferrable=False)
        items = ApifyDatasetItemsOperator(task_id="items", output_path={"file://" + str(out)!r}, format="csv")
        run >> items
        """,
        tmp_path,
    )
    assert state == "success", output[-4000:]
    run = apify_emulator.runs()[0]
    dataset = (f"apify://{host_of(apify_emulator)}", f"datasets/{run['defaultDatasetId']}")
    assert names(task_event(events, "run")["outputs"]) == [dataset]
    download = task_event(events, "items")
    assert names(download["inputs"]) == [dataset]
    assert names(download["outputs"]) == [("file", str(out))]
    assert download["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 5


def test_failed_apify_run_reports_no_output(airflow_db, apify_conn_env, apify_emulator, tmp_path):
    apify_emulator.add_task("broken", duration_secs=2, outcome="FAILED")
    state, output, events = run_with_lineage(
        'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~broken", deferrable=False)\n', tmp_path
    )
    assert state == "failed", output[-4000:]
    failed = task_event(events, "run", "FAIL")
    assert names(failed["outputs"]) == []
    assert "externalQuery" not in failed["run"]["facets"]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_lobstr_run_produces_its_results_and_the_download_reads_them(
    airflow_db, lobstr_conn_env, lobstr_emulator, tmp_path, deferrable
):
    squid = lobstr_emulator.add_squid("crawl", duration_secs=6, results_per_task=4, task_count=2)["id"]
    out = tmp_path / "results.json"
    state, output, events = run_with_lineage(
        f"""
        run = LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, deferrable={deferrable}, poll_interval=5)
        results = LobstrResultsOperator(task_id="results", output_path={str(out)!r}, format="json")
        everything = LobstrResultsOperator(task_id="everything", squid_id={squid!r}, output_path={str(out) + ".all"!r})
        run >> results >> everything
        """,
        tmp_path,
    )
    assert state == "success", output[-4000:]
    run = lobstr_emulator.runs(squid)[0]
    namespace = f"lobstr://{host_of(lobstr_emulator)}"
    results = (namespace, f"runs/{run['id']}")

    completed = task_event(events, "run")
    assert names(completed["outputs"]) == [results]
    assert completed["run"]["facets"]["externalQuery"]["externalQueryId"] == run["id"]

    download = task_event(events, "results")
    assert names(download["inputs"]) == [results]
    assert names(download["outputs"]) == [("file", str(out))]
    assert download["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 8

    squid_wide = task_event(events, "everything")
    assert names(squid_wide["inputs"]) == [(namespace, f"squids/{squid}")]
    assert names(squid_wide["outputs"]) == [("file", str(out) + ".all")]
