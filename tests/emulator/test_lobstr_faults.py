"""The core's fault switches on the Lobstr.io emulator, with Lobstr's error bodies."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]
START = {"squid": DEMO["hash"]}


def test_429_fault_answers_the_throttled_detail_with_retry_after(lobstr_api, lobstr_emulator):
    lobstr_emulator.faults.add("status", status=429, retry_after=2, method="POST", path=r"^/v1/runs$")
    response = lobstr_api.post("/v1/runs", json=START)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json() == {"detail": "Request was throttled. Expected available in 2 seconds."}
    assert lobstr_emulator.runs() == []
    assert lobstr_api.post("/v1/runs", json=START).status_code == 200  # count=1: consumed


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults(lobstr_api, lobstr_emulator, status):
    lobstr_emulator.faults.add("status", status=status)
    response = lobstr_api.get("/v1/me")
    assert response.status_code == status
    assert response.json() == {
        "errors": {"message": f"Injected fault: HTTP {status}", "type": "SomethingWentWrong", "code": status}
    }


@pytest.mark.parametrize(
    ("error_type", "body"),
    [
        ("throttled", {"detail": "m"}),
        ("validation_error", {"error": {"message": "m", "type": "validation_error"}}),
        ("RateLimitExceeded", {"error": "m", "type": "RateLimitExceeded", "code": 429}),
        ("NotEnoughBalance", {"errors": {"message": "m", "type": "NotEnoughBalance", "code": 429}}),
    ],
)
def test_error_type_picks_each_documented_body_shape(lobstr_api, lobstr_emulator, error_type, body):
    lobstr_emulator.faults.add("status", status=429, error_type=error_type, message="m")
    assert lobstr_api.get("/v1/me").json() == body


def test_results_rate_limit_is_only_a_fault(lobstr_api, lobstr_emulator):
    run = lobstr_api.post("/v1/runs", json=START).json()["id"]
    assert all(lobstr_api.get("/v1/results", params={"run": run}).status_code == 200 for _ in range(10))
    lobstr_emulator.faults.add("status", status=429, retry_after=1, path=r"^/v1/results", count=None)
    assert lobstr_api.get("/v1/results", params={"run": run}).status_code == 429
    assert lobstr_api.get(f"/v1/runs/{run}").status_code == 200


def test_latency_then_handled(lobstr_api, lobstr_emulator):
    lobstr_emulator.faults.add("latency", seconds=0.05)
    assert lobstr_api.get("/v1/me").status_code == 200
    assert lobstr_emulator.faults.rules() == []


def test_drop_before_creates_no_run(lobstr_api, lobstr_emulator):
    lobstr_emulator.faults.add("drop_before", method="POST")
    with pytest.raises(requests.ConnectionError):
        lobstr_api.post("/v1/runs", json=START)
    assert lobstr_emulator.runs() == []
    assert lobstr_emulator.stats()["by_status"] == {"dropped": 1}


def test_drop_after_creates_the_run_and_a_blind_retry_hits_already_active(lobstr_api, lobstr_emulator):
    """The answer was lost but the run exists: retrying the start is the documented 400, and the
    run is there for a client that looks first (newest run of the squid, not done)."""
    lobstr_emulator.faults.add("drop_after", method="POST", path=r"^/v1/runs$")
    with pytest.raises(requests.ConnectionError):
        lobstr_api.post("/v1/runs", json=START)
    assert len(lobstr_emulator.runs()) == 1
    retry = lobstr_api.post("/v1/runs", json=START)
    assert retry.status_code == 400 and retry.json()["error"]["message"] == "A run is already active for this squid"
    newest = lobstr_api.get("/v1/runs", params={"squid": DEMO["hash"], "limit": 1}).json()["data"][0]
    assert (newest["id"], newest["is_done"]) == (lobstr_emulator.runs()[0]["id"], False)


def test_malformed_runs_the_handler_and_answers_garbage(lobstr_api, lobstr_emulator):
    lobstr_emulator.faults.add("malformed", method="POST")
    response = lobstr_api.post("/v1/runs", json=START)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert len(lobstr_emulator.runs()) == 1


def test_faults_over_http_and_control_endpoints_bypass_them(lobstr_api, lobstr_emulator):
    created = lobstr_api.post("/_emulator/faults", json={"kind": "status", "status": 503, "count": None})
    assert created.status_code == 201
    assert lobstr_api.get("/v1/me").status_code == 503
    assert lobstr_api.get("/_emulator/health").json()["data"] == {"status": "ok", "platform": "Lobstr.io API"}
    assert lobstr_api.delete("/_emulator/faults").json()["data"] == {"cleared": 1}
    assert lobstr_api.get("/v1/me").status_code == 200
    bad = lobstr_api.post("/_emulator/faults", json={"kind": "explode"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "validation_error"


def test_control_reset_revoke_advance_and_stats(lobstr_api, lobstr_emulator):
    assert lobstr_api.post("/_emulator/tokens/revoke", json={"token": lobstr_emulator.token}).status_code == 200
    assert lobstr_api.get("/v1/me").json() == {"detail": "Invalid token."}
    assert lobstr_api.post("/_emulator/reset").status_code == 200
    run = lobstr_api.post("/v1/runs", json={"squid": SEED_HASHES["slow-squid"]["hash"]}).json()["id"]
    assert lobstr_api.post("/_emulator/clock/advance", json={"seconds": 200}).status_code == 200
    assert lobstr_api.get(f"/v1/runs/{run}").json()["status"] == "done"
    stats = lobstr_api.get("/_emulator/stats").json()["data"]
    assert stats["by_route"] == {"POST /v1/runs": 1, "GET /v1/runs/{run_hash}": 1}
