"""Key-value store records, sans-IO: the requests built, the keys pages and record bodies parsed."""

from __future__ import annotations

import json

import pytest

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.common.blobs import BodyHead, copy_body
from airflow_provider_tasks.common.errors import ConfigurationError, MalformedResponseError
from airflow_provider_tasks.common.sansio import ApiResponse


def keys_answer(items, truncated, following=None) -> ApiResponse:
    data = {"items": [{"key": k, "size": 1} for k in items], "isTruncated": truncated,
            "nextExclusiveStartKey": following, "count": len(items), "limit": 2}  # fmt: skip
    return ApiResponse(200, {"content-type": "application/json"}, json.dumps({"data": data}).encode())


def test_record_request_quotes_the_key_and_asks_for_the_stored_record():
    request = api.get_record("demo~store", "shot(1).png")
    assert request.method == "GET" and request.path == "/v2/key-value-stores/demo~store/records/shot%281%29.png"
    assert request.query() == {"attachment": "1"}


def test_keys_request_leaves_unset_options_out():
    request = api.list_keys("s1", limit=50)
    assert request.path == "/v2/key-value-stores/s1/keys" and request.query() == {"limit": "50"}


@pytest.mark.parametrize("key", ["OUTPUT", "a-b_c.d!'()", "x" * 256])
def test_record_keys_apify_allows(key):
    assert api.require_record_key("key", key) == key


@pytest.mark.parametrize("key", ["", "a/b", "with space", "x" * 257, None, "ü"])
def test_other_record_keys_are_refused_naming_the_field_and_the_characters(key):
    with pytest.raises(ConfigurationError, match=r"key must be an Apify record key: 1-256 characters of a-z A-Z"):
        api.require_record_key("key", key)


def test_a_truncated_keys_page_continues_after_its_next_key():
    first = api.list_keys("s1", limit=2)
    page = api.parse_keys_page(first, keys_answer(["a", "b"], True, "b"))
    assert [item["key"] for item in page.items] == ["a", "b"]
    assert page.next_request is not None and page.next_request.query() == {"limit": "2", "exclusiveStartKey": "b"}
    last = api.parse_keys_page(page.next_request, keys_answer(["c"], False))
    assert last.next_request is None


@pytest.mark.parametrize("following", [None, "", "a", "b"])
def test_a_truncated_page_that_would_not_move_on_is_refused(following):
    request = api.list_keys("s1", exclusive_start_key="b")
    with pytest.raises(MalformedResponseError, match="does not move on"):
        api.parse_keys_page(request, keys_answer(["c"], True, following))


def test_a_record_read_whole_keeps_bytes_and_type_and_must_match_its_length():
    body = bytes(range(256))
    record = api.parse_record("s", "k", ApiResponse(200, {"content-type": "image/png", "content-length": "256"}, body))
    assert (record.value, record.content_type) == (body, "image/png")
    with pytest.raises(MalformedResponseError, match="received 10 bytes but Content-Length announced 256"):
        api.parse_record("s", "k", ApiResponse(200, {"content-length": "256"}, body[:10]))


def test_an_encoded_body_is_not_held_to_its_encoded_length():
    assert BodyHead.of({"content-length": "12", "content-encoding": "gzip"}).content_length is None
    assert BodyHead.of({"content-length": "12", "content-encoding": "identity"}).content_length == 12
    assert BodyHead.of({"content-length": "-1"}).content_length is None


def test_copy_body_counts_every_byte_and_refuses_a_short_or_long_body():
    written: list[bytes] = []
    head = BodyHead("application/octet-stream", 6)
    assert copy_body(head, [b"ab", b"", b"cdef"], written.append, what="r") == 6 and b"".join(written) == b"abcdef"
    for chunks in ([b"abc"], [b"abcdefg"]):
        with pytest.raises(MalformedResponseError, match=r"r: received .* bytes but Content-Length announced 6"):
            copy_body(head, chunks, written.append, what="r")
    assert copy_body(BodyHead(None, None), [b"xyz"], written.append, what="r") == 3


@pytest.mark.parametrize(
    "content_type, is_json",
    [("application/json; charset=utf-8", True), ("application/ld+json", True), ("text/plain", False), (None, False)],
)
def test_json_media_types(content_type, is_json):
    assert BodyHead(content_type, None).is_json is is_json


def test_a_404_on_a_record_names_the_record_and_its_store():
    request = api.get_record("s1", "OUTPUT")
    body = json.dumps({"error": {"type": "record-not-found", "message": "Record was not found"}}).encode()
    error = api.DIALECT.error_for(request, ApiResponse(404, {}, body))
    assert "Record was not found (not found: record 'OUTPUT' of key-value store 's1')" in str(error)
