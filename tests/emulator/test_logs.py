"""Run logs: ``GET /v2/logs/{runId}`` and ``GET /v2/actor-runs/{runId}/log``, plain and streamed.

The emulator's clock is frozen: only ``advance`` makes a run write its next lines.
"""

from __future__ import annotations

import re
import threading

import pytest

from tests.emulator.helpers import wait_until

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


@pytest.fixture(autouse=True)
def frozen_clock(apify_emulator):
    apify_emulator.freeze_clock()


def messages(text: str) -> list[str]:
    """The log's lines without their timestamps."""
    return [TIMESTAMP.sub("", line) for line in text.splitlines()]


def log_of(api, run_id: str, path: str = "/v2/logs/{}", **params) -> str:
    response = api.get(path.format(run_id), params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    return response.text


@pytest.mark.parametrize("path", ["/v2/logs/{}", "/v2/actor-runs/{}/log"])
def test_a_run_writes_its_log_on_the_clock(api, apify_emulator, path):
    apify_emulator.add_task("crawl", duration_secs=10, log_lines=4, item_count=7)
    run = api.start_task("demo~crawl")
    started = log_of(api, run["id"], path).splitlines()
    assert [TIMESTAMP.sub("", line) for line in started][-2:] == [
        "ACTOR: Starting Docker container.",
        'INFO  Input: {"startUrls":[{"url":"https://example.com"}],"maxPagesPerCrawl":10}',
    ]
    assert all(TIMESTAMP.match(line) for line in started)
    apify_emulator.advance(5)  # halfway: two of the four progress lines
    halfway = messages(log_of(api, run["id"], path))
    assert halfway[len(started) :] == ["INFO  Progress: 1/4 requests handled", "INFO  Progress: 2/4 requests handled"]
    apify_emulator.advance(5)
    ended = messages(log_of(api, run["id"], path, raw=1))  # raw=1 (what apify-client sends) changes nothing
    assert ended[-3:] == [
        "INFO  Progress: 4/4 requests handled",
        "INFO  Crawl finished: 7 items stored.",
        "ACTOR: Actor finished successfully (exit code 0).",
    ]
    assert api.run(run["id"])["status"] == "SUCCEEDED"


def test_a_failing_run_ends_its_log_with_an_error_line(api, apify_emulator):
    run = api.start_task("demo~fails")
    apify_emulator.advance(2)
    lines = messages(log_of(api, run["id"]))
    assert lines[-2:] == ["ERROR Actor failed: example failure", "ACTOR: Actor exited with code 1."]


def test_a_timed_out_run_says_so_and_an_aborted_one_stops_writing(api, apify_emulator):
    timed_out = api.start_task("demo~times-out", timeout=1)
    apify_emulator.add_task("long", duration_secs=100, log_lines=9)
    aborted = api.start_task("demo~long")
    apify_emulator.advance(25)  # two progress lines written by now
    assert api.post(f"/v2/actor-runs/{aborted['id']}/abort").status_code == 200
    apify_emulator.advance(100)  # the lines planned after the abort never come
    assert messages(log_of(api, timed_out["id"]))[-1] == (
        "ACTOR: Timed out after 1 seconds, stopping the Actor."
    )
    lines = messages(log_of(api, aborted["id"]))
    assert [line for line in lines if "Progress" in line] == [
        "INFO  Progress: 1/9 requests handled",
        "INFO  Progress: 2/9 requests handled",
    ]
    assert lines[-1] == "ACTOR: Run was aborted."


def test_a_run_that_never_starts_has_an_empty_log(api):
    run = api.start_task("demo~stuck-ready")
    assert log_of(api, run["id"]) == ""


def test_only_the_trailing_characters_are_kept(api, apify_emulator):
    apify_emulator.add_task("chatty", duration_secs=1, log_lines=500)
    run = api.start_task("demo~chatty")
    apify_emulator.advance(2)
    full = log_of(api, run["id"])
    assert len(full) > 10_000
    apify_emulator.log_max_chars = 100
    kept = log_of(api, run["id"])
    assert kept == full[-100:]
    apify_emulator.reset()  # the cap is a per-test setting: a reset restores Apify's 5M
    assert apify_emulator.log_max_chars == 5_000_000


def test_download_asks_the_browser_to_save_the_file(api):
    run = api.start_task("demo~fails")
    response = api.get(f"/v2/logs/{run['id']}", params={"download": 1})
    assert response.headers["Content-Disposition"] == f'attachment; filename="{run["id"]}.log"'


@pytest.mark.parametrize("path", ["/v2/logs/{}", "/v2/actor-runs/{}/log"])
def test_an_unknown_run_is_a_404_with_the_api_error_body(api, path):
    response = api.get(path.format("NoSuchRun0000000"))
    assert response.status_code == 404
    assert response.json() == {"error": {"type": "record-not-found", "message": "Actor run was not found"}}
    assert api.get("/v2/logs/x", params={"stream": "maybe"}).json()["error"]["type"] == "invalid-input"


def test_the_log_needs_the_token_like_every_call(anon, api):
    run = api.start_task("demo~fails")
    assert anon.get(f"/v2/logs/{run['id']}").status_code == 401


class Reader:
    """Reads a ``stream=1`` answer line by line in a thread, as a client following a log does."""

    def __init__(self, api, run_id: str, **params) -> None:
        self.lines: list[str] = []
        self.ended = threading.Event()
        self.response = api.get(f"/v2/logs/{run_id}", params={"stream": 1, **params}, stream=True)
        assert self.response.status_code == 200
        assert self.response.headers["Content-Type"] == "text/plain; charset=utf-8"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.response.iter_lines(decode_unicode=True):
            self.lines.append(line)
        self.ended.set()

    def wait_for(self, count: int) -> list[str]:
        wait_until(lambda: len(self.lines) >= count)
        return self.lines


def test_stream_follows_a_running_run_and_ends_when_it_ends(api, apify_emulator):
    apify_emulator.add_task("crawl", duration_secs=10, log_lines=4)
    run = api.start_task("demo~crawl")
    reader = Reader(api, run["id"])
    assert messages(reader.wait_for(4)[-1])[0].startswith("INFO  Input: ")
    apify_emulator.advance(2.5)  # the first progress line is due at 2 s
    assert messages(reader.wait_for(5)[-1]) == ["INFO  Progress: 1/4 requests handled"]
    assert not reader.ended.is_set()  # the run goes on, and so does the answer
    apify_emulator.advance(10)
    reader.thread.join(timeout=20)
    assert reader.ended.is_set()
    assert messages("\n".join(reader.lines))[4:] == [
        "INFO  Progress: 1/4 requests handled",
        "INFO  Progress: 2/4 requests handled",
        "INFO  Progress: 3/4 requests handled",
        "INFO  Progress: 4/4 requests handled",
        "INFO  Crawl finished: 0 items stored.",
        "ACTOR: Actor finished successfully (exit code 0).",
    ]
    assert "\n".join(reader.lines) + "\n" == log_of(api, run["id"])  # the same log, whole


def test_stream_of_an_aborted_run_ends_with_the_abort(api, apify_emulator):
    apify_emulator.add_task("long", duration_secs=100)
    run = api.start_task("demo~long")
    reader = Reader(api, run["id"])
    reader.wait_for(4)
    api.post(f"/v2/actor-runs/{run['id']}/abort")
    reader.thread.join(timeout=20)
    assert reader.ended.is_set() and reader.lines[-1].endswith(" ACTOR: Run was aborted.")


def test_stream_of_a_finished_run_sends_the_kept_tail_and_ends(api, apify_emulator):
    run = api.start_task("demo~fails")
    apify_emulator.advance(5)
    full = log_of(api, run["id"])
    apify_emulator.log_max_chars = 40
    reader = Reader(api, run["id"])
    reader.thread.join(timeout=20)
    assert reader.ended.is_set()
    kept = log_of(api, run["id"])
    assert "\n".join(reader.lines) + "\n" == kept == full[-40:]  # cut mid-line, as Apify cuts it
    assert kept.endswith("Z ACTOR: Actor exited with code 1.\n")


def test_a_reset_ends_the_streams_of_runs_it_drops(api, apify_emulator):
    run = api.start_task("demo~slow")  # nothing more to write for a long while
    reader = Reader(api, run["id"])
    reader.wait_for(4)
    apify_emulator.reset()
    reader.thread.join(timeout=20)
    assert reader.ended.is_set() and len(reader.lines) == 4


def test_following_a_log_with_nothing_in_it_yet_ends_at_once_empty(api, apify_emulator):
    apify_emulator.add_task("queued", ready_secs=5, duration_secs=5)
    run = api.start_task("demo~queued")
    reader = Reader(api, run["id"])
    reader.thread.join(timeout=20)
    assert reader.ended.is_set() and reader.lines == []
    apify_emulator.advance(6)  # started: a new request follows what it writes
    assert Reader(api, run["id"]).wait_for(4)[0].endswith("ACTOR: Pulling Docker image of build "
                                                          f"{run['buildId']} from registry.")  # fmt: skip
    apify_emulator.advance(10)  # and ends with the run
