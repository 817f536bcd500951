"""Fidelity: the official ``lobstrio-sdk`` (0.7) works against the Lobstr.io emulator.

The SDK builds its models from the raw JSON (``Run.from_api`` needs ``id``, ``Task.from_api`` reads
``hash_value``...), pages with ``total_pages`` and maps 401/404/429 to typed errors, so a wrong
field name or status here breaks it. Its ``runs.wait`` stops on ``stats.is_done`` -- which the
emulator, like the API, sets at ``uploading`` before the status is terminal.
"""

from __future__ import annotations

import asyncio

import pytest
from lobstrio import AsyncLobstrClient, LobstrClient
from lobstrio.exceptions import APIError, AuthError, NotFoundError, RateLimitError

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES

DEMO = SEED_HASHES["demo-squid"]


@pytest.fixture
def client(lobstr_emulator):
    with LobstrClient(
        lobstr_emulator.token, base_url=f"{lobstr_emulator.base_url}/v1/", user_agent="fidelity-test"
    ) as sdk:
        yield sdk


def test_account_squids_and_tasks(client):
    assert client.me().first_name == "Demo"
    assert client.balance().available > 0
    assert [squid.name for squid in client.squids.iter(limit=2)] == [
        "demo-squid", "failing-squid", "slow-squid", "pending-squid"
    ]
    squid = client.squids.get(DEMO["hash"])
    assert (squid.id, squid.is_ready, squid.crawler_name) == (DEMO["hash"], True, "Google Maps Search Export")
    task = client.tasks.get(DEMO["tasks"][0])
    assert (task.id, task.status.status, task.status.total_results) == (DEMO["tasks"][0], "pending", 0)
    assert [t.id for t in client.tasks.iter(squid=DEMO["hash"], limit=2)] == DEMO["tasks"]
    added = client.tasks.add(squid=DEMO["hash"], tasks=[{"url": "https://example.com/sdk"}, {"url": "https://example.com/demo-squid/1"}])
    assert (len(added.tasks), added.duplicated_count) == (1, 1)
    assert client.tasks.delete(added.tasks[0].id)["deleted"] is True


def test_bulk_upload_and_its_status(client, lobstr_emulator, tmp_path):
    lobstr_emulator.set_uploads(pending_secs=0, progress_secs=0)
    path = tmp_path / "inputs.tsv"
    path.write_text("url\nhttps://example.com/sdk-upload\nhttps://example.com/demo-squid/1\n")
    started = client.tasks.upload(squid=DEMO["hash"], file=path)  # a .tsv with one column: no tab needed
    status = client.tasks.upload_status(started["id"])
    assert status.state == "SUCCESS"
    assert (status.meta.valid, status.meta.inserted, status.meta.duplicates, status.meta.invalid) == (2, 1, 1, 0)


def test_start_wait_and_iterate_results(client, lobstr_emulator):
    run = client.runs.start(squid=DEMO["hash"])
    assert (run.status, run.origin) == ("pending", "user")
    seen = []

    def tick(stats):  # each poll moves the emulator's clock instead of sleeping
        seen.append(stats.percent_done)
        lobstr_emulator.advance(1)

    finished = client.runs.wait(run.id, poll_interval=0.001, callback=tick)
    assert finished.status in ("uploading", "done") and finished.total_results == 60  # is_done already at uploading
    assert seen[-1] == "100%"
    lobstr_emulator.advance(2)
    done = client.runs.get(run.id)
    assert (done.status, done.done_reason, done.export_done) == ("done", "tasks_done", True)
    rows = list(client.results.iter(run=run.id))
    assert len(rows) == 60 and len({row["id"] for row in rows}) == 60
    page = client.results.page(run=run.id)
    assert (page["total_results"], page["total_pages"]) == (60, 2)  # page_size is not the documented parameter
    runtasks = client.runs.tasks(run.id)  # parsed as Task: the string ``status`` of a runtask is dropped
    assert [t.params["url"] for t in runtasks] == [f"https://example.com/demo-squid/{n}" for n in (1, 2, 3)]
    assert client.runs.download_url(run.id).startswith(lobstr_emulator.base_url)
    assert [r.id for r in client.runs.list(squid=DEMO["hash"])] == [run.id]


def test_abort_and_errors(client, lobstr_emulator):
    run = client.runs.start(squid=DEMO["hash"])
    with pytest.raises(APIError, match="already active") as caught:
        client.runs.start(squid=DEMO["hash"])
    assert caught.value.status_code == 400
    assert client.runs.abort(run.id)["done_reason"] == "aborted"
    with pytest.raises(NotFoundError):
        client.runs.abort(run.id)
    with pytest.raises(NotFoundError):
        client.tasks.get("0" * 32)
    lobstr_emulator.faults.add(
        "status", status=429, retry_after=3, error_type="RateLimitExceeded", message="Rate limit exceeded"
    )
    with pytest.raises(RateLimitError) as limited:
        client.results.list(run=run.id)
    assert (limited.value.retry_after, limited.value.message) == ("3", "Rate limit exceeded")
    lobstr_emulator.add_squid("fresh", is_ready=False)
    with pytest.raises(APIError, match=r"squids\.update"):  # the SDK rewrites the "not ready" error
        client.runs.start(squid=lobstr_emulator.squid("fresh")["id"])
    with LobstrClient("wrong", base_url=f"{lobstr_emulator.base_url}/v1/") as bad, pytest.raises(AuthError):
        bad.me()


def test_async_client(lobstr_emulator):
    async def scenario() -> tuple[str, int]:
        async with AsyncLobstrClient(lobstr_emulator.token, base_url=f"{lobstr_emulator.base_url}/v1/") as sdk:
            run = await sdk.runs.start(squid=DEMO["hash"])
            lobstr_emulator.advance(10)
            finished = await sdk.runs.wait(run.id, poll_interval=0.001)
            count = 0
            async for _ in sdk.results.iter(run=run.id):
                count += 1
            return finished.status, count

    assert asyncio.run(scenario()) == ("done", 60)
