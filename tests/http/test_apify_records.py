"""ApifyHook's key-value store calls over real HTTP against the emulator: keys paged by key, records
streamed byte for byte with their Content-Type, a body cut on the way retried, 404s that say which."""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.blobs import copy_body
from airflow_provider_tasks.common.errors import NotFoundError, ResponseTooLargeError, TransportError
from airflow_provider_tasks.common.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0)
BLOB = os.urandom(3 * 1024 * 1024 + 17)  # several transport chunks, every byte value
RECORD_ROUTE = "GET /v2/key-value-stores/{storeId}/records/{key}"


@pytest.fixture
def hook(apify_conn_env) -> ApifyHook:
    return ApifyHook(retry_policy=FAST)


@pytest.fixture
def store(apify_emulator) -> str:
    records = {"OUTPUT": {"ok": True}, "photo.jpg": (BLOB, "image/jpeg"), "notes": "plain text"}
    return str(apify_emulator.add_key_value_store(records)["id"])


def digest(hook: ApifyHook, store: str, key: str):
    """Stream a record into a hash, never holding it; returns (content type, size, sha256, chunks)."""
    def consume(head, chunks):
        sha, count = hashlib.sha256(), [0]

        def write(chunk):
            sha.update(chunk)
            count[0] += 1

        size = copy_body(head.body, chunks, write, what=head.describe())
        return head.content_type, size, sha.hexdigest(), count[0]

    return hook.stream_record(store, key, consume)


def test_a_binary_record_streams_byte_for_byte_with_its_content_type(hook, store):
    content_type, size, sha, chunks = digest(hook, store, "photo.jpg")
    assert (content_type, size, sha) == ("image/jpeg", len(BLOB), hashlib.sha256(BLOB).hexdigest())
    assert chunks > 1  # it arrived in pieces, and was never joined


def test_a_small_record_read_whole(hook, store):
    record = hook.get_record(store, "notes")
    assert (record.key, record.store_id, record.value) == ("notes", store, b"plain text")
    assert record.content_type == "text/plain; charset=utf-8"
    with pytest.raises(ResponseTooLargeError):
        hook.get_record(store, "photo.jpg", max_bytes=1024)


def test_keys_are_walked_page_by_page_in_key_order(hook, apify_emulator):
    records = {f"page-{n:03d}.html": "<p>" * n for n in range(7)}
    store_id = apify_emulator.add_key_value_store(records)["id"]
    keys = [(item["key"], item["size"]) for item in hook.iter_keys(store_id, page_size=3)]
    assert keys == [(key, len(value)) for key, value in sorted(records.items())]
    assert apify_emulator.stats()["by_route"]["GET /v2/key-value-stores/{storeId}/keys"] == 3
    later = [item["key"] for item in hook.iter_keys(store_id, prefix="page-00", exclusive_start_key="page-004.html")]
    assert later == ["page-005.html", "page-006.html"]


def test_a_body_cut_on_the_way_is_asked_for_again_and_arrives_whole(hook, store, apify_emulator):
    apify_emulator.faults.add("cut", path="/records/photo", count=1)
    assert digest(hook, store, "photo.jpg")[2] == hashlib.sha256(BLOB).hexdigest()
    assert apify_emulator.stats()["by_route"][RECORD_ROUTE] == 2


def test_a_body_cut_every_time_fails_after_the_retries(hook, store, apify_emulator):
    apify_emulator.faults.add("cut", path="/records/photo", count=None)
    with pytest.raises(TransportError, match="failed while reading the answer"):
        digest(hook, store, "photo.jpg")
    assert apify_emulator.stats()["by_route"][RECORD_ROUTE] == FAST.max_attempts


def test_a_missing_record_and_a_missing_store_are_404s_that_say_which(hook, store, apify_emulator):
    record = re.escape(f"Record was not found (not found: record 'nope' of key-value store '{store}')")
    with pytest.raises(NotFoundError, match=record):
        hook.get_record(store, "nope")
    with pytest.raises(NotFoundError, match=r"Key-value store was not found .*record 'OUTPUT' of key-value store 'go"):
        digest(hook, "gone", "OUTPUT")
    with pytest.raises(NotFoundError):
        list(hook.iter_keys("gone"))
    assert apify_emulator.stats()["by_status"].get("404") == 3  # a 404 is not retried


def test_a_run_default_store_holds_its_output_once_the_run_ended(hook, apify_emulator):
    apify_emulator.add_task("kv", duration_secs=0.2, records={"OUTPUT": {"rows": 3}, "log.txt": "done"})
    run = hook.run_task("demo~kv", wait_for_finish=30)
    assert [item["key"] for item in hook.iter_keys(run.default_key_value_store_id)] == ["INPUT", "OUTPUT", "log.txt"]
    assert hook.get_record(run.default_key_value_store_id, "OUTPUT").value.replace(b" ", b"").replace(b"\n", b"") == (
        b'{"rows":3}'
    )
