"""Dataset objects and items: formats, paging headers, field selection, generated items."""

from __future__ import annotations

import csv
import io
import json

import pytest

from airflow_provider_tasks.testing.apify_items import item_json, make_item


@pytest.fixture
def finished_run(api, apify_emulator):
    apify_emulator.add_task("ten", duration_secs=1, item_count=10)
    run = api.start_task("demo~ten")
    apify_emulator.advance(1)
    return run


def _headers(response):
    return {
        name: response.headers[f"X-Apify-Pagination-{name}"] for name in ("Offset", "Limit", "Count", "Total", "Desc")
    }


def test_items_appear_only_when_the_run_has_finished(api, apify_emulator):
    apify_emulator.add_task("later", duration_secs=5, item_count=3)
    run = api.start_task("demo~later")
    dataset = f"/v2/datasets/{run['defaultDatasetId']}"
    assert api.get(dataset).json()["data"]["itemCount"] == 0
    assert api.get(dataset + "/items").json() == []
    apify_emulator.advance(5)
    info = api.get(dataset).json()["data"]
    assert (info["itemCount"], info["cleanItemCount"], info["actRunId"]) == (3, 3, run["id"])
    assert len(api.get(dataset + "/items").json()) == 3


def test_failed_run_exposes_its_partial_items(api, apify_emulator):
    apify_emulator.add_task("partial", duration_secs=1, outcome="FAILED", item_count=2)
    run = api.start_task("demo~partial")
    apify_emulator.advance(1)
    assert len(api.get(f"/v2/datasets/{run['defaultDatasetId']}/items").json()) == 2


def test_json_items_are_a_bare_array_with_paging_headers(api, finished_run):
    response = api.get(f"/v2/datasets/{finished_run['defaultDatasetId']}/items")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == [make_item(i) for i in range(10)]
    assert _headers(response) == {"Offset": "0", "Limit": "999999999999", "Count": "10", "Total": "10", "Desc": "false"}


def test_offset_limit_desc(api, finished_run):
    url = f"/v2/datasets/{finished_run['defaultDatasetId']}/items"
    page = api.get(url, params={"offset": 2, "limit": 3})
    assert [item["id"] for item in page.json()] == [2, 3, 4]
    assert _headers(page) == {"Offset": "2", "Limit": "3", "Count": "3", "Total": "10", "Desc": "false"}
    newest = api.get(url, params={"offset": 1, "limit": 3, "desc": 1})
    assert [item["id"] for item in newest.json()] == [8, 7, 6]
    assert _headers(newest)["Desc"] == "true"
    tail = api.get(url, params={"offset": 8, "limit": 5})
    assert [item["id"] for item in tail.json()] == [8, 9] and _headers(tail)["Count"] == "2"
    assert api.get(url, params={"offset": 50}).json() == []


def test_fields_and_omit(api, finished_run):
    url = f"/v2/datasets/{finished_run['defaultDatasetId']}/items"
    picked = api.get(url, params={"fields": "title,id", "limit": 1}).json()
    assert picked == [{"title": "Item 0", "id": 0}] and list(picked[0]) == ["title", "id"]
    omitted = api.get(url, params={"omit": "details,tags", "limit": 1}).json()[0]
    assert set(omitted) == {"id", "url", "title", "price"}
    assert api.get(url, params={"clean": "true"}).json() == api.get(url).json()


def test_jsonl(api, finished_run):
    response = api.get(f"/v2/datasets/{finished_run['defaultDatasetId']}/items", params={"format": "jsonl", "limit": 3})
    assert response.headers["Content-Type"].startswith("application/jsonl")
    lines = response.text.splitlines()
    assert [json.loads(line) for line in lines] == [make_item(i) for i in range(3)]
    assert _headers(response)["Count"] == "3"


def test_csv_flattens_nested_fields(api, finished_run):
    response = api.get(f"/v2/datasets/{finished_run['defaultDatasetId']}/items", params={"format": "csv", "limit": 2})
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["id", "url", "title", "price", "tags/0", "tags/1", "details/rank", "details/inStock"]
    assert rows[1]["id"] == "1" and rows[1]["details/inStock"] == "true" and rows[0]["details/inStock"] == "false"
    assert _headers(response)["Total"] == "10"


def test_unsupported_format_is_400(api, finished_run):
    response = api.get(f"/v2/datasets/{finished_run['defaultDatasetId']}/items", params={"format": "xlsx"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid-input"


def test_run_dataset_shortcuts(api, finished_run):
    info = api.get(f"/v2/actor-runs/{finished_run['id']}/dataset").json()["data"]
    assert info["id"] == finished_run["defaultDatasetId"]
    assert len(api.get(f"/v2/actor-runs/{finished_run['id']}/dataset/items").json()) == 10


def test_unknown_dataset_is_404(api):
    response = api.get("/v2/datasets/AAAAAAAAAAAAAAAAA/items")
    assert response.json() == {"error": {"type": "record-not-found", "message": "Dataset was not found"}}


def test_large_standalone_dataset_streams(api, apify_emulator):
    dataset = apify_emulator.add_dataset(120_000, name="big")
    assert api.get("/v2/datasets/demo~big").json()["data"]["itemCount"] == 120_000
    response = api.get(f"/v2/datasets/{dataset['id']}/items", params={"format": "jsonl"})
    assert "Content-Length" not in response.headers  # chunked: memory stays flat however large
    lines = response.content.splitlines()
    assert len(lines) == 120_000 and json.loads(lines[-1]) == make_item(119_999)


def test_fast_item_rendering_matches_json_dumps():
    for i in [*range(300), 9_999, 10_000, 123_456, 999_999]:
        assert item_json(i) == json.dumps(make_item(i), separators=(",", ":"))


def test_an_actor_that_echoes_its_input_gives_each_run_its_own_items(api, apify_emulator):
    """``echo_input``: every item of a run's dataset carries that run's input (``input``), in
    every format and through field selection, so two runs of one Actor have different items."""
    apify_emulator.add_actor("echo", duration_secs=1, item_count=3, echo_input=True)
    runs = {
        term: api.post("/v2/acts/demo~echo/runs", json={"search": term}).json()["data"] for term in ("tea", "café")
    }
    apify_emulator.advance(1)
    for term, run in runs.items():
        url = f"/v2/datasets/{run['defaultDatasetId']}"
        assert api.get(url + "/items").json() == [{**make_item(i), "input": {"search": term}} for i in range(3)]
        lines = api.get(url + "/items", params={"format": "jsonl"}).text.splitlines()
        assert [json.loads(line) for line in lines] == [{**make_item(i), "input": {"search": term}} for i in range(3)]
        assert api.get(url + "/items", params={"fields": "id,input"}).json() == [
            {"id": i, "input": {"search": term}} for i in range(3)
        ]
        rows = list(csv.DictReader(io.StringIO(api.get(url + "/items", params={"format": "csv"}).text)))
        assert [row["input/search"] for row in rows] == [term] * 3
        assert api.get(url).json()["data"]["fields"][-1] == "input"
    # the fast path writes what json.dumps writes
    body = api.get(f"/v2/datasets/{runs['café']['defaultDatasetId']}/items", params={"format": "jsonl"}).text
    assert body.splitlines()[0] == json.dumps({**make_item(0), "input": {"search": "café"}}, separators=(",", ":"))


def test_a_task_that_echoes_its_input_echoes_the_merged_input(api, apify_emulator):
    """A task run's input is the task's saved input overridden by the request body: that is what is echoed."""
    apify_emulator.add_task("echo-task", duration_secs=1, item_count=1, input={"a": 1, "b": 2}, echo_input=True)
    run = api.post("/v2/actor-tasks/demo~echo-task/runs", json={"b": 3}).json()["data"]
    apify_emulator.advance(1)
    assert api.get(f"/v2/datasets/{run['defaultDatasetId']}/items").json() == [
        {**make_item(0), "input": {"a": 1, "b": 3}}
    ]
