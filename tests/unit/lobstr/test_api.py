"""The Lobstr.io sans-IO layer: requests, statuses, envelopes and every documented error body."""

from __future__ import annotations

import json

import pytest

from airflow_provider_tasks.common.errors import (
    AmbiguousStartError,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from airflow_provider_tasks.common.sansio import ApiResponse
from airflow_provider_tasks.lobstr import api

HASH = "c5e29d2aba8b77cdc56391e7405302de"
SEED_TASK = {
    "hash_value": HASH,
    "created_at": "2024-12-24T10:57:55.045567",
    "is_active": True,
    "params": {"url": "https://example.com"},
    "module": 5,
    "object": "task",
    "status": {
        "status": "completed",
        "started_at": "2025-02-04T10:25:47.278419",
        "ended_at": "2025-02-04T10:26:52.310738",
        "is_done": True,
        "total_results": 156,
        "total_pages": 1,
        "done_reason": "completed",
        "has_errors": False,
        "errors": None,
    },
}


def response(status, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ApiResponse(status, {k.lower(): v for k, v in (headers or {}).items()}, raw)


def test_requests_follow_the_documented_paths_and_send_limits_explicitly():
    assert api.get_task(HASH).path == f"/v1/tasks/{HASH}"
    start = api.start_run("sq1")
    assert (start.method, start.path, start.json_body) == ("POST", "/v1/runs", {"squid": "sq1"})
    assert api.list_runs("sq1").query() == {"squid": "sq1", "page": "1", "limit": "100"}
    assert api.results(run="r1", limit=50).query() == {"run": "r1", "page": "1", "limit": "50"}
    assert api.DIALECT.auth_headers("k") == {"Authorization": "Token k"}


def test_results_need_exactly_one_of_run_or_squid():
    for kwargs in ({}, {"run": "r", "squid": "s"}):
        with pytest.raises(ConfigurationError, match="exactly one of run_id or squid_id"):
            api.results(**kwargs)


def test_seed_task_is_parsed_into_a_terminal_successful_snapshot():
    task = api.parse_task(response(200, SEED_TASK))
    snapshot = task.snapshot()
    assert task.hash == HASH and task.status is api.TaskStatus.COMPLETED
    assert snapshot.terminal and snapshot.succeeded and snapshot.status == "completed"


@pytest.mark.parametrize(
    ("status", "terminal", "success"),
    [("pending", False, False), ("running", False, False), ("completed", True, True),
     ("aborted", True, False), ("failed", True, False), ("COMPLETED", True, True), ("weird", False, False)],
)
def test_task_statuses(status, terminal, success):
    task = api.LobstrTask({**SEED_TASK, "status": {**SEED_TASK["status"], "status": status}})
    assert (task.snapshot().terminal, task.snapshot().succeeded) == (terminal, success)


@pytest.mark.parametrize(
    ("status", "terminal", "success"),
    [("pending", False, False), ("running", False, False), ("uploading", False, False), ("paused", False, False),
     ("done", True, True), ("DONE", True, True), ("aborted", True, False), ("error", True, False),
     ("new-thing", False, False)],
)
def test_run_statuses_compare_case_insensitively_and_unknown_is_not_terminal(status, terminal, success):
    run = api.LobstrRun({"id": "r", "status": status})
    assert (run.snapshot().terminal, run.snapshot().succeeded) == (terminal, success)


def test_failed_run_message_uses_done_reason_desc():
    run = api.parse_run(response(200, {"id": "r1", "squid": "s1", "status": "error", "done_reason": "no_credits_left",
                                       "done_reason_desc": "No credits left"}))
    text = str(run.snapshot().failure("Lobstr.io"))
    assert "r1" in text and "error" in text and "No credits left" in text and "app.lobstr.io" in text


def test_pages_advance_until_the_last_page_or_a_null_next():
    first = api.list_runs("s", limit=2)
    page = api.parse_page(
        first, response(200, {"total_results": 3, "page": 1, "total_pages": 2, "data": [{}, {}], "next": "x"})
    )
    assert page.next_request.query()["page"] == "2"
    assert api.parse_page(
        page.next_request, response(200, {"page": 2, "total_pages": 2, "data": [{}]})
    ).next_request is None
    assert api.parse_page(
        first, response(200, {"page": 1, "total_pages": 9, "data": [{}], "next": None})
    ).next_request is None
    with pytest.raises(MalformedResponseError):
        api.parse_page(first, response(200, {"results": []}))


@pytest.mark.parametrize(
    ("status", "body", "cls", "error_type", "message"),
    [
        (401, {"detail": "Invalid token."}, AuthenticationError, None, "Invalid token."),
        (404, {"error": {"message": "Task not found", "type": "not_found_error", "param": "task_hash"}},
         NotFoundError, "not_found_error", "Task not found"),
        (429, {"error": "Rate limit exceeded", "type": "RateLimitExceeded", "code": 429},
         RateLimitedError, "RateLimitExceeded", "Rate limit exceeded"),
        (400, {"errors": {"message": "Invalid param: url", "type": "InvalidParam", "code": 400}},
         ApiError, "InvalidParam", "Invalid param: url"),
        (500, b"<html>Server Error</html>", ApiError, None, "<html>Server Error</html>"),
    ],
)
def test_every_documented_error_shape(status, body, cls, error_type, message):
    error = api.DIALECT.error_for(api.get_task(HASH), response(status, body, {"Retry-After": "2"}))
    assert isinstance(error, cls) and error.status == status
    assert (error.error_type, error.message) == (error_type, message)
    assert error.retry_after == 2.0


def test_404_names_the_task_and_401_names_the_key():
    not_found = api.DIALECT.error_for(
        api.get_task(HASH), response(404, {"error": {"message": "Task not found", "type": "not_found_error"}})
    )
    assert f"task '{HASH}'" in str(not_found)
    unauthorised = api.DIALECT.error_for(api.DIALECT.auth_check, response(401, {"detail": "Invalid token."}))
    assert "API key is missing or invalid" in str(unauthorised)


def test_already_active_is_recognised():
    error = api.DIALECT.error_for(
        api.start_run("s"),
        response(
            400,
            {
                "error": {
                    "message": "A run is already active for this squid",
                    "type": "validation_error",
                    "param": "squid",
                }
            },
        ),
    )
    assert api.is_already_active(error)


@pytest.mark.parametrize(
    ("status", "done_reason", "resumable"),
    [("pending", None, True), ("running", None, True), ("uploading", "aborted", False), ("done", "tasks_done", False)],
)
def test_only_runs_still_going_can_be_picked_up_by_a_new_try(status, done_reason, resumable):
    run = api.LobstrRun({"id": "r", "status": status, "done_reason": done_reason})
    assert run.snapshot().resumable is resumable


class TestAdoptableRun:
    """After a start whose answer was lost: adopt only a run the one-active-run rule proves ours."""

    SQUID = "b6c5" * 8

    def run(self, run_id: str, **fields):
        return {"id": run_id, "squid": self.SQUID, "status": "running", "is_done": False, "origin": "user", **fields}

    def test_nothing_fresh_means_no_attempt_landed(self):
        assert api.adoptable_run([], self.SQUID) is None

    def test_one_fresh_api_run_still_going_is_ours(self):
        assert api.adoptable_run([self.run("a" * 32)], self.SQUID).id == "a" * 32

    @pytest.mark.parametrize(
        "fields",
        [{"status": "done", "is_done": True}, {"status": "uploading", "is_done": True}, {"origin": "schedule"},
         {"origin": "chain"}],
        ids=["finished", "collection-over", "scheduled", "chained"],
    )
    def test_a_run_that_cannot_be_ours_is_named_not_adopted(self, fields):
        with pytest.raises(
            AmbiguousStartError, match=f"{'c' * 32} .*app.lobstr.io/squids/{self.SQUID}/runs/{'c' * 32}"
        ):
            api.adoptable_run([self.run("c" * 32, **fields)], self.SQUID)

    def test_several_fresh_runs_are_all_named(self):
        with pytest.raises(AmbiguousStartError) as caught:
            api.adoptable_run([self.run("d" * 32), self.run("e" * 32, status="done", is_done=True)], self.SQUID)
        assert "d" * 32 in str(caught.value) and "e" * 32 in str(caught.value)
