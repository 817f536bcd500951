"""The run operator's journey with a fake platform: resolve (reconnect or start), wait, finish."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest

from airflow_provider_tasks.common.compat import TASK_STATE_STORE
from airflow_provider_tasks.common.errors import RunFailedError
from airflow_provider_tasks.common.run_operator import RemoteRunOperator
from airflow_provider_tasks.common.snapshot import Snapshot
from airflow_provider_tasks.common.waiting import Deadline

TERMINAL = {"SUCCEEDED", "FAILED", "ABORTED"}


@dataclass(frozen=True)
class FakeRun:
    raw: dict[str, Any]

    def snapshot(self) -> Snapshot:
        status = self.raw["status"]
        return Snapshot(
            self.raw["id"], status, status in TERMINAL, status == "SUCCEEDED", None, None, aborted=status == "ABORTED"
        )


def run(run_id: str, status: str) -> FakeRun:
    return FakeRun({"id": run_id, "status": status})


class FakeHook:
    """Each run id answers its scripted statuses in turn (the last one stays)."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.started: list[str] = []
        self.deadlines: list[float | None] = []
        self.closed = 0

    def _next(self, run_id: str) -> FakeRun:
        statuses = self.script[run_id]
        return run(run_id, statuses.pop(0) if len(statuses) > 1 else statuses[0])

    def poll_run(self, run_id: str, wait: float = 0) -> FakeRun:
        return self._next(run_id)

    def wait_for_run(self, run_id: str, deadline: Deadline, **kwargs: Any) -> FakeRun:
        self.deadlines.append(deadline.at)
        while not (current := self._next(run_id)).snapshot().terminal:
            pass
        return current

    def wrap_run(self, raw: dict[str, Any]) -> FakeRun:
        return FakeRun(raw)

    def close(self) -> None:
        self.closed += 1


class FakeOperator(RemoteRunOperator[FakeRun, Any]):
    platform = "Fake"
    state_store_key = "fake_run_id"

    def __init__(self, *, fake_hook: FakeHook, new_runs: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake_hook = fake_hook
        self.new_runs = new_runs

    def make_hook(self) -> Any:
        return self.fake_hook

    def trigger_class(self) -> Any:
        raise AssertionError("not deferrable in these tests")

    def start_or_reuse(self, hook: Any, context: Any) -> tuple[FakeRun, bool]:
        run_id = self.new_runs.pop(0)
        hook.started.append(run_id)
        return hook._next(run_id), False

    # Before Airflow 3.3 there is no task_state_store: a later try finds the run by the marker
    # its start carried (the platform's own record), which the fake keeps in the context.
    def task_instance_identity(self, context: Any) -> str | None:
        return "fake-task-instance"

    def find_earlier_run(self, hook: Any, context: Any, identity: str) -> FakeRun | None:
        earlier = context.get("earlier_run")
        return hook._next(earlier) if earlier and identity == "fake-task-instance" else None


class Store(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def context(previous_run: str | None = None) -> dict[str, Any]:
    # a stored run means a later try; the first try has nothing to look for
    ti = mock.Mock(try_number=2 if previous_run else 1)
    return {
        "ti": ti,
        "task_state_store": Store({"fake_run_id": previous_run} if previous_run else {}),
        "earlier_run": previous_run,
    }


def operator(hook: FakeHook, new_runs: list[str]) -> FakeOperator:
    return FakeOperator(task_id="run", fake_hook=hook, new_runs=new_runs, deferrable=False, timeout=60)


def test_a_new_run_is_started_waited_for_and_finished_and_the_hook_closed():
    hook = FakeHook({"new": ["RUNNING", "RUNNING", "SUCCEEDED"]})
    assert operator(hook, ["new"]).execute(context())["id"] == "new"
    assert hook.started == ["new"] and hook.closed == 1


def test_a_reconnected_run_that_fails_fails_the_task_without_a_second_run():
    hook = FakeHook({"old": ["RUNNING", "RUNNING", "RUNNING", "FAILED"]})
    with pytest.raises(RunFailedError, match="run old ended with status FAILED"):
        operator(hook, ["new"]).execute(context(previous_run="old"))
    assert hook.started == [] and hook.closed == 1


def test_a_reconnected_run_aborted_meanwhile_is_replaced_once_under_the_same_deadline():
    hook = FakeHook({"old": ["RUNNING", "RUNNING", "ABORTED"], "new": ["RUNNING", "RUNNING", "SUCCEEDED"]})
    ctx = context(previous_run="old")
    assert operator(hook, ["new"]).execute(ctx)["id"] == "new"
    assert hook.started == ["new"]
    if TASK_STATE_STORE:  # Airflow 3.3: the store now names the new run
        assert ctx["task_state_store"]["fake_run_id"] == "new"
    assert len(hook.deadlines) == 2 and hook.deadlines[0] == hook.deadlines[1]


def test_a_fresh_run_that_is_aborted_fails_the_task():
    hook = FakeHook({"new": ["RUNNING", "RUNNING", "ABORTED"]})
    with pytest.raises(RunFailedError, match="ABORTED"):
        operator(hook, ["new"]).execute(context())
    assert hook.started == ["new"]


def test_resuming_a_deferred_reconnected_run_that_was_aborted_keeps_the_try_deadline():
    hook = FakeHook({"new": ["RUNNING", "RUNNING", "SUCCEEDED"]})
    deadline = time.time() + 30
    event = {"status": "failed", "run_id": "old", "run": {"id": "old", "status": "ABORTED"}, "message": None}
    result = operator(hook, ["new"]).execute_complete(context("old"), event, reconnected=True, deadline=deadline)
    assert result["id"] == "new" and hook.started == ["new"] and hook.deadlines == [deadline]
    assert hook.closed == 1


class ReusingOperator(FakeOperator):
    """A platform whose target already has the run ``active`` going (None: nothing is going)."""

    reuse_running = True

    def __init__(self, *, active: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.active = active

    def start_or_reuse(self, hook: Any, context: Any) -> tuple[FakeRun, bool]:
        return (hook._next(self.active), True) if self.active else super().start_or_reuse(hook, context)


def reused_pushes(ctx: dict[str, Any]) -> list[Any]:
    return [c.kwargs["value"] for c in ctx["ti"].xcom_push.call_args_list if c.kwargs["key"] == "reused_run"]


def test_a_reused_run_is_followed_not_started_nor_stored_and_never_aborted_on_kill():
    hook = FakeHook({"theirs": ["RUNNING", "RUNNING", "SUCCEEDED"]})
    hook.abort_run = mock.Mock()
    op = ReusingOperator(
        task_id="run", fake_hook=hook, new_runs=["mine"], active="theirs", deferrable=False, timeout=60
    )
    ctx = context()
    assert op.execute(ctx)["id"] == "theirs"
    assert hook.started == [] and reused_pushes(ctx) == [True]
    assert "fake_run_id" not in ctx["task_state_store"]  # a retry looks for the active run again
    op.on_kill()
    hook.abort_run.assert_not_called()


def test_with_nothing_going_reuse_starts_a_run_and_says_it_was_not_reused():
    hook = FakeHook({"mine": ["RUNNING", "SUCCEEDED"]})
    op = ReusingOperator(task_id="run", fake_hook=hook, new_runs=["mine"], active=None, deferrable=False, timeout=60)
    ctx = context()
    assert op.execute(ctx)["id"] == "mine"
    assert hook.started == ["mine"] and reused_pushes(ctx) == [False]
    if TASK_STATE_STORE:
        assert ctx["task_state_store"]["fake_run_id"] == "mine"


# -- deferrable: the worker hands over right after the start answer ---------------------------


class FakeTrigger:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class DeferringOperator(FakeOperator):
    def trigger_class(self) -> Any:
        return FakeTrigger


class CountingHook(FakeHook):
    conn_id = "fake_default"

    def __init__(self, script: dict[str, list[str]]) -> None:
        super().__init__(script)
        self.polls = 0
        from airflow_provider_tasks.common.retry import RetryPolicy

        self.retry_policy = RetryPolicy()

    def poll_run(self, run_id: str, wait: float = 0) -> FakeRun:
        self.polls += 1
        return super().poll_run(run_id, wait)


def deferring(hook: FakeHook, new_runs: list[str]) -> DeferringOperator:
    return DeferringOperator(task_id="run", fake_hook=hook, new_runs=new_runs, deferrable=True, timeout=60)


def test_a_deferrable_task_defers_right_after_the_start_without_a_status_request():
    from airflow.providers.common.compat.sdk import TaskDeferred

    hook = CountingHook({"new": ["READY", "SUCCEEDED"]})
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        deferring(hook, ["new"]).execute(context())
    assert hook.started == ["new"] and hook.polls == 0  # no long-poll held the worker
    trigger = deferred.value.trigger
    assert trigger.kwargs["run_id"] == "new"
    # Airflow's fast-trigger race is guarded in the trigger: no event before 10 s after deferral
    assert trigger.kwargs["fire_not_before"] >= before + 10
    assert hook.closed == 1


def test_a_deferrable_task_whose_run_ended_already_finishes_without_deferring():
    hook = CountingHook({"new": ["SUCCEEDED"]})
    assert deferring(hook, ["new"]).execute(context())["status"] == "SUCCEEDED"
    assert hook.polls == 0


def test_a_deferrable_retry_reconnects_to_the_earlier_run_and_defers_with_it():
    from airflow.providers.common.compat.sdk import TaskDeferred

    hook = CountingHook({"old": ["RUNNING"]})
    with pytest.raises(TaskDeferred) as deferred:
        deferring(hook, ["new"]).execute(context(previous_run="old"))
    assert hook.started == [] and deferred.value.trigger.kwargs["run_id"] == "old"
    assert deferred.value.kwargs["reconnected"] is True  # a picked-up run that ends ABORTED is replaced once
    # one look at the picked-up run before deferring (from 3.3 the reconnection itself also reads it
    # through task_state_store; before, the earlier try's run is found by its marker)
    assert hook.polls == (2 if TASK_STATE_STORE else 1)


def test_a_deferrable_retry_whose_picked_up_run_is_being_aborted_replaces_it_before_deferring():
    """The cleared try's trigger aborts its run while the new try picks it up: the look before
    deferring sees that, and the new try defers with a fresh run instead of a trigger that would
    fire within seconds of the deferral."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    hook = CountingHook({"old": ["RUNNING", "ABORTED"], "new": ["READY"]})
    with pytest.raises(TaskDeferred) as deferred:
        deferring(hook, ["new"]).execute(context(previous_run="old"))
    assert hook.started == ["new"] and deferred.value.trigger.kwargs["run_id"] == "new"
