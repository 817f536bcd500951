"""Emulator switches for page shapes that lose data when read naively: empty items under
``clean``/``skipEmpty``, server-side page caps, a free plan's export limit, a proxy's HTML page and
a body cut mid-line."""

from __future__ import annotations

import json

import pytest


def _pagination(response):
    return {name: int(response.headers[f"X-Apify-Pagination-{name}"]) for name in ("Offset", "Limit", "Count", "Total")}


@pytest.mark.parametrize("param", ["clean", "skipEmpty"])
def test_skip_empty_drops_empty_items_inside_the_window(api, apify_emulator, param):
    dataset = apify_emulator.add_dataset(30, empty_every=3)
    assert (dataset["itemCount"], dataset["cleanItemCount"]) == (30, 20)
    path = f"/v2/datasets/{dataset['id']}/items"
    page = api.get(path, params={"offset": 0, "limit": 10, param: 1})
    assert [item["id"] for item in page.json()] == [0, 1, 3, 4, 6, 7, 9]
    assert _pagination(page) == {"Offset": 0, "Limit": 10, "Count": 7, "Total": 30}
    raw = api.get(path, params={"offset": 0, "limit": 3}).json()
    assert raw[2] == {} and len(raw) == 3
    jsonl = api.get(path, params={"offset": 3, "limit": 3, "format": "jsonl", param: 1})
    assert [json.loads(line)["id"] for line in jsonl.text.splitlines()] == [3, 4]


def test_csv_renders_empty_items_as_empty_rows(api, apify_emulator):
    dataset = apify_emulator.add_dataset(3, empty_every=3)
    lines = api.get(f"/v2/datasets/{dataset['id']}/items", params={"format": "csv"}).text.splitlines()
    assert len(lines) == 4 and set(lines[3]) == {","}


def test_page_cap_serves_fewer_items_and_reports_the_effective_limit(api, apify_emulator):
    dataset = apify_emulator.add_dataset(250, page_cap=100)
    page = api.get(f"/v2/datasets/{dataset['id']}/items", params={"offset": 200, "limit": 1000})
    assert _pagination(page) == {"Offset": 200, "Limit": 100, "Count": 50, "Total": 250}
    assert page.json()[0]["id"] == 200


def test_html_fault_answers_200_with_a_proxy_page(api, apify_emulator):
    dataset = apify_emulator.add_dataset(5)
    apify_emulator.faults.add("html", path="/items$", count=1)
    spoiled = api.get(f"/v2/datasets/{dataset['id']}/items", params={"format": "jsonl"})
    assert spoiled.status_code == 200 and spoiled.headers["Content-Type"].startswith("text/html")
    assert spoiled.text.startswith("<!DOCTYPE html>") and spoiled.headers["X-Apify-Pagination-Count"] == "5"
    assert len(api.get(f"/v2/datasets/{dataset['id']}/items", params={"format": "jsonl"}).text.splitlines()) == 5


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_truncated_fault_cuts_the_last_line_in_the_middle(api, apify_emulator, fmt):
    dataset = apify_emulator.add_dataset(4)
    path = f"/v2/datasets/{dataset['id']}/items"
    whole = api.get(path, params={"format": fmt}).content
    apify_emulator.faults.add("truncated", path="/items$", count=1)
    cut = api.get(path, params={"format": fmt})
    assert cut.status_code == 200 and cut.headers["X-Apify-Pagination-Count"] == "4"
    assert whole.startswith(cut.content) and len(cut.content) < len(whole) and not cut.content.endswith(b"\n")
    with pytest.raises(ValueError):
        json.loads(cut.content.splitlines()[-1])


def test_truncated_fault_also_cuts_a_streamed_body(api, apify_emulator):
    dataset = apify_emulator.add_dataset(6000)
    apify_emulator.faults.add("truncated", path="/items$", count=1)
    cut = api.get(f"/v2/datasets/{dataset['id']}/items", params={"format": "jsonl"})
    lines = cut.content.split(b"\n")
    assert len(lines) == 6000 and lines[-1] and not lines[-1].endswith(b"}")


def test_lobstr_export_limit_serves_the_first_rows_with_a_warning(lobstr_api, lobstr_emulator):
    from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

    squid = SEED_HASHES["demo-squid"]["hash"]
    lobstr_api.post("/v1/runs", json={"squid": squid})
    lobstr_emulator.advance(1_000)
    lobstr_emulator.set_plan(export_limit=50)
    first = lobstr_api.get("/v1/results", params={"squid": squid, "limit": 40}).json()
    second = lobstr_api.get("/v1/results", params={"squid": squid, "limit": 40, "page": 2}).json()
    assert first["total_results"] == 60 and len(first["data"]) == 40 and "Export limit reached" in first["warning"]
    assert len(second["data"]) == 10 and second["total_pages"] == 2
    lobstr_emulator.set_plan()
    assert "warning" not in lobstr_api.get("/v1/results", params={"squid": squid, "limit": 40}).json()


def test_lobstr_results_page_cap_lowers_the_envelope_limit(lobstr_api, lobstr_emulator):
    from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

    squid = SEED_HASHES["demo-squid"]["hash"]
    lobstr_api.post("/v1/runs", json={"squid": squid})
    lobstr_emulator.advance(1_000)
    response = lobstr_api.post("/_emulator/plan", json={"export_limit": None, "results_page_cap": 25})
    assert response.status_code == 201
    page = lobstr_api.get("/v1/results", params={"squid": squid, "limit": 100, "page": 3}).json()
    assert (page["limit"], page["total_pages"], len(page["data"]), page["next"]) == (25, 3, 10, None)
