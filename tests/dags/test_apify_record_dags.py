"""ApifyGetRecordOperator inside real Airflow (``dag.test()``) against the emulator: the run's
``OUTPUT`` by default, binary records byte for byte, JSON to XCom under a cap, clear failures."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # 1 MiB of every byte value, NUL and CR/LF included
OUTPUT = {"title": "Example Domain", "prices": [1.5, 2], "ok": True}
IMPORT = "from airflow_provider_tasks.apify.operators import ApifyGetRecordOperator\n"


def test_the_run_output_by_default_a_binary_record_and_json_to_xcom(run_dag, apify_emulator, tmp_path):
    apify_emulator.add_task("shots", duration_secs=1, records={"OUTPUT": OUTPUT, "screenshot.png": (PNG, "image/png")})
    apify_emulator.faults.add("cut", path="/records/screenshot", count=1)  # the first try loses the connection
    result = run_dag(
        IMPORT
        + textwrap.dedent(f"""
        run = ApifyRunTaskOperator(task_id="run", actor_task_id="demo~shots", deferrable=False)
        output = ApifyGetRecordOperator(task_id="output", output_path="{tmp_path}/output.json", push_json=True)
        shot = ApifyGetRecordOperator(task_id="shot", key="screenshot.png",
                                      output_path="{tmp_path}/{{{{ ti.task_id }}}}/shot.png")
        value_only = ApifyGetRecordOperator(task_id="value_only", push_json=True)

        @task
        def title(record):
            return record["value"]["title"]

        run >> [output, shot, value_only]
        title(value_only.output)
        """)
    )
    assert result.state == "success", result.output[-3000:]
    store = result.xcom("run", "default_key_value_store_id")
    assert store == result.xcom("run")["defaultKeyValueStoreId"]
    stored, content_type = apify_emulator.get_record(store, "OUTPUT")
    assert result.xcom("output") == {
        "path": f"{tmp_path}/output.json", "store_id": store, "key": "OUTPUT", "content_type": content_type,
        "size": len(stored), "value": OUTPUT,
    }  # fmt: skip
    assert (tmp_path / "output.json").read_bytes() == stored and content_type.startswith("application/json")
    assert result.xcom("shot") == {
        "path": f"{tmp_path}/shot/shot.png", "store_id": store, "key": "screenshot.png", "content_type": "image/png",
        "size": len(PNG),
    }  # fmt: skip
    assert (tmp_path / "shot" / "shot.png").read_bytes() == PNG
    assert os.listdir(tmp_path / "shot") == ["shot.png"]  # the cut try left no partial file
    assert result.xcom("value_only")["path"] is None and result.xcom("title") == "Example Domain"
    assert apify_emulator.stats()["by_route"]["GET /v2/key-value-stores/{storeId}/records/{key}"] == 4


def test_missing_records_and_stores_binary_to_xcom_and_a_value_over_the_cap_fail_clearly(
    run_dag, apify_emulator, tmp_path
):
    big = {"rows": ["x" * 100] * 100}
    store = apify_emulator.add_key_value_store({"OUTPUT": big, "photo.png": (PNG, "image/png")})["id"]
    result = run_dag(
        IMPORT
        + textwrap.dedent(f"""
        ApifyGetRecordOperator(task_id="no_record", store_id={store!r}, key="missing.json",
                               output_path="{tmp_path}/missing/record.json")
        ApifyGetRecordOperator(task_id="no_store", store_id="no-such-store", output_path="{tmp_path}/gone/out.json")
        ApifyGetRecordOperator(task_id="over_cap", store_id={store!r}, push_json=True, max_json_bytes=1000,
                               output_path="{tmp_path}/cap/output.json")
        ApifyGetRecordOperator(task_id="not_json", store_id={store!r}, key="photo.png", push_json=True,
                               output_path="{tmp_path}/binary/photo.png")
        ApifyGetRecordOperator(task_id="no_upstream", output_path="{tmp_path}/none/out.json")
        """)
    )
    assert result.state == "failed"
    assert set(result.task_states.values()) == {"failed"}, result.task_states
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]  # no file, no .partial-* anywhere
    size = len(apify_emulator.get_record(store, "OUTPUT")[0])
    result.assert_error_shown(
        f"key-value store {store!r} has no record 'missing.json'; it holds the keys OUTPUT, photo.png: "
        "pass key=... to download one of them"
    )
    result.assert_error_shown("key-value store 'no-such-store' does not exist (looking for record 'OUTPUT')")
    result.assert_error_shown(
        f"Apify record 'OUTPUT' of key-value store {store!r} is {size} bytes, over max_json_bytes=1000 for pushing "
        "its value to XCom"
    )
    result.assert_error_shown("push_json=True needs a JSON record, but Apify record 'photo.png'")
    result.assert_error_shown("store_id is not set and task 'no_upstream' has no upstream task")


def test_json_records_pushed_to_xcom_stay_plain_json(run_dag, apify_emulator):
    store = apify_emulator.add_key_value_store({"OUTPUT": [{"n": 1}, None, "ü"]}, name="plain")["id"]
    result = run_dag(IMPORT + 'ApifyGetRecordOperator(task_id="get", store_id="demo~plain", push_json=True)\n')
    assert result.state == "success", result.output[-3000:]
    assert result.xcom("get")["value"] == [{"n": 1}, None, "ü"] and result.xcom("get")["store_id"] == "demo~plain"
    assert json.loads(apify_emulator.get_record(store, "OUTPUT")[0]) == [{"n": 1}, None, "ü"]


def test_the_example_dag_downloads_the_run_output_record(airflow_db, apify_conn_env, apify_emulator, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """``example_dags/example_apify.py``, whose record step the how-to page shows, as CI runs it."""
    from airflow_provider_tasks.testing.run_example import dag_bag
    from tests.dag_harness import _xcoms

    monkeypatch.setenv("APIFY_EXAMPLE_OUTPUT_DIR", str(tmp_path))
    source = Path(__file__).resolve().parents[2] / "example_dags" / "example_apify.py"
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / "example_apify.py"
    shutil.copyfile(source, path)
    try:
        dag = dag_bag(dag_folder=str(path)).get_dag("example_apify")
        dag_run = dag.test()
    finally:
        path.unlink()
    assert str(dag_run.state) == "success"
    record = _xcoms("example_apify", dag_run.run_id)[("download_output", "return_value")]
    assert record["key"] == "OUTPUT" and record["value"] == {"status": "SUCCEEDED", "itemCount": 25}
    assert json.loads(Path(record["path"]).read_bytes()) == record["value"]
    assert Path(record["path"]).parent.parent == tmp_path
    assert record["store_id"] == apify_emulator.runs()[0]["defaultKeyValueStoreId"]
