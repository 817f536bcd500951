"""LobstrHook and put_tasks over real HTTP against the Lobstr.io emulator: add, delete, bulk upload
followed to its end, replacing a squid's tasks, and what a rejected input looks like."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.errors import ApiError, InputsRejectedError, NotFoundError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.lobstr.api import UploadState
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.lobstr.task_inputs import put_tasks

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)
URLS = [{"url": f"https://example.com/in/{n}"} for n in range(5)]


@pytest.fixture
def hook(lobstr_conn_env) -> LobstrHook:
    return LobstrHook(retry_policy=FAST)


@pytest.fixture
def squid(lobstr_emulator) -> str:
    lobstr_emulator.set_uploads(pending_secs=0.2, progress_secs=0.3)
    return lobstr_emulator.add_squid("inputs", task_count=0)["id"]


def params_of(emulator, squid):
    return [task["params"] for task in emulator.tasks(squid)]


def test_add_counts_duplicates_and_delete_says_whether_it_deleted(hook, squid, lobstr_emulator):
    first = hook.add_tasks(squid, URLS[:2])
    again = hook.add_tasks(squid, URLS[1:3])
    assert (len(first.created), first.duplicates) == (2, 0)
    assert (len(again.created), again.duplicates) == (1, 1)
    assert again.created[0]["params"] == URLS[2] and again.created[0]["object"] == "task"
    task_hash = first.created[0]["id"]
    assert hook.delete_task(task_hash) is True
    assert hook.delete_task(task_hash) is False  # 404: already gone
    assert params_of(lobstr_emulator, squid) == URLS[1:3]


def test_add_to_an_unknown_squid_or_with_a_bad_param_names_the_problem(hook, squid):
    with pytest.raises(NotFoundError, match="Squid not found"):
        hook.add_tasks("f" * 32, URLS[:1])
    with pytest.raises(ApiError, match=r"400 validation_error.*Invalid param: query"):
        hook.add_tasks(squid, [{"query": "pizza"}])


def test_upload_is_followed_until_success(hook, squid, lobstr_emulator):
    hook.add_tasks(squid, URLS[:1])
    started = hook.upload_tasks(squid, [*URLS, {"keyword": "pizza", "location": "Paris"}])
    assert started.state is UploadState.PENDING
    done = hook.wait_for_upload(started.id, poll_interval=0.1, timeout=30)
    assert done.state is UploadState.SUCCESS
    counts = [done.count(name) for name in ("valid", "inserted", "duplicates", "invalid")]
    assert counts == [6, 5, 1, 0]
    assert params_of(lobstr_emulator, squid) == [*URLS, {"keyword": "pizza", "location": "Paris"}]


def test_a_failed_upload_raises_with_its_counts(hook, squid, lobstr_emulator):
    lobstr_emulator.set_uploads(pending_secs=0, progress_secs=0.2, failure="Worker lost while reading the file")
    started = hook.upload_tasks(squid, URLS)
    with pytest.raises(InputsRejectedError, match=r"upload \w{32} ended FAILURE .*Worker lost while reading"):
        hook.wait_for_upload(started.id, poll_interval=0.1, timeout=30)
    assert params_of(lobstr_emulator, squid) == []


def test_an_upload_still_going_at_the_timeout_raises(hook, squid, lobstr_emulator):
    lobstr_emulator.set_uploads(pending_secs=3600, progress_secs=0)
    started = hook.upload_tasks(squid, URLS)
    with pytest.raises(InputsRejectedError, match=r"had not ended after 0.3 s: PENDING"):
        hook.wait_for_upload(started.id, poll_interval=0.1, timeout=0.3)


def test_put_tasks_small_goes_as_json_and_replace_deletes_only_the_others(hook, squid, lobstr_emulator):
    hook.add_tasks(squid, URLS[:3])
    outcome = put_tasks(hook, squid, [URLS[2], URLS[4]], replace=True)
    assert (outcome.added, outcome.duplicates, outcome.removed, outcome.upload_id) == (1, 1, 2, None)
    assert outcome.describe() == "added 1 task, 1 duplicate skipped; removed 2 earlier tasks not among the inputs"
    assert params_of(lobstr_emulator, squid) == [URLS[2], URLS[4]]
    assert lobstr_emulator.stats()["by_route"].get("POST /v1/tasks/upload", 0) == 0


def test_put_tasks_in_bulk_above_the_threshold(hook, squid, lobstr_emulator):
    hook.add_tasks(squid, [URLS[0], {"url": "https://example.com/old"}])
    outcome = put_tasks(hook, squid, URLS, replace=True, upload_threshold=3)
    assert (outcome.added, outcome.duplicates, outcome.removed) == (4, 1, 1) and outcome.upload_id
    assert outcome.describe().startswith(f"added 4 tasks, 1 duplicate skipped (bulk upload {outcome.upload_id})")
    assert params_of(lobstr_emulator, squid) == URLS
    assert lobstr_emulator.stats()["by_route"]["POST /v1/tasks/upload"] == 1


def test_put_tasks_fails_when_an_uploaded_row_is_invalid(hook, squid, lobstr_emulator):
    inputs = [*URLS[:2], {"query": "not a param of this crawler"}]
    with pytest.raises(InputsRejectedError, match=r"took 2 of the 3 tasks sent \(1 invalid\)"):
        put_tasks(hook, squid, inputs, upload_threshold=1)
