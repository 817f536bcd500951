"""Fidelity: the official ``apify-client`` (3.x) works against the emulator.

The client parses every answer into pydantic models, so a missing required field, a wrong type
or a missing ``X-Apify-Pagination-*`` header fails here rather than in the provider's tests.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta

import pytest

from tests.emulator.helpers import wait_until

# apify-client 3 needs Python 3.11 (the test extra installs it from there): a declared gate, and
# on 3.11+ a missing client is an import error, not a silent skip.
pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="apify-client 3 needs Python 3.11+")
if sys.version_info >= (3, 11):
    from apify_client import ApifyClient, ApifyClientAsync
    from apify_client.errors import NotFoundError

FAST_RETRY = {"min_delay_between_retries": timedelta(milliseconds=5)}


@pytest.fixture
def client(apify_emulator):
    return ApifyClient(apify_emulator.token, api_url=apify_emulator.base_url, **FAST_RETRY)


@pytest.fixture
def quick_task(apify_emulator):
    return apify_emulator.add_task("quick", duration_secs=0.2, item_count=2_500)


def test_user_and_limits(client):
    assert client.user().get().username == "demo"
    assert client.user().limits().limits.max_concurrent_actor_jobs == 250


def test_tasks_get_and_list(client):
    task = client.task("demo~succeeds-with-items").get()
    assert task.name == "succeeds-with-items" and task.options.memory_mbytes == 1024
    assert client.tasks().list().total == 5
    assert client.task("demo~missing").get() is None


def test_actors_stores_inputs_and_filtered_lists(client):
    assert [actor.name for actor in client.actors().list().items] == ["example-actor"]
    run = client.task("demo~fails").start()
    assert client.run(run.id).key_value_store().get().act_run_id == run.id
    assert client.runs().list(status=["READY", "RUNNING"]).total == 1
    assert client.actor("demo~example-actor").runs().list().total == 1  # task runs count for the Actor
    assert client.task("demo~fails").get_input()["startUrls"]


def test_start_wait_and_read_items(client, quick_task):
    run = client.task("demo~quick").start(task_input={"extra": "x" * 4096}, memory_mbytes=512)  # gzip body
    assert run.status in ("READY", "RUNNING") and run.meta.user_agent.startswith("ApifyClient/")
    assert run.options.memory_mbytes == 512
    finished = client.run(run.id).wait_for_finish()
    assert finished.status == "SUCCEEDED" and finished.finished_at is not None
    dataset = client.dataset(finished.default_dataset_id)
    assert dataset.get().item_count == 2_500
    items = list(dataset.iterate_items())
    assert len(items) == 2_500 and items[-1]["id"] == 2_499
    page = dataset.list_items(offset=10, limit=5, desc=True)
    assert (page.total, page.count, page.desc, [i["id"] for i in page.items]) == (
        2_500, 5, True, list(range(2489, 2484, -1))
    )
    assert len(list(client.run(run.id).iterate_dataset_items(chunk_size=1000))) == 2_500
    assert client.run(run.id).key_value_store().get_record("INPUT")["value"]["extra"] == "x" * 4096


def test_call_and_run_listings(client, quick_task):
    run = client.task("demo~quick").call(wait_duration=timedelta(seconds=30))
    assert run.status == "SUCCEEDED"
    listed = client.task("demo~quick").runs().list(desc=True, status="SUCCEEDED")
    assert [item.id for item in listed.items] == [run.id]
    assert client.task("demo~quick").last_run(status="SUCCEEDED").get().id == run.id
    assert client.runs().list().total == 1


def test_actor_start_abort_and_failures(client, apify_emulator):
    assert client.actor("demo~example-actor").get().username == "demo"
    run = client.actor("demo~example-actor").start(run_input={"a": 1})
    assert client.run(run.id).abort(gracefully=True).status == "ABORTING"
    apify_emulator.advance(1)
    assert client.run(run.id).wait_for_finish().status == "ABORTED"
    apify_emulator.add_task("fails-fast", duration_secs=0.1, outcome="FAILED")
    failed = client.task("demo~fails-fast").call()
    assert (failed.status, failed.status_message, failed.exit_code) == ("FAILED", "Actor failed: example failure", 1)
    assert client.task("demo~fails-fast").last_run(status="SUCCEEDED").get() is None  # 404 read as "none"
    with pytest.raises(NotFoundError):
        client.dataset("AAAAAAAAAAAAAAAAA").list_items()


def test_client_retries_injected_server_errors(client, apify_emulator):
    apify_emulator.faults.add("status", status=503, count=2)
    assert client.user().get().username == "demo"
    assert apify_emulator.stats()["by_status"] == {"503": 2, "200": 1}


def test_client_retry_after_a_dropped_start_duplicates_the_run(client, apify_emulator):
    """The duplicate-run trap: the first start reached the server, its answer was lost, the client
    retried blindly -- two billed runs. The emulator reproduces it so the provider can avoid it."""
    apify_emulator.faults.add("drop_after", method="POST", path=r"/runs$")
    client.task("demo~succeeds-with-items").start()
    assert len(apify_emulator.runs()) == 2


def test_async_client(apify_emulator, quick_task):
    async def scenario() -> tuple[str, int]:
        client = ApifyClientAsync(apify_emulator.token, api_url=apify_emulator.base_url, **FAST_RETRY)
        task = await client.task("demo~quick").get()
        run = await client.task(task.id).start()
        finished = await client.run(run.id).wait_for_finish()
        count = 0
        async for _ in client.dataset(finished.default_dataset_id).iterate_items():
            count += 1
        return finished.status, count

    assert asyncio.run(scenario()) == ("SUCCEEDED", 2_500)


def test_key_value_store_keys_and_records(client, apify_emulator):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    apify_emulator.add_task("kv", duration_secs=0.2, records={"OUTPUT": {"ok": True}, "shot.png": (png, "image/png")})
    run = client.task("demo~kv").call(wait_duration=timedelta(seconds=30))
    store = client.key_value_store(run.default_key_value_store_id)
    assert store.get().act_run_id == run.id
    assert [key.key for key in store.iterate_keys(chunk_size=1)] == ["INPUT", "OUTPUT", "shot.png"]
    page = store.list_keys(limit=2)
    assert page.is_truncated and page.next_exclusive_start_key == "OUTPUT" and page.count == 2
    assert store.get_record("OUTPUT")["value"] == {"ok": True}
    image = store.get_record_as_bytes("shot.png")
    assert image["value"] == png and image["content_type"] == "image/png"
    store.set_record("report.csv", "a,b\n1,2\n", content_type="text/csv")  # the client gzips the body
    assert store.get_record("report.csv")["value"] == "a,b\n1,2\n"
    assert store.get_record("missing") is None
    assert client.key_value_store("no-such-store").get_record("OUTPUT") is None


def test_run_logs_read_and_redirected_by_the_client(client, apify_emulator):
    apify_emulator.add_task("logs", duration_secs=1, log_lines=3, ready_secs=0.5)
    started = client.task("demo~logs").start()  # READY: nothing logged yet, an empty stream at first

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    target = logging.getLogger("fidelity.redirected")
    target.addHandler(Keep())
    target.setLevel(logging.DEBUG)
    with client.run(started.id).get_streamed_log(to_logger=target):
        run = client.run(started.id).wait_for_finish()
        wait_until(lambda: any("Actor finished" in record for record in records))
    text = client.log(run.id).get()
    assert text.splitlines()[-1].endswith("ACTOR: Actor finished successfully (exit code 0).")
    assert client.run(run.id).log().get() == text  # /v2/actor-runs/{runId}/log
    assert client.log("NoSuchRun00000000").get() is None  # 404 read as "no log"
    assert records == text.splitlines()  # followed as the run wrote it, every line once
