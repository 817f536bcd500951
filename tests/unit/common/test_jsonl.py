"""Page checks before a file is written: JSON Lines spooling, the walk's completeness, output paths."""

from __future__ import annotations

import os

import pytest

from airflow_provider_tasks.common import jsonl
from airflow_provider_tasks.common.errors import ConfigurationError, MalformedResponseError
from airflow_provider_tasks.common.pagination import IncompleteDataError, Page, iterate_pages
from airflow_provider_tasks.common.sansio import ApiRequest
from airflow_provider_tasks.common.writers import check_output_path, write_jsonl_chunks

JSONL = {"content-type": "application/jsonl; charset=utf-8"}


def _spool(chunks, expected=None, headers=JSONL):
    return jsonl.spool_jsonl(headers, iter(chunks), expected_lines=expected, what="page")


def test_lines_spanning_chunks_are_counted_and_copied_intact():
    page = _spool([b'{"a":1}\n{"a"', b':2}\n{"a":3}', b"\n"], expected=3)
    assert page.lines == 3 and b"".join(page.blocks(size=4)) == b'{"a":1}\n{"a":2}\n{"a":3}\n'


@pytest.mark.parametrize("chunks", [[b'{"a":1}\n{"a":2}'], [b'{"a":1}\n{"a"', b":2", b"}"]], ids=["one", "spanning"])
def test_a_complete_last_line_without_newline_gets_one(chunks, monkeypatch):
    for budget in (1 << 20, 4):  # in memory, and spilled to disk
        monkeypatch.setattr(jsonl, "SPOOL_MEMORY", budget)
        page = _spool(chunks, expected=2)
        assert b"".join(page.blocks()) == b'{"a":1}\n{"a":2}\n'


@pytest.mark.parametrize(
    "chunks, expected, headers, message",
    [
        ([b"<html>proxy</html>\n"], None, {"content-type": "text/html"}, "Content-Type 'text/html'"),
        ([b"{}\n"], None, {}, "Content-Type 'none'"),
        ([b'{"a":1}\n{"a":2,"b'], 2, JSONL, "ends in the middle of a line"),
        ([b'{"a":1}\n'], 2, JSONL, "holds 1 lines but the platform counted 2"),
    ],
    ids=["html", "no-type", "cut-mid-line", "cut-at-a-line"],
)
def test_bad_pages_are_malformed(chunks, expected, headers, message):
    with pytest.raises(MalformedResponseError, match=message):
        _spool(chunks, expected, headers)


def test_a_page_larger_than_the_memory_budget_moves_to_disk(monkeypatch):
    monkeypatch.setattr(jsonl, "SPOOL_MEMORY", 1024)
    line = b'{"x":"' + b"y" * 100 + b'"}\n'
    page = _spool([line * 10] * 5, expected=50)
    assert page._file is not None  # not on the heap
    assert sum(len(block) for block in page.blocks(size=333)) == len(line) * 50


def _walk(pages_by_offset, expected_total, warning=None):
    def fetch(request: ApiRequest) -> Page[int]:
        offset = request.params["offset"]
        items = pages_by_offset[offset]
        following = ApiRequest("GET", "/x", {"offset": offset + 1}) if offset + 1 < len(pages_by_offset) else None
        return Page(items, following, expected_total=expected_total, warning=warning)

    return [
        item
        for page in iterate_pages(fetch, ApiRequest("GET", "/x", {"offset": 0}), what="the source")
        for item in page.items
    ]


def test_a_walk_short_of_the_reported_total_fails_quoting_the_platform():
    assert _walk([[1, 2], [], [3]], expected_total=3) == [1, 2, 3]  # an empty page mid-walk is not the end
    with pytest.raises(
        IncompleteDataError, match=r"the source: received 2 items but the platform reports 5.*'Export limit"
    ):
        _walk([[1], [2]], expected_total=5, warning="Export limit reached")
    assert _walk([[1], [2]], expected_total=None) == [1, 2]


def test_output_path_naming_a_directory_is_refused(tmp_path):
    for bad in (str(tmp_path), f"{tmp_path}/sub/", ""):
        with pytest.raises(ConfigurationError, match="output_path"):
            check_output_path(bad)
    check_output_path(tmp_path / "items.jsonl")


def test_an_object_storage_directory_is_refused_too(tmp_path):
    from airflow_provider_tasks.common.compat import object_storage_path_class

    ObjectStoragePath = object_storage_path_class()

    (tmp_path / "store").mkdir()
    with pytest.raises(ConfigurationError, match="is a directory"):
        check_output_path(ObjectStoragePath(f"file://{tmp_path}/store"))
    with pytest.raises(ConfigurationError, match="is a directory"):
        check_output_path("s3://bucket/prefix/")
    check_output_path(ObjectStoragePath(f"file://{tmp_path}/store/items.jsonl"))


def test_no_partial_file_survives_a_failed_move(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("x")  # a non-empty directory: the final rename fails
    with pytest.raises(OSError):
        write_jsonl_chunks(iter([b"{}\n"]), str(target))
    assert sorted(os.listdir(tmp_path)) == ["taken"]


def test_jsonl_items_parse_lines_that_span_blocks():
    from airflow_provider_tasks.common.jsonl import jsonl_items

    blocks = [b'{"a": 1}\n{"a"', b": 2}\n", b'\n{"a": 3}']
    assert list(jsonl_items(blocks, "dataset d")) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_a_line_that_is_not_json_is_named_by_position():
    from airflow_provider_tasks.common.jsonl import jsonl_items

    with pytest.raises(MalformedResponseError, match=r"dataset d: line 2 is not JSON \('<html>"):
        list(jsonl_items([b'{"a": 1}\n<html>\n'], "dataset d"))


def test_batched_keeps_order_and_bounds_each_batch():
    from airflow_provider_tasks.common.jsonl import batched

    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]] and list(batched([], 3)) == []
