"""Dataset and results downloads over real HTTP: every item or a clear failure, never junk.

The emulator's page shapes (empty items under ``clean``, server page caps, a free plan's export
limit) and faults (a ``200 text/html`` proxy page, a body cut mid-line, a dripping body) are what
a naive reader turns into silently short or broken files.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import MalformedResponseError, TransportError
from airflow_provider_tasks.common.pagination import IncompleteDataError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0)
ITEMS = "/items$"


@pytest.fixture
def hook(apify_conn_env) -> ApifyHook:
    return ApifyHook(retry_policy=FAST)


def jsonl_items(hook: ApifyHook, dataset_id: str, **options) -> list[dict]:
    data = b"".join(hook.iter_dataset_jsonl(dataset_id, **options))
    return [json.loads(line) for line in data.splitlines()]


def parsed_items(hook: ApifyHook, dataset_id: str, **options) -> list[dict]:
    return list(hook.iter_dataset_items(dataset_id, **options))


READERS = {"jsonl": jsonl_items, "json": parsed_items}


@pytest.fixture(params=sorted(READERS))
def read(request):
    return READERS[request.param]


def test_clean_pages_shortened_by_empty_items_are_not_the_end(hook, apify_emulator, read):
    dataset = apify_emulator.add_dataset(3000, empty_every=3)["id"]
    items = read(hook, dataset, page_size=500, clean=True)
    assert len(items) == 2000 and {} not in items
    assert [item["id"] for item in items[:4]] == [0, 1, 3, 4] and items[-1]["id"] == 2998


def test_without_clean_empty_items_are_kept_and_counted(hook, apify_emulator, read):
    dataset = apify_emulator.add_dataset(30, empty_every=3)["id"]
    items = read(hook, dataset, page_size=7)
    assert len(items) == 30 and items.count({}) == 10


def test_a_server_page_cap_is_followed_by_its_reported_limit(hook, apify_emulator, read):
    dataset = apify_emulator.add_dataset(250, page_cap=100)["id"]
    items = read(hook, dataset, page_size=1000)
    assert [item["id"] for item in items] == list(range(250))
    assert apify_emulator.stats()["by_route"]["GET /v2/datasets/{datasetId}/items"] == 4  # 0, 100, 200, 300 (empty)


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_a_bad_page_once_is_retried_and_the_data_is_whole(hook, apify_emulator, read, kind):
    dataset = apify_emulator.add_dataset(40)["id"]
    apify_emulator.faults.add(kind, path=ITEMS, count=1)
    assert [item["id"] for item in read(hook, dataset, page_size=25)] == list(range(40))
    assert apify_emulator.faults.rules() == []


@pytest.mark.parametrize(
    "kind, message",
    [("html", "Content-Type 'text/html'"), ("truncated", "middle of a line|expected a JSON body")],
)
def test_a_bad_page_every_time_fails_after_the_retries(hook, apify_emulator, read, kind, message):
    dataset = apify_emulator.add_dataset(40)["id"]
    apify_emulator.faults.add(kind, path=ITEMS, count=None)
    with pytest.raises(MalformedResponseError, match=message):
        read(hook, dataset, page_size=25)
    assert apify_emulator.stats()["by_route"]["GET /v2/datasets/{datasetId}/items"] == FAST.max_attempts


def test_a_page_with_fewer_lines_than_its_count_is_refused(hook, apify_emulator):
    dataset = apify_emulator.add_dataset(3)["id"]
    apify_emulator.faults.add("truncated", path=ITEMS, count=None)
    with pytest.raises(MalformedResponseError):
        b"".join(hook.iter_dataset_jsonl(dataset, page_size=10))


def test_a_dripping_page_is_cut_off_at_the_request_deadline(apify_conn_env, apify_emulator):
    dataset = apify_emulator.add_dataset(200)["id"]
    apify_emulator.faults.add("drip", path=ITEMS, count=None, seconds=0.02)  # ~20 minutes for the page
    hook = ApifyHook(retry_policy=RetryPolicy(max_attempts=1))
    request = dataclasses.replace(api.dataset_items(dataset, fmt="jsonl"), timeout=0.5)
    with pytest.raises(TransportError, match="timed out"):
        hook.transport.send_streamed(request, lambda head, chunks: b"".join(chunks))


def test_jsonl_blocks_join_into_complete_lines_one_request_per_page(hook, apify_emulator):
    dataset = apify_emulator.add_dataset(7)["id"]
    data = b"".join(hook.iter_dataset_jsonl(dataset, page_size=3))
    assert data.endswith(b"\n") and [json.loads(line)["id"] for line in data.splitlines()] == list(range(7))
    assert apify_emulator.stats()["by_route"]["GET /v2/datasets/{datasetId}/items"] == 4  # 0, 3, 6, 9 (empty: the end)


# -- Lobstr.io --------------------------------------------------------------------------------


@pytest.fixture
def lobstr(lobstr_conn_env) -> LobstrHook:
    return LobstrHook(retry_policy=FAST)


@pytest.fixture
def finished_run(lobstr, lobstr_emulator) -> str:
    run = lobstr.start_run(SEED_HASHES["demo-squid"]["hash"])
    lobstr_emulator.advance(1_000)
    return run.id


def rows(hook: LobstrHook, run_id: str, page_size: int = 100) -> list[dict]:
    return [
        row for page in hook.iter_result_pages(run_id=run_id, page_size=page_size, min_interval=0) for row in page.items
    ]


def test_lobstr_results_follow_a_lower_page_limit_the_server_applies(lobstr, lobstr_emulator, finished_run):
    lobstr_emulator.set_plan(results_page_cap=25)
    found = rows(lobstr, finished_run)
    assert len(found) == 60 and len({row["id"] for row in found}) == 60


def test_lobstr_export_limit_fails_instead_of_writing_part_of_the_results(lobstr, lobstr_emulator, finished_run):
    lobstr_emulator.set_plan(export_limit=50)
    with pytest.raises(
        IncompleteDataError, match=r"received 50 items but the platform reports 60.*Export limit reached"
    ):
        rows(lobstr, finished_run, page_size=20)


def test_parsed_items_hold_a_line_not_a_page_so_a_page_over_the_body_cap_still_downloads(
    hook, apify_emulator, monkeypatch
):
    """A page bigger than the cap on one API answer: the parsed (json/csv) reader streams it as
    checked JSON Lines and parses line by line, where reading the page whole is refused."""
    from airflow_provider_tasks.common import sansio as messages
    from airflow_provider_tasks.common.errors import ResponseTooLargeError

    dataset = apify_emulator.add_dataset(300)["id"]
    monkeypatch.setattr(messages, "DEFAULT_MAX_BODY", 4096)
    with pytest.raises(ResponseTooLargeError):  # one page read whole is over the cap
        hook.send(api.dataset_items(dataset, limit=1000), retry=False)
    items = parsed_items(hook, dataset, page_size=1000)
    assert [item["id"] for item in items] == list(range(300))
