"""The Apify sans-IO layer: requests it builds and answers it parses, without any socket."""

from __future__ import annotations

import base64
import json

import pytest

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.common.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from airflow_provider_tasks.common.sansio import ApiResponse


def response(status: int, body, headers=None) -> ApiResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ApiResponse(status, {k.lower(): v for k, v in (headers or {}).items()}, raw)


def jsonl_page(request, items, headers):
    """A dataset page as the API sends it with ``format=jsonl``, parsed (and its spool closed)."""
    body = b"".join(json.dumps(item).encode() + b"\n" for item in items)
    page = api.parse_jsonl_page(request, response(200, b"", headers), [body])
    for spooled in page.items:
        spooled.close()
    return page


RUN = {"id": "HG7ML7M8z78YcAPEB", "status": "RUNNING", "statusMessage": "Crawling", "defaultDatasetId": "ds1"}


class TestRequests:
    def test_task_ids_with_tilde_stay_readable_and_slashes_are_quoted(self):
        assert api.get_task("janedoe~my-task").path == "/v2/actor-tasks/janedoe~my-task"
        assert api.get_task("a/b").path == "/v2/actor-tasks/a%2Fb"

    def test_run_task_sends_only_the_options_that_were_set(self):
        options = api.RunOptions(memory_mbytes=256, build="0.1.2")
        request = api.start_run(api.Target("task", "t1"), options, {"q": 1}, wait_for_finish=5)
        assert request.method == "POST"
        assert request.path == "/v2/actor-tasks/t1/runs"
        assert request.query() == {"memory": "256", "build": "0.1.2", "waitForFinish": "5"}
        assert request.json_body == {"q": 1}
        assert request.total_timeout(30) == 35

    def test_task_run_without_input_posts_an_empty_object_actor_run_posts_nothing(self):
        assert api.start_run(api.Target("task", "t"), api.RunOptions()).json_body == {}
        actor = api.start_run(api.Target("actor", "demo~actor"), api.RunOptions())
        assert actor.path == "/v2/actors/demo~actor/runs" and actor.json_body is None

    def test_booleans_and_webhooks_are_encoded_as_the_api_expects(self):
        hooks = [{"eventTypes": ["ACTOR.RUN.SUCCEEDED"], "requestUrl": "https://example.com/h"}]
        query = api.RunOptions(restart_on_error=False, webhooks=hooks).query()
        request = api.start_run(api.Target("task", "t"), api.RunOptions(restart_on_error=False, webhooks=hooks))
        assert request.query()["restartOnError"] == "0"
        assert json.loads(base64.b64decode(query["webhooks"])) == hooks

    def test_wait_for_finish_is_capped_at_60_and_read_timeout_exceeds_it(self):
        request = api.get_run("r1", wait_for_finish=300)
        assert request.query() == {"waitForFinish": "60"}
        assert request.total_timeout(30) == 90
        assert api.get_run("r1").query() == {}

    def test_list_runs_joins_statuses_and_sets_desc(self):
        request = api.list_runs(api.Target("task", "t"), status=["SUCCEEDED", "FAILED"], desc=True)
        assert request.query() == {"offset": "0", "limit": "1000", "desc": "1", "status": "SUCCEEDED,FAILED"}

    def test_dialect_sends_token_only_as_bearer_header(self):
        assert api.DIALECT.auth_headers("secret") == {"Authorization": "Bearer secret"}
        request = api.get_run("r1", wait_for_finish=10)
        assert "secret" not in json.dumps(dict(request.query())) and "token" not in request.query()


class TestValidation:
    @pytest.mark.parametrize("memory", [100, 129, 65536, "big", True])
    def test_memory_must_be_a_power_of_two_in_range(self, memory):
        with pytest.raises(ConfigurationError, match=r"memory_mbytes must be a power of 2 between 128 and 32768"):
            api.RunOptions(memory_mbytes=memory).validate()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("timeout_secs", -1, "timeout_secs must be a number >= 0"),
            ("max_items", 0, "max_items must be an integer >= 1"),
            ("max_total_charge_usd", -0.5, "max_total_charge_usd must be a number >= 0"),
            ("build", "", "build must be a non-empty string"),
            ("restart_on_error", "yes", "restart_on_error must be True or False"),
            ("webhooks", {"a": 1}, "webhooks must be a list of JSON objects"),
        ],
    )
    def test_each_bad_option_is_named(self, field, value, message):
        with pytest.raises(ConfigurationError, match=message):
            api.RunOptions(**{field: value}).validate()

    def test_good_options_pass(self):
        options = api.RunOptions(memory_mbytes=1024, timeout_secs=0, max_items=10, max_total_charge_usd=0)
        assert options.validate() is options


class TestResponses:
    def test_run_is_parsed_and_reduced_to_a_snapshot(self):
        run = api.parse_run(response(200, {"data": RUN}))
        snapshot = run.snapshot()
        assert (run.id, run.status, run.default_dataset_id) == (RUN["id"], api.RunStatus.RUNNING, "ds1")
        assert not snapshot.terminal and not snapshot.succeeded
        assert snapshot.console_url == "https://console.apify.com/actors/runs/HG7ML7M8z78YcAPEB"

    @pytest.mark.parametrize(
        ("status", "terminal", "success"),
        [
            ("READY", False, False),
            ("RUNNING", False, False),
            ("TIMING-OUT", False, False),
            ("ABORTING", False, False),
            ("SUCCEEDED", True, True),
            ("FAILED", True, False),
            ("TIMED-OUT", True, False),
            ("ABORTED", True, False),
        ],
    )
    def test_status_enum_owns_terminal_and_success(self, status, terminal, success):
        assert api.RunStatus(status).is_terminal is terminal
        assert api.RunStatus(status).is_success is success

    def test_failure_message_names_run_status_message_and_console(self):
        run = api.parse_run(response(200, {"data": {**RUN, "status": "FAILED", "statusMessage": "Boom"}}))
        text = str(run.snapshot().failure("Apify"))
        assert RUN["id"] in text and "FAILED" in text and "Boom" in text and "console.apify.com" in text

    @pytest.mark.parametrize(
        "body",
        [b"<html>oops</html>", {"nodata": 1}, {"data": {"id": "x"}}, {"data": {"id": "x", "status": 7}}],
    )
    def test_malformed_run_bodies_are_reported(self, body):
        with pytest.raises(MalformedResponseError):
            api.parse_run(response(200, body))

    def test_a_status_apify_adds_later_is_unknown_and_still_going(self):
        snapshot = api.parse_run(response(200, {"data": {**RUN, "status": "RESURRECTING"}})).snapshot()
        assert snapshot.status == "RESURRECTING" and snapshot.unknown
        assert not snapshot.terminal and not snapshot.succeeded and snapshot.resumable

    def test_list_page_points_to_the_next_offset_until_total(self):
        first = api.list_tasks(limit=2)
        page = api.parse_list_page(
            first, response(200, {"data": {"total": 3, "offset": 0, "count": 2, "limit": 2, "items": [{}, {}]}})
        )
        assert page.next_request.query()["offset"] == "2"
        last = api.parse_list_page(
            page.next_request, response(200, {"data": {"total": 3, "offset": 2, "count": 1, "limit": 2, "items": [{}]}})
        )
        assert last.next_request is None

    def test_items_walk_ends_only_on_an_empty_page_at_or_past_the_latest_total(self):
        def page(request, items, total, limit=None):
            headers = {"Content-Type": "application/jsonl", "X-Apify-Pagination-Total": str(total)}
            if limit is not None:
                headers["X-Apify-Pagination-Limit"] = str(limit)
            return jsonl_page(request, items, headers)

        request = api.dataset_items("ds", limit=2, fmt="jsonl")
        lagging = page(request, [{"a": 1}, {"a": 2}], total=0)  # Total lags right after a run
        assert lagging.next_request.query()["offset"] == "2" and lagging.expected_total == 0
        short = page(lagging.next_request, [{"a": 3}], total=5)  # short, yet not the end
        assert short.next_request.query()["offset"] == "4" and short.expected_total == 5
        empty_before_total = page(short.next_request, [], total=5)
        assert empty_before_total.next_request.query()["offset"] == "6"
        assert page(empty_before_total.next_request, [], total=5).next_request is None

    def test_items_offset_advances_by_the_limit_the_server_applied(self):
        capped = jsonl_page(
            api.dataset_items("ds", limit=1000, fmt="jsonl"),
            [{}] * 100,
            {"Content-Type": "application/jsonl", "X-Apify-Pagination-Limit": "100", "X-Apify-Pagination-Total": "250"},
        )
        assert capped.next_request.query()["offset"] == "100" and capped.size == 100

    def test_clean_pages_cannot_be_held_to_the_total(self):
        headers = {"Content-Type": "application/jsonl", "X-Apify-Pagination-Total": "30"}
        page = jsonl_page(api.dataset_items("ds", limit=10, clean=True, fmt="jsonl"), [], headers)
        assert page.expected_total is None and page.next_request.query()["offset"] == "10"

    @pytest.mark.parametrize(
        "body, headers, message",
        [
            (b"<html>proxy</html>", {"Content-Type": "text/html"}, "Content-Type 'text/html'"),
            (b'{"a": 1}\n{"a"', {"Content-Type": "application/jsonl"}, "ends in the middle of a line"),
            (b'{"a": 1}\n', {"Content-Type": "application/jsonl", "X-Apify-Pagination-Count": "2"},
             "holds 1 lines but the platform counted 2"),
            (b"", {"Content-Type": "application/jsonl"}, "no X-Apify-Pagination-Total"),
        ],
        ids=["html", "cut", "count", "no-total"],
    )
    def test_bad_items_pages_are_malformed(self, body, headers, message):
        with pytest.raises(MalformedResponseError, match=message):
            api.parse_jsonl_page(api.dataset_items("ds", fmt="jsonl"), response(200, b"", headers), [body])


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "cls"),
        [(400, ApiError), (401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError),
         (429, RateLimitedError), (500, ServerError), (503, ServerError)],
    )
    def test_status_maps_to_error_type(self, status, cls):
        error = api.DIALECT.error_for(api.get_task("t"), response(status, {"error": {"type": "x", "message": "m"}}))
        assert type(error) is cls and error.status == status

    def test_error_carries_status_type_message_and_names_the_missing_task(self):
        error = api.DIALECT.error_for(
            api.get_task("demo~nope"),
            response(404, {"error": {"type": "record-not-found", "message": "Actor task was not found"}}),
        )
        text = str(error)
        assert "404" in text and "record-not-found" in text and "Actor task was not found" in text
        assert "Actor task 'demo~nope'" in text

    def test_401_says_the_token_is_missing_or_invalid(self):
        error = api.DIALECT.error_for(
            api.DIALECT.auth_check, response(401, {"error": {"type": "token-not-provided", "message": "No token"}})
        )
        assert "token is missing or invalid" in str(error)

    def test_retry_after_header_is_kept_and_non_json_error_bodies_survive(self):
        error = api.DIALECT.error_for(api.DIALECT.auth_check, response(429, b"slow down", {"Retry-After": "3"}))
        assert error.retry_after == 3.0 and "slow down" in str(error)


@pytest.mark.parametrize(
    ("status", "resumable"),
    [("READY", True), ("RUNNING", True), ("ABORTING", False), ("TIMING-OUT", False), ("SUCCEEDED", False),
     ("FAILED", False)],
)
def test_only_runs_still_going_can_be_picked_up_by_a_new_try(status, resumable):
    assert api.ApifyRun({**RUN, "status": status}).snapshot().resumable is resumable


class TestRunLog:
    def test_the_log_request_and_its_streamed_form(self):
        plain = api.get_run_log("HG7ML7M8z78YcAPEB")
        assert (plain.method, plain.path, plain.query()) == ("GET", "/v2/logs/HG7ML7M8z78YcAPEB", {})
        followed = api.get_run_log("a/b", stream=True, follow_secs=3600)
        assert followed.path == "/v2/logs/a%2Fb" and followed.query() == {"stream": "1"}
        assert followed.total_timeout(30) == 60 + 3600  # held as long as it is followed

    def test_the_log_is_text_and_anything_else_is_a_malformed_answer(self):
        log = response(200, "2024-01-15T09:00:00.000Z ok ✓\n".encode(), {"Content-Type": "text/plain; charset=utf-8"})
        assert api.parse_log(log) == "2024-01-15T09:00:00.000Z ok ✓\n"
        proxy = response(200, b"<html>Just a moment...</html>", {"Content-Type": "text/html"})
        with pytest.raises(MalformedResponseError, match="expected the run log as text/plain, got text/html"):
            api.parse_log(proxy)

    def test_a_missing_log_names_the_run(self):
        error = api.DIALECT.error_for(
            api.get_run_log("nope"),
            response(404, {"error": {"type": "record-not-found", "message": "Actor run was not found"}}),
        )
        assert isinstance(error, NotFoundError) and "not found: log of run 'nope'" in str(error)
