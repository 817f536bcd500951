"""``example_dags/example_apify_mapped.py`` (the docs' "Mapped runs" snippet) run with ``dag.test()``
against an emulated Actor that echoes its input into its items: one run per input, each started
once, and map index ``i`` of the download wrote the items of run ``i``'s dataset.

The same DAG shape at scale (50 map indexes, a real scheduler and triggerer, one index cleared
while deferred) is ``tests/integration/test_mapped_runs.py``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS
from tests.dag_harness import _asset_event_table, _decode, _reopen_closed_log_streams, _xcom_table

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_apify_mapped.py"
SEARCHES = ["espresso machine", "green tea", "matcha whisk"]


def _mapped_xcoms(dag_id: str, run_id: str) -> dict[tuple[str, int, str], object]:
    """Every XCom of the DAG run by (task, map index, key)."""
    from airflow.utils.session import create_session
    from sqlalchemy import select

    XCom = _xcom_table()
    with create_session() as session:
        rows = session.execute(
            select(XCom.task_id, XCom.map_index, XCom.key, XCom.value).where(
                XCom.dag_id == dag_id, XCom.run_id == run_id
            )
        ).all()
    return {(task, index, key): _decode(value) for task, index, key, value in rows}


def _asset_events(dag_id: str, run_id: str) -> list[tuple[int, dict]]:
    from airflow.utils.session import create_session
    from sqlalchemy import select

    Event = _asset_event_table()
    with create_session() as session:
        rows = session.execute(
            select(Event.source_map_index, Event.extra).where(
                Event.source_dag_id == dag_id, Event.source_run_id == run_id, Event.source_task_id == "run_actor"
            )
        ).all()
    return sorted((index, _decode(extra) or {}) for index, extra in rows)


@pytest.mark.xfail(
    AIRFLOW_V_3_0_PLUS and not AIRFLOW_V_3_1_PLUS,
    reason="Airflow 3.0's dag.test() does not activate the DAG's assets (the example's run task has an outlet)",
    strict=True,
)
def test_mapped_example_runs_each_input_once_and_downloads_each_runs_own_dataset(
    airflow_db, apify_conn_env, apify_emulator, capfd, monkeypatch, tmp_path
):
    from airflow_provider_tasks.testing.run_example import dag_bag

    apify_emulator.add_actor("searcher", duration_secs=4, item_count=3, echo_input=True)
    monkeypatch.setenv("APIFY_ACTOR", "demo~searcher")
    monkeypatch.setenv("APIFY_EXAMPLE_OUTPUT_DIR", str(tmp_path / "out"))
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    path = dags_folder / EXAMPLE.name
    shutil.copyfile(EXAMPLE, path)
    try:
        dag = dag_bag(dag_folder=str(path)).get_dag("example_apify_mapped")
        assert dag is not None
        _reopen_closed_log_streams()
        dag_run = dag.test()
        output = "".join(capfd.readouterr())
    finally:
        path.unlink(missing_ok=True)
    assert str(dag_run.state) == "success", output[-3000:]

    runs = _with_inputs(apify_emulator, apify_emulator.runs())
    assert sorted(run["input"]["search"] for run in runs) == sorted(SEARCHES)  # each input run once
    assert {run["status"] for run in runs} == {"SUCCEEDED"}
    by_term = {run["input"]["search"]: run for run in runs}

    xcoms = _mapped_xcoms(dag.dag_id, dag_run.run_id)
    written_paths = set()
    for index, term in enumerate(SEARCHES):  # map index i ran input i
        run = by_term[term]
        assert xcoms[("run_actor", index, "run_id")] == run["id"]
        written = xcoms[("download_items", index, "return_value")]
        assert written["dataset_id"] == run["defaultDatasetId"]
        assert written["item_count"] == 3
        items = [json.loads(line) for line in Path(written["path"]).read_text().splitlines()]
        assert [item["input"] for item in items] == [{"search": term}] * 3, written
        written_paths.add(written["path"])
        if AIRFLOW_V_3_0_PLUS:  # the link rendered by the worker, per map index
            assert (
                xcoms[("run_actor", index, "_link_ApifyRunLink")]
                == f"https://console.apify.com/actors/runs/{run['id']}"
            )
    assert len(written_paths) == len(SEARCHES)

    if AIRFLOW_V_3_0_PLUS:  # 2.11's dag.test() stores no dataset events
        events = _asset_events(dag.dag_id, dag_run.run_id)
        assert [index for index, _ in events] == list(range(len(SEARCHES)))
        assert [extra["run_id"] for _, extra in events] == [by_term[term]["id"] for term in SEARCHES]


def _with_inputs(emulator, runs: list[dict]) -> list[dict]:
    """The runs with their input (``GET /v2/key-value-stores/{id}/records/INPUT``, as Apify keeps it)."""
    import requests

    found = []
    for run in runs:
        url = f"{emulator.base_url}/v2/key-value-stores/{run['defaultKeyValueStoreId']}/records/INPUT"
        answer = requests.get(url, headers={"Authorization": f"Bearer {emulator.token}"}, timeout=30)
        answer.raise_for_status()
        found.append({**run, "input": answer.json()})
    return found
