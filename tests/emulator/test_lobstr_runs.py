"""Lobstr.io runs over real HTTP: starting, the lifecycle on the emulator's clock, tasks inside a
run, stats, aborts with partial results, failures and the export file.

Time moves with ``lobstr_emulator.advance(seconds)``, never with sleeps; every check sits well
inside a phase, so the milliseconds real time adds never matter.
"""

from __future__ import annotations

import math
import re

import pytest
import requests

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]
RUN_KEYS = {
    "id", "object", "squid", "status", "is_done", "created_at", "started_at", "ended_at", "duration", "credit_used",
    "origin", "total_results", "total_unique_results", "export_done", "export_time", "export_count", "done_reason",
    "done_reason_desc", "next_launch_at", "force_launch", "email_done", "email_time", "email_verification",
}  # fmt: skip
STATS_KEYS = {
    "id", "object", "duration", "started_at", "ended_at", "is_done", "percent_done", "eta", "total_tasks",
    "total_tasks_done", "total_tasks_left", "total_results", "results_total", "results_done", "current_task",
    "total_requests", "updated_at",
}  # fmt: skip
RUNTASK_KEYS = {
    "object", "id", "task", "run", "status", "done_reason", "done_reason_desc", "params", "started_at", "ended_at",
    "total_results", "last_result", "total_pages", "last_page", "last_collection_at",
}  # fmt: skip
ZULU = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIMEDELTA = re.compile(r"^\d+:\d\d:\d\d(\.\d{6})?$")


@pytest.fixture(autouse=True)
def frozen_clock(lobstr_emulator):
    """Only ``advance`` moves the emulator's clock in these checks of exact progress: a busy
    machine's delay between two requests must not show in a percentage or a credit count."""
    lobstr_emulator.freeze_clock()


def start(api, squid: str) -> dict:
    response = api.post("/v1/runs", json={"squid": squid})
    assert response.status_code == 200, response.text
    return response.json()


def get_run(api, run_hash: str) -> dict:
    response = api.get(f"/v1/runs/{run_hash}")
    assert response.status_code == 200, response.text
    return response.json()


def task_status(api, task_hash: str) -> dict:
    return api.get(f"/v1/tasks/{task_hash}").json()["status"]


def test_start_answers_the_pending_run(lobstr_api):
    run = start(lobstr_api, DEMO["hash"])
    assert set(run) == RUN_KEYS
    assert (run["object"], run["squid"], run["status"], run["is_done"], run["origin"]) == (
        "run", DEMO["hash"], "pending", False, "user"
    )
    assert (run["total_results"], run["export_done"], run["done_reason"], run["ended_at"]) == (0, None, None, None)
    assert ZULU.match(run["started_at"]) and isinstance(run["duration"], float)


def test_demo_run_lifecycle(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, DEMO["hash"])["id"]
    lobstr_emulator.advance(2.5)  # 1 s pending, then 1.5 s into 3 s of running: task 1 done, task 2 half
    running = get_run(lobstr_api, run)
    assert (running["status"], running["is_done"], running["done_reason"]) == ("running", False, None)
    assert running["total_results"] == 30 and running["credit_used"] == 30.0
    assert [task_status(lobstr_api, t)["status"] for t in DEMO["tasks"]] == ["completed", "running", "pending"]
    stats = lobstr_api.get(f"/v1/runs/{run}/stats").json()
    assert set(stats) == STATS_KEYS and "status" not in stats
    assert (stats["percent_done"], stats["total_tasks"], stats["total_tasks_done"], stats["total_tasks_left"]) == (
        "50%", 3, 1, 2
    )
    assert (stats["results_total"], stats["results_done"], stats["current_task"]) == (60, 30, DEMO["tasks"][1])

    lobstr_emulator.advance(2)  # collection over, export being built
    uploading = get_run(lobstr_api, run)
    assert (uploading["status"], uploading["is_done"], uploading["export_done"]) == ("uploading", True, None)
    assert uploading["done_reason"] == "tasks_done" and uploading["total_results"] == 60

    lobstr_emulator.advance(1)
    done = get_run(lobstr_api, run)
    assert (done["status"], done["is_done"], done["export_done"], done["export_count"]) == ("done", True, True, 60)
    assert (done["done_reason"], done["done_reason_desc"]) == ("tasks_done", "All tasks are done")
    assert TIMEDELTA.match(done["duration"]) and ZULU.match(done["ended_at"]) and ZULU.match(done["export_time"])
    task = task_status(lobstr_api, DEMO["tasks"][0])
    assert {
        k: task[k] for k in ("status", "is_done", "total_results", "total_pages", "done_reason", "has_errors", "errors")
    } == {
        "status": "completed",
        "is_done": True,
        "total_results": 20,
        "total_pages": 1,
        "done_reason": "completed",
        "has_errors": False,
        "errors": None,
    }
    assert task["started_at"] < task["ended_at"]
    stats = lobstr_api.get(f"/v1/runs/{run}/stats").json()
    assert (stats["is_done"], stats["percent_done"], stats["eta"], stats["total_tasks_left"]) == (
        True, "100%", "0:00:00", 0
    )
    squid = lobstr_api.get(f"/v1/squids/{DEMO['hash']}").json()
    assert (squid["last_run"], squid["last_run_status"], squid["last_run_is_done"], squid["total_runs"]) == (
        run, "DONE", True, 1
    )


def test_duration_is_seconds_in_lists_and_text_in_get_run(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, DEMO["hash"])["id"]
    lobstr_emulator.advance(10)
    listed = lobstr_api.get("/v1/runs", params={"squid": DEMO["hash"]}).json()["data"][0]
    assert isinstance(listed["duration"], float) and listed["duration"] == pytest.approx(4.0, abs=0.5)
    assert TIMEDELTA.match(get_run(lobstr_api, run)["duration"])


def test_starting_while_a_run_is_active_is_400(lobstr_api, lobstr_emulator):
    first = start(lobstr_api, DEMO["hash"])["id"]
    response = lobstr_api.post("/v1/runs", json={"squid": DEMO["hash"]})
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": "A run is already active for this squid", "type": "validation_error", "param": "squid"}
    }
    lobstr_emulator.advance(4.5)  # uploading: is_done, but not terminal yet -> still active
    assert lobstr_api.post("/v1/runs", json={"squid": DEMO["hash"]}).status_code == 400
    lobstr_emulator.advance(1)
    second = start(lobstr_api, DEMO["hash"])["id"]
    listed = lobstr_api.get("/v1/runs", params={"squid": DEMO["hash"]}).json()
    assert [run["id"] for run in listed["data"]] == [second, first]  # newest first


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"squid": "f" * 32}, 404, "Squid not found"),
        ({}, 400, "This field is required."),
        (None, 400, "This field is required."),
    ],
)
def test_start_errors(lobstr_api, lobstr_emulator, body, status, message):
    response = lobstr_api.post("/v1/runs", json=body)
    assert response.status_code == status
    assert response.json()["error"]["message"] == message and response.json()["error"]["param"] == "squid"
    assert lobstr_emulator.runs() == []


def test_squid_not_ready_cannot_start(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("fresh", is_ready=False)["id"]
    response = lobstr_api.post("/v1/runs", json={"squid": squid})
    assert response.status_code == 400 and "not ready" in response.json()["error"]["message"]


def test_abort_keeps_partial_results(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, DEMO["hash"])["id"]
    lobstr_emulator.advance(2.5)
    response = lobstr_api.post(f"/v1/runs/{run}/abort")
    assert response.status_code == 200
    aborted = response.json()
    assert (aborted["status"], aborted["is_done"], aborted["done_reason"], aborted["export_done"]) == (
        "uploading", True, "aborted", None
    )
    assert isinstance(aborted["duration"], float)
    partial = aborted["total_results"]
    assert 20 < partial < 60
    lobstr_emulator.advance(100)
    final = get_run(lobstr_api, run)
    assert (final["status"], final["total_results"], final["export_done"], final["done_reason"]) == (
        "aborted", partial, True, "aborted"
    )
    statuses = [task_status(lobstr_api, t) for t in DEMO["tasks"]]
    assert [(s["status"], s["done_reason"]) for s in statuses] == [
        ("completed", "completed"),
        ("aborted", "run_aborted"),
        ("aborted", "run_aborted"),
    ]
    assert statuses[1]["is_done"] and 0 < statuses[1]["total_results"] < 20 and statuses[2]["started_at"] is None
    runtasks = lobstr_api.get("/v1/runtasks", params={"run": run}).json()["data"]
    assert [rt["status"] for rt in runtasks] == ["completed", "aborted", "aborted"]
    results = lobstr_api.get("/v1/results", params={"run": run, "limit": 100}).json()
    assert results["total_results"] == partial == len(results["data"])


def test_abort_of_a_finished_or_unknown_run_is_404(lobstr_api, lobstr_emulator):
    expected = {
        "error": {"message": "Run not found or already completed", "type": "not_found_error", "param": "run_hash"}
    }
    assert lobstr_api.post("/v1/runs/" + "0" * 32 + "/abort").json() == expected
    run = start(lobstr_api, DEMO["hash"])["id"]
    assert lobstr_api.post(f"/v1/runs/{run}/abort").status_code == 200
    second = lobstr_api.post(f"/v1/runs/{run}/abort")
    assert (second.status_code, second.json()) == (404, expected)
    other = start(lobstr_api, SEED_HASHES["failing-squid"]["hash"])["id"]
    lobstr_emulator.advance(60)
    assert lobstr_api.post(f"/v1/runs/{other}/abort").json() == expected


def test_failing_squid_ends_in_error(lobstr_api, lobstr_emulator):
    failing = SEED_HASHES["failing-squid"]
    run = start(lobstr_api, failing["hash"])["id"]
    lobstr_emulator.advance(1)
    assert get_run(lobstr_api, run)["status"] == "running"
    lobstr_emulator.advance(2)
    failed = get_run(lobstr_api, run)
    assert (failed["status"], failed["is_done"], failed["export_done"]) == ("error", True, None)
    assert (failed["done_reason"], failed["done_reason_desc"]) == (
        "website_inaccessible", "The website could not be reached"
    )
    status = task_status(lobstr_api, failing["tasks"][0])
    assert (status["status"], status["is_done"], status["done_reason"], status["has_errors"]) == (
        "failed", True, "error", True
    )
    assert status["errors"]
    assert [rt["status"] for rt in lobstr_api.get("/v1/runtasks", params={"run": run}).json()["data"]] == [
        "error", "error"
    ]
    assert lobstr_api.get(f"/v1/runs/{run}/download").status_code == 404


def test_pending_squid_stays_pending(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, SEED_HASHES["pending-squid"]["hash"])["id"]
    lobstr_emulator.advance(10_000)
    pending = get_run(lobstr_api, run)
    assert (pending["status"], pending["is_done"], pending["total_results"]) == ("pending", False, 0)
    assert lobstr_api.get(f"/v1/runs/{run}/stats").json()["eta"] == "∞"
    assert lobstr_api.post(f"/v1/runs/{run}/abort").json()["status"] == "uploading"


def test_slow_squid_progresses_with_the_clock(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, SEED_HASHES["slow-squid"]["hash"])["id"]
    lobstr_emulator.advance(60)
    assert (get_run(lobstr_api, run)["status"], get_run(lobstr_api, run)["total_results"]) == ("running", 30)
    lobstr_emulator.advance(62)
    assert get_run(lobstr_api, run)["status"] == "done"


def test_pause_reports_its_reason_and_resumes(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("flaky-account", duration_secs=4, pause_secs=30, task_count=1)["id"]
    run = start(lobstr_api, squid)["id"]
    lobstr_emulator.advance(10)
    paused = get_run(lobstr_api, run)
    assert (paused["status"], paused["is_done"], paused["done_reason"], paused["total_results"]) == (
        "paused", False, "no_account_available", 10
    )
    lobstr_emulator.advance(30)
    assert get_run(lobstr_api, run)["status"] == "done"


def test_done_with_another_reason_and_concurrency(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid(
        "capped", duration_secs=2, task_count=4, concurrency=2, results_per_task=3, done_reason="no_credits_left"
    )["id"]
    run = start(lobstr_api, squid)["id"]
    lobstr_emulator.advance(0.5)
    assert [rt["status"] for rt in lobstr_api.get("/v1/runtasks", params={"run": run}).json()["data"]] == [
        "running", "running", "pending", "pending",
    ]  # fmt: skip
    lobstr_emulator.advance(5)
    done = get_run(lobstr_api, run)
    assert (done["status"], done["done_reason"], done["total_results"]) == ("done", "no_credits_left", 12)


def test_squid_without_active_tasks_completes_at_once(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("no-tasks", task_count=0)["id"]
    lobstr_emulator.add_task("no-tasks", is_active=False)
    run = start(lobstr_api, squid)
    assert (run["status"], run["total_results"]) == ("done", 0)
    assert lobstr_api.get("/v1/runtasks", params={"run": run["id"]}).json()["total_results"] == 0


def test_runtasks_shape_and_deleted_tasks_stay_in_their_runs(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, DEMO["hash"])["id"]
    lobstr_api.delete(f"/v1/tasks/{DEMO['tasks'][0]}")
    lobstr_emulator.advance(10)
    page = lobstr_api.get("/v1/runtasks", params={"run": run, "limit": 2}).json()
    assert (page["total_results"], page["total_pages"], len(page["data"])) == (3, 2, 2)
    first = page["data"][0]
    assert set(first) == RUNTASK_KEYS
    assert (first["object"], first["task"], first["run"], first["total_results"], first["last_result"]) == (
        "runtask", DEMO["tasks"][0], run, 20, 20,
    )  # fmt: skip
    assert lobstr_api.get("/v1/runtasks", params={"run": "0" * 32}).json()["error"]["param"] == "run"


def test_get_run_and_stats_of_unknown_run_are_404(lobstr_api):
    for path in ("/v1/runs/" + "0" * 32, "/v1/runs/" + "0" * 32 + "/stats"):
        assert lobstr_api.get(path).json() == {
            "error": {"message": "Run not found", "type": "not_found_error", "param": "run_hash"}
        }


def test_export_download_is_a_signed_url_without_auth(lobstr_api, lobstr_emulator):
    run = start(lobstr_api, DEMO["hash"])["id"]
    not_ready = lobstr_api.get(f"/v1/runs/{run}/download")
    assert (not_ready.status_code, not_ready.json()["error"]["message"]) == (404, "Run not found or export not ready")
    lobstr_emulator.advance(10)
    url = lobstr_api.get(f"/v1/runs/{run}/download").json()["s3"]
    assert "Expires=" in url and lobstr_api.get(f"/v1/squids/{DEMO['hash']}").json()["download_url"]
    export = requests.get(url, timeout=10)  # no Authorization header, like S3
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    assert re.search(r'filename="demo-squid_\d{8}_\d{4}\.csv"', export.headers["Content-Disposition"])
    lines = export.text.splitlines()
    assert lines[0].startswith("scraping_time,position,name") and len(lines) == 61
    lobstr_emulator.advance(601)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403 and "<Code>AccessDenied</Code>" in expired.text


def test_python_api_and_control_endpoints(lobstr_api, lobstr_emulator):
    created = lobstr_api.post("/_emulator/squids", json={"name": "remote", "pending_secs": "inf", "task_count": 1})
    assert created.status_code == 201
    squid = created.json()["data"]
    assert lobstr_api.post("/_emulator/squids", json={"name": "remote"}).status_code == 400  # duplicate name
    assert lobstr_api.post("/_emulator/squids", json={"outcome": "done"}).status_code == 400  # no name
    task = lobstr_api.post("/_emulator/tasks", json={"squid": "remote", "params": {"keyword": "x"}})
    assert task.status_code == 201 and task.json()["data"]["params"] == {"keyword": "x"}
    scheduled = lobstr_api.post("/_emulator/runs", json={"squid": squid["id"], "origin": "schedule"}).json()["data"]
    assert (scheduled["origin"], scheduled["status"]) == ("schedule", "pending")
    listed = lobstr_api.get("/_emulator/runs").json()["data"]
    assert [r["id"] for r in listed] == [r["id"] for r in lobstr_emulator.runs("remote")] == [scheduled["id"]]
    assert set(lobstr_emulator.get_run(scheduled["id"])) == set(get_run(lobstr_api, scheduled["id"])) == RUN_KEYS
    with pytest.raises(ValueError, match="already active"):
        lobstr_emulator.start_run("remote")
    assert lobstr_emulator.abort_run(scheduled["id"])["status"] == "uploading"
    with pytest.raises(ValueError, match="already completed"):
        lobstr_emulator.abort_run(scheduled["id"])
    with pytest.raises(KeyError):
        lobstr_emulator.get_run("0" * 32)
    assert lobstr_emulator.squid("remote")["total_runs"] == 1
    assert math.isinf(lobstr_emulator.state.find_squid("remote").behaviour.pending_secs)
