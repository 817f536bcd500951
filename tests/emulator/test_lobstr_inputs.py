"""The Lobstr.io emulator's task inputs: add, list, delete, bulk upload with its state, and runs
that cover the squid's active tasks."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]
CSV = b"url\nhttps://example.com/x\n"


def upload(api, squid, text, *, name="tasks.csv", content_type="text/csv"):
    return api.post("/v1/tasks/upload", data={"squid": squid}, files={"file": (name, text.encode(), content_type)})


def test_upload_moves_through_its_states_and_inserts_tasks_only_on_success(lobstr_api, lobstr_emulator):
    lobstr_emulator.freeze_clock()
    lobstr_emulator.set_uploads(pending_secs=1, progress_secs=2)
    squid = lobstr_emulator.add_squid("bulk", task_count=0)["id"]
    lobstr_emulator.add_task(squid, {"url": "https://example.com/already"})
    text = "url\nhttps://example.com/a\nhttps://example.com/already\n\nhttps://example.com/b\n"
    response = upload(lobstr_api, squid, text)
    assert response.status_code == 200, response.text
    started = response.json()
    assert set(started) == {"id", "object", "state", "meta"} and started["object"] == "task_upload"
    assert started["state"] == "PENDING" and len(started["id"]) == 32
    path = f"/v1/tasks/upload/{started['id']}"

    seen = []
    for step in (0, 1.5, 2):  # PENDING, PROGRESS, SUCCESS
        lobstr_emulator.advance(step)
        answer = lobstr_api.get(path)
        seen.append((answer.status_code, answer.json()["state"]))
        if answer.json()["state"] != "SUCCESS":
            tasks = lobstr_api.get("/v1/tasks", params={"squid": squid}).json()
            assert tasks["total_results"] == 1  # nothing inserted before SUCCESS
    assert seen == [(202, "PENDING"), (202, "PROGRESS"), (200, "SUCCESS")]
    assert answer.json()["meta"] == {"valid": 3, "inserted": 2, "duplicates": 1, "invalid": 0}
    listed = lobstr_api.get("/v1/tasks", params={"squid": squid}).json()["data"]
    assert [task["params"]["url"] for task in listed] == [
        "https://example.com/already",
        "https://example.com/a",
        "https://example.com/b",
    ]


def test_upload_of_params_as_tsv_counts_invalid_rows(lobstr_api, lobstr_emulator):
    lobstr_emulator.set_uploads(pending_secs=0, progress_secs=0)
    squid = lobstr_emulator.add_squid("tsv", task_count=0)["id"]
    text = "keyword\tlocation\npizza\tParis\ttoo many cells\nsushi\tLyon\nbagel\t\n"
    started = upload(lobstr_api, squid, text, name="inputs.tsv", content_type="text/tab-separated-values").json()
    status = lobstr_api.get(f"/v1/tasks/upload/{started['id']}")
    assert status.status_code == 200
    assert status.json()["meta"] == {"valid": 2, "inserted": 2, "duplicates": 0, "invalid": 1}
    params = [task["params"] for task in lobstr_emulator.tasks(squid)]
    assert params == [{"keyword": "sushi", "location": "Lyon"}, {"keyword": "bagel"}]


@pytest.mark.parametrize(
    ("text", "failure", "message"),
    [
        ("uri\nhttps://example.com/a\n", None, "No column names a task parameter"),
        ("url\n", None, "The file has no rows"),
        ("url\nhttps://example.com/a\n", "Internal upload error", "Internal upload error"),
    ],
)
def test_upload_failure_inserts_nothing(lobstr_api, lobstr_emulator, text, failure, message):
    lobstr_emulator.set_uploads(pending_secs=0, progress_secs=0, failure=failure)
    squid = lobstr_emulator.add_squid("failing-upload", task_count=1)["id"]
    started = upload(lobstr_api, squid, text).json()
    status = lobstr_api.get(f"/v1/tasks/upload/{started['id']}")
    assert status.status_code == 200 and status.json()["state"] == "FAILURE"
    meta = status.json()["meta"]
    assert meta["inserted"] == 0 and message in meta["error"]
    assert len(lobstr_emulator.tasks(squid)) == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "param", "message"),
    [
        ({"data": {"squid": "f" * 32}, "files": {"file": ("t.csv", CSV)}}, 404, "squid", "Squid not found"),
        ({"data": {"squid": DEMO["hash"]}, "files": {"other": ("t.csv", b"url\n")}}, 400, "file", None),
        ({"files": {"file": ("t.csv", CSV)}}, 400, "squid", None),
        ({"json": {"squid": DEMO["hash"]}}, 400, None, "multipart/form-data"),
    ],
)
def test_upload_rejects_bad_requests(lobstr_api, kwargs, status, param, message):
    response = lobstr_api.post("/v1/tasks/upload", **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.get("param") == param and (message is None or message in error["message"])


def test_unknown_upload_is_a_404(lobstr_api):
    response = lobstr_api.get(f"/v1/tasks/upload/{'0' * 32}")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "Upload not found", "type": "not_found_error", "param": "upload_task_id"}
    }


def test_a_run_covers_the_active_tasks_as_they_are_when_it_starts(lobstr_api, lobstr_emulator):
    squid = lobstr_emulator.add_squid("covered", task_count=0, duration_secs=3600)["id"]
    body = {"squid": squid, "tasks": [{"url": "https://example.com/1"}, {"keyword": "pizza", "location": "Paris"}]}
    assert lobstr_api.post("/v1/tasks", json=body).json()["duplicated_count"] == 0
    lobstr_emulator.add_task(squid, {"url": "https://example.com/inactive"}, is_active=False)
    removed = lobstr_api.get("/v1/tasks", params={"squid": squid}).json()["data"][0]["id"]
    assert lobstr_api.delete(f"/v1/tasks/{removed}").json()["deleted"] is True
    run = lobstr_api.post("/v1/runs", json={"squid": squid}).json()
    assert lobstr_emulator.run_tasks(run["id"]) == [{"keyword": "pizza", "location": "Paris"}]
    assert lobstr_api.get(f"/v1/runs/{run['id']}/stats").json()["total_tasks"] == 1
    runtasks = lobstr_api.get("/v1/runtasks", params={"run": run["id"]}).json()["data"]
    assert [item["params"] for item in runtasks] == [{"keyword": "pizza", "location": "Paris"}]
