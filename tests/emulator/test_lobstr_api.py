"""The Lobstr.io emulator's account, squid and task endpoints: the seed's task shape, auth, error
bodies and the pagination envelope, over real HTTP."""

from __future__ import annotations

import re

import pytest

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]
HASH = re.compile(r"^[0-9a-f]{32}$")
NAIVE_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
ENVELOPE_KEYS = {
    "total_results", "limit", "page", "total_pages", "result_from", "result_to", "next", "previous", "data"
}  # fmt: skip
# The seed's fields, in the seed's order.
TASK_KEYS = ["hash_value", "created_at", "is_active", "params", "module", "status", "object"]
STATUS_KEYS = [
    "status", "started_at", "ended_at", "is_done", "total_results", "total_pages", "done_reason", "has_errors",
    "errors",
]  # fmt: skip


def test_get_task_has_exactly_the_seed_shape(lobstr_api):
    response = lobstr_api.get(f"/v1/tasks/{DEMO['tasks'][0]}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    task = response.json()
    assert list(task) == TASK_KEYS and list(task["status"]) == STATUS_KEYS
    assert task["hash_value"] == DEMO["tasks"][0] and HASH.match(task["hash_value"])
    assert NAIVE_MICROS.match(task["created_at"])
    assert (task["is_active"], task["module"], task["object"]) == (True, 5, "task")
    assert task["params"] == {"url": "https://example.com/demo-squid/1"}
    assert task["status"] == {
        "status": "pending",
        "started_at": None,
        "ended_at": None,
        "is_done": False,
        "total_results": 0,
        "total_pages": 0,
        "done_reason": None,
        "has_errors": False,
        "errors": None,
    }


def test_unknown_task_is_404_with_the_documented_body(lobstr_api):
    response = lobstr_api.get("/v1/tasks/" + "0" * 32)
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "Task not found", "type": "not_found_error", "param": "task_hash"}}
    assert lobstr_api.delete("/v1/tasks/" + "0" * 32).json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": "Bearer test-token"}, "Authentication credentials were not provided."),
        ({"Authorization": "Token"}, "Authentication credentials were not provided."),
        ({"Authorization": "Token wrong"}, "Invalid token."),
    ],
)
def test_auth_failures_are_401_detail(lobstr_anon, headers, detail):
    response = lobstr_anon.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_token_keyword_is_case_insensitive_and_revocation_works(lobstr_anon, lobstr_api, lobstr_emulator):
    assert lobstr_anon.get("/v1/me", headers={"Authorization": "token test-token"}).status_code == 200
    lobstr_emulator.revoke_token(lobstr_emulator.token)
    assert lobstr_api.get("/v1/me").json() == {"detail": "Invalid token."}
    lobstr_emulator.reset()
    assert lobstr_api.get("/v1/me").status_code == 200


def test_me_and_balance(lobstr_api):
    me = lobstr_api.get("/v1/me").json()
    assert {"first_name", "last_name", "email", "email_verified", "plan", "is_staff"} <= set(me)
    balance = lobstr_api.get("/v1/user/balance").json()
    assert (balance["object"], balance["consumed"], balance["used_slots"]) == ("plan", 0, 0)
    assert balance["available"] > 0 and HASH.match(balance["id"])


def test_unknown_path_and_wrong_method(lobstr_api):
    missing = lobstr_api.get("/v1/no-such-thing")
    assert missing.status_code == 404 and set(missing.json()) == {"detail"}
    wrong = lobstr_api.delete("/v1/squids")
    assert wrong.status_code == 405 and set(wrong.json()) == {"detail"} and "GET" in wrong.headers["Allow"]


def test_squids_list_and_details(lobstr_api):
    listed = lobstr_api.get("/v1/squids").json()
    assert set(listed) == ENVELOPE_KEYS
    assert [s["name"] for s in listed["data"]] == ["demo-squid", "failing-squid", "slow-squid", "pending-squid"]
    assert [s["id"] for s in listed["data"]] == [SEED_HASHES[s["name"]]["hash"] for s in listed["data"]]
    squid = lobstr_api.get(f"/v1/squids/{DEMO['hash']}").json()
    assert squid == listed["data"][0]
    assert (squid["is_ready"], squid["total_runs"], squid["last_run"], squid["download_url"]) == (True, 0, None, None)
    assert lobstr_api.get("/v1/squids", params={"name": "SLOW"}).json()["total_results"] == 1
    assert lobstr_api.get("/v1/squids/" + "f" * 32).json() == {
        "error": {"message": "Squid not found", "type": "not_found_error", "param": "squid_hash"}
    }


def test_pagination_envelope(lobstr_api, lobstr_emulator):
    lobstr_emulator.add_squid("many", task_count=120)
    squid = lobstr_emulator.squid("many")["id"]
    first = lobstr_api.get("/v1/tasks", params={"squid": squid}).json()
    assert {k: first[k] for k in ENVELOPE_KEYS - {"data", "next"}} == {
        "total_results": 120,
        "limit": 50,
        "page": 1,
        "total_pages": 3,
        "result_from": 1,
        "result_to": 50,
        "previous": None,
    }
    assert len(first["data"]) == 50 and set(first["data"][0]) == {"id", "created_at", "is_active", "params"}
    last = lobstr_api.get(first["next"].replace(lobstr_api.base_url, "")).json()
    last = lobstr_api.get(last["next"].replace(lobstr_api.base_url, "")).json()
    assert (last["page"], last["result_from"], last["result_to"], last["next"]) == (3, 101, 120, None)
    assert "page=2" in last["previous"]
    capped = lobstr_api.get("/v1/tasks", params={"squid": squid, "limit": 500}).json()
    assert (capped["limit"], len(capped["data"]), capped["total_pages"]) == (100, 100, 2)
    beyond = lobstr_api.get("/v1/tasks", params={"squid": squid, "page": 9}).json()
    assert (beyond["data"], beyond["result_from"], beyond["result_to"]) == ([], 0, 0)


def test_empty_list_has_one_page(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("empty", task_count=0)["id"]
    page = lobstr_api.get("/v1/runs", params={"squid": squid}).json()
    assert (page["total_results"], page["total_pages"], page["result_from"], page["data"]) == (0, 1, 0, [])


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/tasks", {}, "squid"),
        ("/v1/runs", {}, "squid"),
        ("/v1/runtasks", {}, "run"),
        ("/v1/tasks", {"squid": DEMO["hash"], "page": 0}, "page"),
        ("/v1/tasks", {"squid": DEMO["hash"], "limit": "ten"}, "limit"),
        ("/v1/tasks", {"squid": DEMO["hash"], "type": "csv"}, "type"),
        ("/v1/results", {}, "squid,run"),
        ("/v1/results", {"squid": DEMO["hash"], "run": "x"}, "squid,run"),
    ],
)
def test_bad_queries_are_400_validation_errors(lobstr_api, path, params, param):
    response = lobstr_api.get(path, params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("validation_error", param) and error["message"]


def test_list_tasks_by_type(lobstr_api, lobstr_emulator):
    lobstr_emulator.add_task("demo-squid", {"keyword": "pizza", "location": "Paris"})
    by_type = {
        kind: lobstr_api.get("/v1/tasks", params={"squid": DEMO["hash"], "type": kind}).json()
        for kind in ("url", "params")
    }
    assert (by_type["url"]["total_results"], by_type["params"]["total_results"]) == (3, 1)
    assert by_type["params"]["data"][0]["params"] == {"keyword": "pizza", "location": "Paris"}


def test_add_tasks_skips_duplicates(lobstr_api):
    body = {"squid": DEMO["hash"], "tasks": [{"url": "https://example.com/new"}, {"url": "https://example.com/demo-squid/1"}]}
    response = lobstr_api.post("/v1/tasks", json=body)
    assert response.status_code == 200
    added = response.json()
    assert added["duplicated_count"] == 1 and len(added["tasks"]) == 1
    task = added["tasks"][0]
    assert set(task) == {"id", "object", "created_at", "is_active", "params", "module"}
    assert HASH.match(task["module"])  # the crawler's hash here, its integer id on GET /tasks/{hash}
    assert lobstr_api.get(f"/v1/tasks/{task['id']}").json()["module"] == 5
    again = lobstr_api.post("/v1/tasks", json=body).json()
    assert (again["duplicated_count"], again["tasks"]) == (2, [])


@pytest.mark.parametrize(
    ("body", "status", "param", "message"),
    [
        ({"squid": "f" * 32, "tasks": [{"url": "https://x"}]}, 404, "squid", "Squid not found"),
        ({"tasks": [{"url": "https://x"}]}, 400, "squid", None),
        ({"squid": DEMO["hash"], "tasks": []}, 400, "tasks", None),
        ({"squid": DEMO["hash"], "tasks": [{"uri": "https://x"}]}, 400, "tasks", "Invalid param: uri"),
        ({"squid": DEMO["hash"], "tasks": ["https://x"]}, 400, "tasks", None),
    ],
)
def test_add_tasks_rejects_bad_bodies(lobstr_api, body, status, param, message):
    response = lobstr_api.post("/v1/tasks", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["param"] == param and (message is None or error["message"] == message)


def test_delete_task(lobstr_api):
    task = DEMO["tasks"][2]
    assert lobstr_api.delete(f"/v1/tasks/{task}").json() == {"id": task, "object": "task", "deleted": True}
    assert lobstr_api.get(f"/v1/tasks/{task}").status_code == 404
    assert lobstr_api.get("/v1/tasks", params={"squid": DEMO["hash"]}).json()["total_results"] == 2


def test_seed_hashes_are_stable_across_emulators(lobstr_emulator):
    from airflow_provider_tasks.testing.lobstr_emulator import LobstrEmulator

    other = LobstrEmulator()  # never started: state only
    assert set(other.state.squids) == {seed["hash"] for seed in SEED_HASHES.values()}
    assert set(other.state.tasks) == set(lobstr_emulator.state.tasks)
