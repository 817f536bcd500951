"""Key-value stores: a run's default store, records with their own bytes and Content-Type, keys paged
by key, 404 bodies, and the ways a test puts records in (task configuration, PUT, control API)."""

from __future__ import annotations

import gzip
import json

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # every byte value, NUL and CR/LF included


@pytest.fixture
def run_with_records(api, apify_emulator):
    apify_emulator.add_task(
        "shots",
        duration_secs=2,
        records={
            "OUTPUT": {"title": "Example", "prices": [1.5, 2]},
            "screenshot.png": (PNG, "image/png"),
            "notes.txt": "héllo\r\nwörld",
        },
    )
    run = api.start_task("demo~shots")
    apify_emulator.advance(2)
    return run


def store_path(run: dict) -> str:
    return f"/v2/key-value-stores/{run['defaultKeyValueStoreId']}"


def test_every_run_has_a_default_store_of_its_own(api, apify_emulator):
    first, second = api.start_task("demo~fails"), api.start_task("demo~fails")
    assert first["defaultKeyValueStoreId"] != second["defaultKeyValueStoreId"]
    store = api.get(store_path(first)).json()["data"]
    assert store["id"] == first["defaultKeyValueStoreId"] and store["actRunId"] == first["id"]
    assert api.get(f"/v2/actor-runs/{first['id']}/key-value-store").json()["data"]["id"] == store["id"]


def test_records_keep_their_bytes_and_content_type(api, run_with_records):
    png = api.get(store_path(run_with_records) + "/records/screenshot.png", params={"attachment": "true"})
    assert png.status_code == 200 and png.content == PNG
    assert png.headers["Content-Type"] == "image/png" and int(png.headers["Content-Length"]) == len(PNG)
    assert "attachment" in png.headers["Content-Disposition"]
    text = api.get(store_path(run_with_records) + "/records/notes.txt")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8" and text.content == "héllo\r\nwörld".encode()
    output = api.get(store_path(run_with_records) + "/records/OUTPUT")
    assert output.headers["Content-Type"].startswith("application/json")
    assert output.json() == {"title": "Example", "prices": [1.5, 2]}
    via_run = api.get(f"/v2/actor-runs/{run_with_records['id']}/key-value-store/records/screenshot.png")
    assert via_run.content == PNG
    assert "Content-Disposition" not in api.get(store_path(run_with_records) + "/records/OUTPUT?attachment=0").headers
    bad = api.get(store_path(run_with_records) + "/records/OUTPUT", params={"attachment": "yes"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid-input"  # as every boolean parameter


def test_output_appears_when_the_run_ends_and_not_after_an_abort(api, apify_emulator):
    apify_emulator.add_task("later", duration_secs=5, item_count=3)
    run = api.start_task("demo~later")
    assert api.get(store_path(run) + "/records/OUTPUT").status_code == 404
    assert api.get(store_path(run) + "/records/INPUT").json()["startUrls"]  # the input is there from the start
    apify_emulator.advance(5)
    assert api.get(store_path(run) + "/records/OUTPUT").json() == {"status": "SUCCEEDED", "itemCount": 3}
    aborted = api.start_task("demo~later")
    api.post(f"/v2/actor-runs/{aborted['id']}/abort")
    assert api.get(store_path(aborted) + "/records/OUTPUT").status_code == 404


def test_an_actor_configured_without_records_writes_none(api, apify_emulator):
    apify_emulator.add_task("silent", duration_secs=1, records={})
    run = api.start_task("demo~silent")
    apify_emulator.advance(1)
    keys = api.get(store_path(run) + "/keys").json()["data"]
    assert [item["key"] for item in keys["items"]] == ["INPUT"]


def test_missing_store_and_missing_record_are_404_saying_which(api, run_with_records):
    record = api.get(store_path(run_with_records) + "/records/NOPE")
    assert record.status_code == 404
    assert record.json() == {"error": {"type": "record-not-found", "message": "Record was not found"}}
    for path in ("/v2/key-value-stores/missing/records/OUTPUT", "/v2/key-value-stores/missing/keys"):
        store = api.get(path)
        assert store.status_code == 404
        assert store.json()["error"] == {"type": "record-not-found", "message": "Key-value store was not found"}


def test_keys_are_listed_in_key_order_and_paged_by_key(api, apify_emulator):
    records = {f"k{n:03d}": "x" * n for n in range(25)}
    store = apify_emulator.add_key_value_store(records, name="many")
    path = f"/v2/key-value-stores/{store['id']}/keys"
    seen, start, pages = [], None, 0
    while True:
        page = api.get(path, params={"limit": 10, "exclusiveStartKey": start}).json()["data"]
        pages += 1
        assert page["limit"] == 10 and page["count"] == len(page["items"]) and page["exclusiveStartKey"] == start
        seen += [(item["key"], item["size"]) for item in page["items"]]
        if not page["isTruncated"]:
            assert page["nextExclusiveStartKey"] is None
            break
        start = page["nextExclusiveStartKey"]
        assert start == page["items"][-1]["key"]
    assert pages == 3 and seen == [(key, len(value)) for key, value in sorted(records.items())]
    by_name = api.get("/v2/key-value-stores/demo~many/keys", params={"prefix": "k02"}).json()["data"]
    assert [item["key"] for item in by_name["items"]] == [f"k02{n}" for n in range(5)]
    assert api.get(path, params={"limit": "x"}).json()["error"]["type"] == "invalid-input"


def test_keys_limit_defaults_to_and_is_capped_at_1000(api, apify_emulator):
    store = apify_emulator.add_key_value_store({f"k{n:04d}": n for n in range(1001)})
    page = api.get(f"/v2/key-value-stores/{store['id']}/keys", params={"limit": 5000}).json()["data"]
    assert (page["limit"], page["count"], page["isTruncated"], page["nextExclusiveStartKey"]) == (
        1000, 1000, True, "k0999"
    )  # fmt: skip


def test_put_stores_the_body_under_its_content_type_and_replaces(api, run_with_records):
    path = store_path(run_with_records) + "/records/OUTPUT"
    put = api.request("PUT", path, data=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    assert put.status_code == 201
    got = api.get(path)
    assert got.content == b"a,b\n1,2\n" and got.headers["Content-Type"] == "text/csv"
    zipped = api.request(
        "PUT",
        store_path(run_with_records) + "/records/big.json",
        data=gzip.compress(json.dumps({"n": list(range(1000))}).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert zipped.status_code == 201
    assert api.get(store_path(run_with_records) + "/records/big.json").json() == {"n": list(range(1000))}


def test_control_api_and_python_api_put_records(api, apify_emulator):
    created = api.post("/_emulator/key-value-stores", json={"records": {"OUTPUT": [1, 2]}, "name": "ctl"})
    assert created.status_code == 201
    store_id = created.json()["data"]["id"]
    assert api.get(f"/v2/key-value-stores/{store_id}/records/OUTPUT").json() == [1, 2]
    apify_emulator.put_record(store_id, "blob", b"\x00\x01", "application/x-thing")
    assert apify_emulator.get_record("demo~ctl", "blob") == (b"\x00\x01", "application/x-thing")
    bad = api.post("/_emulator/key-value-stores", json={"records": {"a/b": 1}})
    assert bad.status_code == 400 and "invalid record key" in bad.json()["error"]["message"]
    apify_emulator.reset()
    assert api.get(f"/v2/key-value-stores/{store_id}").status_code == 404


def test_the_cut_fault_announces_the_whole_body_and_sends_half(api, apify_emulator, run_with_records):
    import requests
    import urllib3

    path = store_path(run_with_records) + "/records/screenshot.png"
    apify_emulator.faults.add("cut", path="/records/", count=1)
    answer = api.get(path, stream=True)
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(PNG)
    received = bytearray()
    with pytest.raises((urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError)):
        for chunk in answer.raw.stream(1024, decode_content=True):
            received += chunk
    assert PNG.startswith(bytes(received)) and len(received) <= len(PNG) // 2  # the client may drop its last read
    assert api.get(path).content == PNG  # the rule is spent
