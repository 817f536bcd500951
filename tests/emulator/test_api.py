"""The Apify emulator's read endpoints: envelopes, pagination, lookups, auth and error bodies."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.testing.apify_state import SEED_TASKS

SEED_TASK_NAMES = [name for name, _ in SEED_TASKS]


def test_user_me_is_wrapped_in_data(api):
    response = api.get("/v2/users/me")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    data = response.json()["data"]
    assert data["username"] == "demo"
    assert len(data["id"]) == 17 and data["id"].isalnum()


def test_limits_report_concurrency_and_active_jobs(api):
    api.start_task("demo~slow")
    data = api.get("/v2/users/me/limits").json()["data"]
    assert data["limits"]["maxConcurrentActorJobs"] == 250
    assert data["current"]["activeActorJobCount"] == 1


def test_list_tasks_envelope_and_seed_order(api):
    data = api.get("/v2/actor-tasks").json()["data"]
    assert {k: data[k] for k in ("total", "offset", "limit", "desc", "count")} == {
        "total": len(SEED_TASKS),
        "offset": 0,
        "limit": 1000,
        "desc": False,
        "count": len(SEED_TASKS),
    }
    assert [item["name"] for item in data["items"]] == SEED_TASK_NAMES
    assert set(data["items"][0]) >= {"id", "userId", "actId", "actName", "name", "username", "createdAt", "stats"}


def test_list_tasks_pagination_and_desc(api):
    page = api.get("/v2/actor-tasks", params={"offset": 1, "limit": 2, "desc": 1}).json()["data"]
    assert (page["offset"], page["limit"], page["desc"], page["count"]) == (1, 2, True, 2)
    assert [item["name"] for item in page["items"]] == SEED_TASK_NAMES[::-1][1:3]
    assert api.get("/v2/actor-tasks", params={"limit": 5000}).json()["data"]["limit"] == 1000
    beyond = api.get("/v2/actor-tasks", params={"offset": 100}).json()["data"]
    assert (beyond["count"], beyond["items"], beyond["total"]) == (0, [], len(SEED_TASKS))


def test_get_task_by_id_and_by_username_tilde_name(api):
    by_name = api.get("/v2/actor-tasks/demo~succeeds-with-items").json()["data"]
    by_id = api.get(f"/v2/actor-tasks/{by_name['id']}").json()["data"]
    assert by_id == by_name
    assert by_name["name"] == "succeeds-with-items" and by_name["username"] == "demo"
    assert set(by_name["options"]) >= {"build", "timeoutSecs", "memoryMbytes"}
    assert isinstance(by_name["input"], dict)


def test_seed_ids_are_stable_across_emulators(apify_emulator):
    from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator

    other = ApifyEmulator()  # never started: state only
    assert other.state.find_task("demo~fails").id == apify_emulator.state.find_task("demo~fails").id


def test_unknown_task_is_404_record_not_found(api):
    response = api.get("/v2/actor-tasks/demo~nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"type": "record-not-found", "message": "Actor task was not found"}}
    assert api.post("/v2/actor-tasks/demo~nope/runs").status_code == 404


def test_unknown_path_is_404_page_not_found(api):
    response = api.get("/v2/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "page-not-found"


def test_wrong_method_is_405_with_allow(api):
    response = api.delete("/v2/actor-tasks")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method-not-allowed"
    assert "GET" in response.headers["Allow"]


def test_actor_under_both_spellings(api):
    current = api.get("/v2/actors/demo~example-actor").json()["data"]
    older = api.get("/v2/acts/demo~example-actor").json()["data"]
    assert current == older
    assert current["name"] == "example-actor"
    assert api.get("/v2/actors/demo~nope").json()["error"]["message"] == "Actor was not found"


@pytest.mark.parametrize(
    ("headers", "params", "error_type"),
    [
        ({}, {}, "token-not-provided"),
        ({"Authorization": "Bearer wrong"}, {}, "user-or-token-not-found"),
        ({"Authorization": "Basic dGVzdA=="}, {}, "token-not-provided"),
        ({}, {"token": "wrong"}, "user-or-token-not-found"),
    ],
)
def test_auth_failures_are_401_with_error_body(anon, headers, params, error_type):
    response = anon.get("/v2/users/me", headers=headers, params=params)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == error_type


def test_query_token_is_accepted(anon, apify_emulator):
    assert anon.get("/v2/users/me", params={"token": apify_emulator.token}).status_code == 200


def test_revoked_token_stops_working_and_reset_restores_it(api, apify_emulator):
    apify_emulator.revoke_token(apify_emulator.token)
    assert api.get("/v2/users/me").status_code == 401
    apify_emulator.reset()
    assert api.get("/v2/users/me").status_code == 200


def test_extra_token(anon, apify_emulator):
    apify_emulator.add_token("second")
    assert anon.get("/v2/users/me", headers={"Authorization": "Bearer second"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v2/actor-tasks", {"limit": -1}),
        ("/v2/actor-tasks", {"offset": "abc"}),
        ("/v2/actor-tasks", {"desc": "maybe"}),
        ("/v2/actor-tasks/demo~fails/runs", {"status": "BOGUS"}),
        ("/v2/actor-runs", {"startedAfter": "yesterday"}),
        ("/v2/actor-runs/whatever", {"waitForFinish": "soon"}),
    ],
)
def test_bad_query_parameters_are_400_invalid_input(api, path, params):
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid-input"


def test_add_task_shows_up_in_list_and_over_http(api, apify_emulator):
    created = apify_emulator.add_task("extra", duration_secs=1, item_count=3)
    assert api.get(f"/v2/actor-tasks/{created['id']}").json()["data"] == created
    response = api.post("/_emulator/tasks", json={"name": "extra-2", "ready_secs": "inf"})
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "extra-2"
    assert api.get("/v2/actor-tasks").json()["data"]["total"] == len(SEED_TASKS) + 2
    duplicate = api.post("/_emulator/tasks", json={"name": "extra"})
    assert duplicate.status_code == 400


def test_reset_drops_added_tasks(api, apify_emulator):
    apify_emulator.add_task("temporary")
    apify_emulator.reset()
    assert api.get("/v2/actor-tasks/demo~temporary").status_code == 404
