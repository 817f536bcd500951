"""Streaming writers: formats, flattening, atomic placement."""

from __future__ import annotations

import csv
import json

import pytest

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.writers import flatten, write_pages

PAGES = [[{"id": 1, "a": {"b": 2}}, {"id": 2, "tags": ["x", "y"]}], [], [{"id": 3, "new": "col", "n": None}]]


def test_jsonl_writes_one_item_per_line(tmp_path):
    result = write_pages(iter(PAGES), tmp_path / "out.jsonl", "jsonl")
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert result.item_count == 3 and [json.loads(line)["id"] for line in lines] == [1, 2, 3]


def test_json_writes_one_array(tmp_path):
    write_pages(iter(PAGES), tmp_path / "out.json", "json")
    assert [item["id"] for item in json.loads((tmp_path / "out.json").read_text())] == [1, 2, 3]
    write_pages(iter([[]]), tmp_path / "empty.json", "json")
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_csv_has_the_union_of_flattened_columns(tmp_path):
    write_pages(iter(PAGES), tmp_path / "nested" / "out.csv", "csv")
    with open(tmp_path / "nested" / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "a/b", "tags/0", "tags/1", "new", "n"]
    assert rows[0]["a/b"] == "2" and rows[1]["tags/1"] == "y" and rows[2]["new"] == "col" and rows[2]["n"] == ""


def test_flatten_matches_apify_export_naming():
    assert flatten({"a": {"b": {"c": 1}}, "l": [{"x": 1}], "e": {}}) == {"a/b/c": 1, "l/0/x": 1, "e": {}}


def test_failed_stream_leaves_no_file_behind(tmp_path):
    def pages():
        yield [{"id": 1}]
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        write_pages(pages(), tmp_path / "out.jsonl", "jsonl")
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="format must be one of 'jsonl', 'json', 'csv'"):
        write_pages(iter(PAGES), tmp_path / "x", "xml")


def test_object_storage_path_target(tmp_path):
    from airflow_provider_tasks.common.compat import object_storage_path_class

    target = object_storage_path_class()(f"file://{tmp_path}/store/out.jsonl")
    result = write_pages(iter(PAGES), target, "jsonl")
    assert result.item_count == 3 and len((tmp_path / "store" / "out.jsonl").read_text().splitlines()) == 3


def test_jsonl_chunks_are_written_as_is_with_line_endings_completed(tmp_path):
    from airflow_provider_tasks.common.writers import write_jsonl_chunks

    result = write_jsonl_chunks(iter([b'{"a":1}\n{"a":2}\n', b"", b'{"a":3}']), tmp_path / "out.jsonl")
    assert result.item_count == 3
    assert (tmp_path / "out.jsonl").read_bytes() == b'{"a":1}\n{"a":2}\n{"a":3}\n'
