"""Fault switches, armed in-process and over the ``/_emulator/faults`` control endpoint."""

from __future__ import annotations

import pytest
import requests

START = "/v2/actor-tasks/demo~succeeds-with-items/runs"


def test_status_fault_answers_without_running_the_handler(api, apify_emulator):
    apify_emulator.faults.add("status", status=429, retry_after=2, method="POST", path=r"/runs$")
    response = api.post(START)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["type"] == "rate-limit-exceeded"
    assert apify_emulator.runs() == []
    assert api.post(START).status_code == 201  # count=1: consumed


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults(api, apify_emulator, status):
    apify_emulator.faults.add("status", status=status)
    response = api.get("/v2/users/me")
    assert response.status_code == status
    assert response.json()["error"]["type"] == "internal-server-error"
    assert "Retry-After" not in response.headers


def test_status_fault_with_a_custom_error_type(api, apify_emulator):
    apify_emulator.faults.add("status", status=400, error_type="actor-memory-limit-exceeded", message="No memory")
    assert api.post(START).json() == {"error": {"type": "actor-memory-limit-exceeded", "message": "No memory"}}


def test_count_and_filters(api, apify_emulator):
    apify_emulator.faults.add("status", status=503, count=2, method="GET", path=r"^/v2/actor-runs/")
    assert api.get("/v2/users/me").status_code == 200  # path does not match
    run = api.start_task("demo~slow")  # method does not match
    assert [api.get(f"/v2/actor-runs/{run['id']}").status_code for _ in range(3)] == [503, 503, 200]


def test_forever_until_cleared(api, apify_emulator):
    apify_emulator.faults.add("status", status=500, count=None)
    assert all(api.get("/v2/users/me").status_code == 500 for _ in range(5))
    apify_emulator.faults.clear()
    assert api.get("/v2/users/me").status_code == 200


def test_latency_fault_delays_then_handles(api, apify_emulator):
    apify_emulator.faults.add("latency", seconds=0.05)
    assert api.get("/v2/users/me").status_code == 200
    assert apify_emulator.faults.rules() == []


def test_latency_combines_with_another_fault(api, apify_emulator):
    apify_emulator.faults.add("latency", seconds=0.01)
    apify_emulator.faults.add("status", status=502)
    assert api.get("/v2/users/me").status_code == 502
    assert apify_emulator.faults.rules() == []


def test_drop_before_resets_the_connection_and_creates_nothing(api, apify_emulator):
    apify_emulator.faults.add("drop_before", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post(START)
    assert apify_emulator.runs() == []
    assert apify_emulator.stats()["by_status"] == {"dropped": 1}


def test_drop_after_creates_the_run_but_the_client_gets_no_answer(api, apify_emulator):
    apify_emulator.faults.add("drop_after", method="POST", path=r"/runs$")
    with pytest.raises(requests.ConnectionError):
        api.post(START, headers={"User-Agent": "provider/1.0 attempt-1"})
    runs = apify_emulator.runs()
    assert len(runs) == 1 and runs[0]["meta"]["userAgent"] == "provider/1.0 attempt-1"
    # The run is there for a client that looks before retrying.
    listed = api.get("/v2/actor-tasks/demo~succeeds-with-items/runs", params={"desc": 1}).json()["data"]
    assert listed["items"][0]["id"] == runs[0]["id"]


def test_malformed_runs_the_handler_and_answers_garbage(api, apify_emulator):
    apify_emulator.faults.add("malformed", method="POST")
    response = api.post(START)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert len(apify_emulator.runs()) == 1


def test_faults_do_not_touch_control_endpoints(api, apify_emulator):
    apify_emulator.faults.add("status", status=500, count=None)
    assert api.get("/_emulator/stats").status_code == 200
    assert api.get("/_emulator/health").json()["data"]["status"] == "ok"


def test_faults_over_http(api, apify_emulator):
    created = api.post("/_emulator/faults", json={"kind": "status", "status": 503, "retry_after": 1, "count": 2})
    assert created.status_code == 201 and created.json()["data"]["kind"] == "status"
    many = api.post("/_emulator/faults", json=[{"kind": "latency", "seconds": 0}, {"kind": "drop_after"}])
    assert len(many.json()["data"]) == 2
    assert len(api.get("/_emulator/faults").json()["data"]) == 3
    assert api.get("/v2/users/me").status_code == 503
    assert api.delete("/_emulator/faults").json()["data"] == {"cleared": 2}  # the latency rule was used up
    assert api.get("/v2/users/me").status_code == 200


@pytest.mark.parametrize(
    "rule",
    [{"kind": "explode"}, {"kind": "status"}, {"kind": "status", "status": 500, "typo": 1}, {"status": 500}, "x"],
)
def test_invalid_fault_rules_are_rejected(api, rule):
    response = api.post("/_emulator/faults", json=rule)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid-input"


def test_stats_count_requests_by_route_template(api, apify_emulator):
    run = api.start_task("demo~fails")
    api.get(f"/v2/actor-runs/{run['id']}")
    api.get(f"/v2/actor-runs/{run['id']}")
    api.get("/v2/users/me", headers={"Authorization": "Bearer nope"})
    stats = api.get("/_emulator/stats").json()["data"]
    assert stats["total"] == 4
    assert stats["by_route"] == {
        "POST /v2/actor-tasks/{taskId}/runs": 1,
        "GET /v2/actor-runs/{runId}": 2,
        "GET /v2/users/me": 1,
    }
    assert stats["by_status"] == {"201": 1, "200": 2, "401": 1}


def test_control_endpoints_reset_revoke_advance_and_create(api, apify_emulator):
    assert api.post("/_emulator/tokens/revoke", json={"token": apify_emulator.token}).status_code == 200
    assert api.get("/v2/users/me").status_code == 401
    assert api.post("/_emulator/tokens/revoke", json={}).status_code == 400
    assert api.post("/_emulator/reset").status_code == 200
    assert api.get("/v2/users/me").status_code == 200
    run = api.start_task("demo~slow")
    assert api.post("/_emulator/clock/advance", json={"seconds": 121}).status_code == 200
    assert api.run(run["id"])["status"] == "SUCCEEDED"
    dataset = api.post("/_emulator/datasets", json={"item_count": 7}).json()["data"]
    assert dataset["itemCount"] == 7
    actor = api.post("/_emulator/actors", json={"name": "other", "duration_secs": 1}).json()["data"]
    assert api.get(f"/v2/actors/{actor['id']}").json()["data"]["name"] == "other"
    assert api.post("/_emulator/tasks", json={"name": "t", "actor": "demo~other"}).status_code == 201
    assert api.post("/_emulator/tasks", json={"duration_secs": 1}).status_code == 400
