"""Starting, listing, waiting on and aborting runs; lifecycle on the emulator's clock.

Time moves with ``apify_emulator.advance(seconds)``, never with sleeps.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import threading

import pytest

from tests.emulator.helpers import wait_until


@pytest.fixture(autouse=True)
def frozen_clock(request, apify_emulator):
    """Only ``advance`` moves the emulator's clock in these checks of exact progress (tests marked
    ``real_time`` excepted): a busy machine's delay between two requests must not show in them."""
    if "real_time" not in request.keywords:
        apify_emulator.freeze_clock()

# Every key of the run-task seed's 201 example.
RUN_KEYS = {
    "id", "actId", "userId", "actorTaskId", "startedAt", "finishedAt", "status", "statusMessage",
    "isStatusMessageTerminal", "meta", "stats", "options", "buildId", "exitCode", "generalAccess",
    "defaultKeyValueStoreId", "defaultDatasetId", "defaultRequestQueueId", "buildNumber", "containerUrl",
    "isContainerServerReady", "gitBranchName", "usage", "usageTotalUsd", "usageUsd",
}  # fmt: skip
STATS_KEYS = {
    "inputBodyLen", "migrationCount", "restartCount", "resurrectCount", "memAvgBytes", "memMaxBytes",
    "memCurrentBytes", "cpuAvgUsage", "cpuMaxUsage", "cpuCurrentUsage", "netRxBytes", "netTxBytes",
    "durationMillis", "runTimeSecs", "metamorph", "computeUnits",
}  # fmt: skip
LIST_ITEM_KEYS = {
    "id", "actId", "actorTaskId", "status", "startedAt", "finishedAt", "buildId", "buildNumber", "meta",
    "usageTotalUsd", "defaultKeyValueStoreId", "defaultDatasetId", "defaultRequestQueueId",
}  # fmt: skip


def test_start_task_run_returns_201_with_the_full_run(api, apify_emulator):
    response = api.post(
        "/v2/actor-tasks/demo~succeeds-with-items/runs",
        params={"memory": 2048, "timeout": 600, "build": "0.1.23", "maxItems": 10, "maxTotalChargeUsd": 1.5},
        headers={"User-Agent": "airflow-provider-tasks/test"},
    )
    assert response.status_code == 201
    run = response.json()["data"]
    assert set(run) >= RUN_KEYS
    assert set(run["stats"]) >= STATS_KEYS
    assert run["status"] == "RUNNING" and run["finishedAt"] is None
    assert run["meta"]["origin"] == "API"
    assert run["meta"]["userAgent"] == "airflow-provider-tasks/test"
    assert run["actorTaskId"] == apify_emulator.state.find_task("demo~succeeds-with-items").id
    assert run["options"] == {
        "build": "0.1.23",
        "timeoutSecs": 600,
        "memoryMbytes": 2048,
        "diskMbytes": 4096,
        "maxItems": 10,
        "maxTotalChargeUsd": 1.5,
    }
    assert run["buildNumber"] == "0.1.23"
    assert run["startedAt"].endswith("Z") and len(run["startedAt"]) == 24
    assert all(len(run[key]) == 17 for key in ("id", "defaultDatasetId", "defaultKeyValueStoreId"))
    assert response.headers["Location"].endswith(f"/v2/actor-runs/{run['id']}")


def test_options_default_to_the_task_settings(api):
    run = api.start_task("demo~succeeds-with-items")
    assert run["options"] == {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 1024, "diskMbytes": 2048}


def test_memory_must_be_a_power_of_two_of_at_least_128(api, apify_emulator):
    for memory in (100, 1000, 65536):
        response = api.post("/v2/actor-tasks/demo~fails/runs", params={"memory": memory})
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid-input"
    assert apify_emulator.runs() == []


def test_body_overrides_task_input_and_gzip_is_accepted(api):
    body = gzip.compress(json.dumps({"maxPagesPerCrawl": 99, "extra": "x" * 5000}).encode())
    response = api.post(
        "/v2/actor-tasks/demo~succeeds-with-items/runs",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 201
    run = response.json()["data"]
    run_input = api.get(f"/v2/key-value-stores/{run['defaultKeyValueStoreId']}/records/INPUT").json()
    assert run_input["maxPagesPerCrawl"] == 99 and run_input["startUrls"]  # merged with the saved input
    assert len(run_input["extra"]) == 5000


def test_bad_bodies_are_400(api):
    bad_json = api.post("/v2/actor-tasks/demo~fails/runs", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    not_object = api.post("/v2/actor-tasks/demo~fails/runs", json=[1, 2])
    assert not_object.json()["error"]["type"] == "invalid-input"


def test_webhooks_param_must_be_base64_json(api):
    good = base64.b64encode(json.dumps([{"eventTypes": ["ACTOR.RUN.SUCCEEDED"], "requestUrl": "http://x"}]).encode())
    assert api.post("/v2/actor-tasks/demo~fails/runs", params={"webhooks": good.decode()}).status_code == 201
    assert api.post("/v2/actor-tasks/demo~fails/runs", params={"webhooks": "!!"}).status_code == 400


def test_actor_run_body_is_the_input_under_both_spellings(api, apify_emulator):
    for prefix in ("/v2/actors", "/v2/acts"):
        response = api.post(f"{prefix}/demo~example-actor/runs", json={"only": prefix})
        assert response.status_code == 201
        run = response.json()["data"]
        assert run["actorTaskId"] is None
        record = api.get(f"/v2/actor-runs/{run['id']}/key-value-store/records/INPUT").json()
        assert record == {"only": prefix}
    runs = api.get("/v2/actors/demo~example-actor/runs").json()["data"]
    assert runs["total"] == 2


def test_lifecycle_ready_running_succeeded(api, apify_emulator):
    apify_emulator.add_task("paced", ready_secs=5, duration_secs=10, item_count=4)
    run = api.start_task("demo~paced")
    assert run["status"] == "READY"
    apify_emulator.advance(5)
    assert api.run(run["id"])["status"] == "RUNNING"
    apify_emulator.advance(10)
    done = api.run(run["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["statusMessage"] == "Actor finished successfully" and done["isStatusMessageTerminal"] is True
    assert done["exitCode"] == 0 and done["finishedAt"] > done["startedAt"]
    assert done["stats"]["runTimeSecs"] >= 10


def test_cost_per_second_makes_usage_total_usd_grow_while_running(api, apify_emulator):
    apify_emulator.add_task("pricey", ready_secs=2, duration_secs=100, cost_per_second=0.5, memory_mbytes=128)
    run = api.start_task("demo~pricey")
    assert run["usageTotalUsd"] < 0.01  # READY costs nothing
    apify_emulator.advance(12)  # 10 s running
    running = api.run(run["id"])
    assert running["status"] == "RUNNING" and 5.0 <= running["usageTotalUsd"] < 5.01
    listed = api.get("/v2/actor-tasks/demo~pricey/runs").json()["data"]["items"][0]
    assert running["usageTotalUsd"] <= listed["usageTotalUsd"] < 5.02  # the list item carries it too


def test_failed_run_keeps_its_status_message(api, apify_emulator):
    run = api.start_task("demo~fails")
    apify_emulator.advance(2)
    done = api.run(run["id"])
    assert (done["status"], done["statusMessage"], done["exitCode"]) == ("FAILED", "Actor failed: example failure", 1)


def test_times_out_through_timing_out(api, apify_emulator):
    run = api.start_task("demo~times-out")
    apify_emulator.advance(2)
    assert api.run(run["id"])["status"] == "TIMING-OUT"
    apify_emulator.advance(1)
    assert api.run(run["id"])["status"] == "TIMED-OUT"


def test_run_longer_than_its_timeout_times_out(api, apify_emulator):
    run = api.start_task("demo~slow", timeout=10)
    apify_emulator.advance(11)
    assert api.run(run["id"])["status"] == "TIMED-OUT"


def test_stuck_ready_never_starts(api, apify_emulator):
    run = api.start_task("demo~stuck-ready")
    apify_emulator.advance(10**6)
    assert api.run(run["id"], waitForFinish=0)["status"] == "READY"


def test_graceful_abort_goes_through_aborting(api, apify_emulator):
    run = api.start_task("demo~slow")
    aborted = api.post(f"/v2/actor-runs/{run['id']}/abort", params={"gracefully": "true"}).json()["data"]
    assert aborted["status"] == "ABORTING"
    apify_emulator.advance(1)
    assert api.run(run["id"])["status"] == "ABORTED"


def test_abort_is_immediate_by_default_and_keeps_no_items(api, apify_emulator):
    run = api.start_task("demo~slow")
    assert api.post(f"/v2/actor-runs/{run['id']}/abort").json()["data"]["status"] == "ABORTED"
    apify_emulator.advance(200)
    assert api.get(f"/v2/datasets/{run['defaultDatasetId']}").json()["data"]["itemCount"] == 0


def test_abort_of_a_finished_run_changes_nothing(api, apify_emulator):
    run = api.start_task("demo~succeeds-with-items")
    apify_emulator.advance(5)
    before = api.run(run["id"])
    after = api.post(f"/v2/actor-runs/{run['id']}/abort").json()["data"]
    assert (after["status"], after["finishedAt"]) == ("SUCCEEDED", before["finishedAt"])


def test_unknown_run_is_404(api):
    response = api.get("/v2/actor-runs/AAAAAAAAAAAAAAAAA")
    assert response.json() == {"error": {"type": "record-not-found", "message": "Actor run was not found"}}
    assert api.post("/v2/actor-runs/AAAAAAAAAAAAAAAAA/abort").status_code == 404


def _long_poll_in_thread(api, run_id, results):
    thread = threading.Thread(target=lambda: results.append(api.run(run_id, waitForFinish=60)))
    thread.start()
    return thread


def test_wait_for_finish_returns_when_the_run_ends(api, apify_emulator):
    run = api.start_task("demo~slow")
    results: list = []
    thread = _long_poll_in_thread(api, run["id"], results)
    wait_until(lambda: apify_emulator.stats()["in_flight"] == 1)
    apify_emulator.advance(120)  # the held request wakes up, sees SUCCEEDED and answers
    thread.join(timeout=30)
    assert results and results[0]["status"] == "SUCCEEDED"


def test_wait_for_finish_returns_on_abort(api, apify_emulator):
    run = api.start_task("demo~stuck-ready")
    results: list = []
    thread = _long_poll_in_thread(api, run["id"], results)
    wait_until(lambda: apify_emulator.stats()["in_flight"] == 1)
    apify_emulator.abort_run(run["id"])
    thread.join(timeout=30)
    assert results and results[0]["status"] == "ABORTED"


@pytest.mark.real_time
def test_wait_for_finish_on_a_short_run_in_real_time(api, apify_emulator):
    apify_emulator.add_task("quick", duration_secs=0.2, item_count=2)
    run = api.start_task("demo~quick", waitForFinish=60)  # the start call itself waits
    assert run["status"] == "SUCCEEDED"
    assert api.run(run["id"], waitForFinish=60)["status"] == "SUCCEEDED"


def test_wait_for_finish_zero_answers_at_once(api):
    run = api.start_task("demo~slow", waitForFinish=0)
    assert api.run(run["id"], waitForFinish=0)["status"] == "RUNNING"


def test_list_runs_filters_sorts_and_uses_the_small_shape(api, apify_emulator):
    first = api.start_task("demo~fails")
    apify_emulator.advance(3)
    second = api.start_task("demo~fails")
    runs = api.get("/v2/actor-tasks/demo~fails/runs").json()["data"]
    assert [item["id"] for item in runs["items"]] == [first["id"], second["id"]]
    assert set(runs["items"][0]) >= LIST_ITEM_KEYS
    assert runs["items"][0]["meta"]["userAgent"] == first["meta"]["userAgent"]
    newest = api.get("/v2/actor-tasks/demo~fails/runs", params={"desc": "true"}).json()["data"]
    assert [item["id"] for item in newest["items"]] == [second["id"], first["id"]]
    failed = api.get("/v2/actor-tasks/demo~fails/runs", params={"status": "FAILED"}).json()["data"]
    assert [item["id"] for item in failed["items"]] == [first["id"]]
    either = api.get("/v2/actor-tasks/demo~fails/runs", params={"status": "FAILED,RUNNING"}).json()["data"]
    assert either["total"] == 2
    after = api.get("/v2/actor-runs", params={"startedAfter": second["startedAt"]}).json()["data"]
    assert [item["id"] for item in after["items"]] == [second["id"]]


def test_last_run_with_status_and_404_when_none(api, apify_emulator):
    assert api.get("/v2/actor-tasks/demo~fails/runs/last").status_code == 404
    first = api.start_task("demo~fails")
    apify_emulator.advance(3)
    second = api.start_task("demo~fails")
    assert api.get("/v2/actor-tasks/demo~fails/runs/last").json()["data"]["id"] == second["id"]
    last_failed = api.get("/v2/actor-tasks/demo~fails/runs/last", params={"status": "FAILED"}).json()["data"]
    assert last_failed["id"] == first["id"]
    assert api.get("/v2/actor-tasks/demo~fails/runs/last", params={"status": "SUCCEEDED"}).status_code == 404
    assert api.get("/v2/actors/demo~example-actor/runs/last").json()["data"]["id"] == second["id"]


def test_runs_are_listed_for_assertions(api, apify_emulator):
    api.start_task("demo~fails", waitForFinish=0)
    runs = api.get("/_emulator/runs").json()["data"]
    assert [run["id"] for run in runs] == [run["id"] for run in apify_emulator.runs()] and len(runs) == 1
    assert runs[0]["meta"]["userAgent"].startswith("python-requests/")


def test_add_task_validates_its_arguments(apify_emulator):
    for bad in ({"outcome": "MAYBE"}, {"duration_secs": -1}, {"duration_secs": math.inf}):
        try:
            apify_emulator.add_task("bad", **bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
