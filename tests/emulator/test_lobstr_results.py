"""``GET /v1/results``: scope (run or squid, optional task), paging, generated rows."""

from __future__ import annotations

import re

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]
NAIVE_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


def finished_run(api, emulator, squid: str) -> str:
    run = api.post("/v1/runs", json={"squid": squid}).json()["id"]
    emulator.advance(1_000)
    return run


def results(api, **params) -> dict:
    response = api.get("/v1/results", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_rows_and_paging_of_a_run(lobstr_api, lobstr_emulator):
    run = finished_run(lobstr_api, lobstr_emulator, DEMO["hash"])
    first = results(lobstr_api, run=run)
    assert (first["total_results"], first["limit"], first["total_pages"], len(first["data"])) == (60, 50, 2, 50)
    row = first["data"][0]
    assert {"id", "object", "squid", "run", "scraping_time"} <= set(row)
    assert (row["object"], row["squid"], row["run"], row["position"]) == ("result", DEMO["hash"], run, 1)
    assert len(row["id"]) == 32 and NAIVE_MICROS.match(row["scraping_time"])
    second = results(lobstr_api, run=run, page=2)
    assert (second["result_from"], second["result_to"], second["next"], len(second["data"])) == (51, 60, None, 10)
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert len(set(ids)) == 60
    small = [r["id"] for p in range(1, 7) for r in results(lobstr_api, run=run, limit=10, page=p)["data"]]
    assert small == ids  # pages of any size cut the same sequence
    assert results(lobstr_api, run=run, limit=1000)["limit"] == 100


def test_rows_are_deterministic(lobstr_api, lobstr_emulator):
    run = finished_run(lobstr_api, lobstr_emulator, DEMO["hash"])
    assert results(lobstr_api, run=run, page=2) == results(lobstr_api, run=run, page=2)


def test_task_filter_and_squid_scope(lobstr_api, lobstr_emulator):
    first = finished_run(lobstr_api, lobstr_emulator, DEMO["hash"])
    second = finished_run(lobstr_api, lobstr_emulator, DEMO["hash"])
    one_task = results(lobstr_api, run=first, task=DEMO["tasks"][1])
    assert one_task["total_results"] == 20 and one_task["data"][0]["name"] == "Place 2-1"
    squid = results(lobstr_api, squid=DEMO["hash"], limit=100)
    assert squid["total_results"] == 120
    assert [r["run"] for r in squid["data"][::60]] == [first, second]  # oldest run first
    assert results(lobstr_api, squid=DEMO["hash"], task=DEMO["tasks"][0])["total_results"] == 40
    unknown = lobstr_api.get("/v1/results", params={"run": first, "task": "0" * 32})
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "task"
    assert lobstr_api.get("/v1/results", params={"run": "0" * 32}).json()["error"] == {
        "message": "Run not found",
        "type": "not_found_error",
        "param": "run",
    }


def test_results_grow_while_the_run_collects(lobstr_api, lobstr_emulator):
    run = lobstr_api.post("/v1/runs", json={"squid": DEMO["hash"]}).json()["id"]
    assert results(lobstr_api, run=run)["total_results"] == 0
    lobstr_emulator.advance(2.5)
    assert results(lobstr_api, run=run)["total_results"] == 30


def test_page_size_is_ignored_only_limit_counts(lobstr_api, lobstr_emulator):
    run = finished_run(lobstr_api, lobstr_emulator, DEMO["hash"])
    page = results(lobstr_api, run=run, page_size=5)
    assert (page["limit"], len(page["data"])) == (50, 50)


def test_a_hundred_thousand_results_cost_nothing_until_read(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("big", task_count=2, results_per_task=50_000, duration_secs=10)["id"]
    run = finished_run(lobstr_api, lobstr_emulator, squid)
    last = results(lobstr_api, run=run, limit=100, page=1000)
    assert (last["total_results"], last["total_pages"], last["result_from"], last["result_to"]) == (
        100_000, 1000, 99_901, 100_000
    )
    assert last["data"][-1]["name"] == "Place 2-50000" and last["next"] is None
