"""ApifyHook's run-log methods over real HTTP against the emulator: the whole log, its tail, and the
log followed as the run writes it (the emulator's clock is frozen: ``advance`` writes lines)."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import MalformedResponseError, NotFoundError
from airflow_provider_tasks.common.retry import RetryPolicy
from tests.emulator.helpers import wait_until

FAST_RETRIES = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)


@pytest.fixture
def hook(apify_conn_env, apify_emulator):
    apify_emulator.freeze_clock()
    hook = ApifyHook(retry_policy=FAST_RETRIES)
    yield hook
    hook.close()


def test_the_whole_log_and_its_last_lines(hook, apify_emulator):
    apify_emulator.add_task("crawl", duration_secs=10, log_lines=200, item_count=3)
    run = hook.run_task("demo~crawl")
    apify_emulator.advance(11)
    text = hook.get_run_log(run.id)
    lines = text.splitlines()
    assert len(lines) == 4 + 200 + 2 and text.endswith("ACTOR: Actor finished successfully (exit code 0).\n")
    assert hook.get_run_log_tail(run.id, 3) == lines[-3:]
    assert hook.get_run_log_tail(run.id) == lines[-50:]  # 50 by default
    assert hook.get_run_log_tail(run.id, 1000) == lines


def test_the_tail_cuts_long_lines_and_the_server_keeps_only_the_trailing_characters(hook, apify_emulator):
    apify_emulator.add_task("wordy", duration_secs=1, log_lines=0, input={"text": "y" * 5000})
    run = hook.run_task("demo~wordy")
    apify_emulator.advance(2)
    (long_line,) = [line for line in hook.get_run_log_tail(run.id, 10, max_line_chars=100) if "Input" in line]
    assert long_line.endswith(" … [4949 more characters]") and len(long_line) < 130
    apify_emulator.log_max_chars = 60
    assert "".join(line + "\n" for line in hook.get_run_log_tail(run.id, 10)).endswith(
        "ACTOR: Actor finished successfully (exit code 0).\n"
    )
    assert len(hook.get_run_log(run.id)) == 60


def test_a_transient_failure_is_retried_and_a_proxy_page_is_not_taken_for_the_log(hook, apify_emulator):
    run = hook.run_task("demo~fails")
    apify_emulator.advance(3)
    apify_emulator.faults.add("status", status=503, count=1, path="/v2/logs/")
    assert hook.get_run_log_tail(run.id, 1) == [hook.get_run_log(run.id).splitlines()[-1]]
    apify_emulator.faults.add("html", count=None, path="/v2/logs/")
    with pytest.raises(MalformedResponseError, match="expected the run log as text/plain, got text/html"):
        hook.get_run_log_tail(run.id, 1)


def test_an_unknown_run_is_named(hook):
    with pytest.raises(NotFoundError, match=r"404 record-not-found .*not found: log of run 'NoSuchRun'"):
        hook.get_run_log_tail("NoSuchRun")


def test_stream_run_log_yields_lines_as_the_run_writes_them_and_ends_with_it(hook, apify_emulator):
    apify_emulator.add_task("crawl", duration_secs=10, log_lines=4)
    run = hook.run_task("demo~crawl")
    lines: list[str] = []
    ended = threading.Event()

    def follow() -> None:
        lines.extend(hook.stream_run_log(run.id))  # the generator ends when the run does
        ended.set()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    wait_until(lambda: len(lines) == 4)  # written at the start
    apify_emulator.advance(2.5)
    wait_until(lambda: len(lines) == 5)
    assert lines[-1].endswith(" INFO  Progress: 1/4 requests handled") and not ended.is_set()
    apify_emulator.advance(10)
    reader.join(timeout=30)
    assert ended.is_set()
    assert lines == hook.get_run_log(run.id).splitlines()


def test_an_open_stream_is_ended_at_once_from_another_thread(hook, apify_emulator):
    run = hook.run_task("demo~slow")  # writes nothing more for a long while
    stream = hook.open_run_log_stream(run.id)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
    reader.start()
    wait_until(lambda: len(lines) == 4)  # now the reader waits for the next line
    stream.abort()
    reader.join(timeout=30)
    assert not reader.is_alive() and len(lines) == 4
    stream.close()
    wait_until(lambda: apify_emulator.stats()["in_flight"] == 0)  # the server saw the client go


def test_a_stream_that_cannot_open_raises_the_api_error(hook):
    with pytest.raises(NotFoundError, match="404"):
        hook.open_run_log_stream("NoSuchRun")
