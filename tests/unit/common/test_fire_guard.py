"""The fast-trigger guard (``FIRE_GUARD_SECONDS``) and the Airflow behaviour it guards against.

The guard stays on every Airflow line because every line still fails a resumed task instance on
the stale executor ``success`` of its worker's deferral exit in at least one state (docs/deferral.md,
"The fast-trigger guard"). The scheduler test below runs the installed Airflow's own
``process_executor_events`` on that event, so the matrix checks the premise on each line: when a
line ignores the stale event in every state (apache/airflow #73546, or #68741 with #72767), the test
fails, and the guard can be reconsidered for that line.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any
from unittest import mock

from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_tasks.common.deferral import FIRE_GUARD_SECONDS, follow_kwargs
from airflow_provider_tasks.common.waiting import Deadline

RESUMED_STATES = ("scheduled", "queued", "running")


def test_every_deferral_carries_the_ten_second_guard():
    hook = SimpleNamespace(conn_id="c", retry_policy=SimpleNamespace(to_dict=dict))
    before = time.time()
    kwargs = follow_kwargs(hook, Deadline.after(60), poll_interval=5)  # type: ignore[arg-type]
    assert FIRE_GUARD_SECONDS == 10.0
    assert before + FIRE_GUARD_SECONDS <= kwargs["fire_not_before"] <= time.time() + FIRE_GUARD_SECONDS


class _Executor:
    """An executor whose event buffer holds one ``success`` for ``key`` and which no longer holds
    the task: on 3.x the workload API never re-adds a picked-up workload; on 2.11 reading the stale
    result removes the key that the resumed try had just put back in ``running``."""

    def __init__(self, key: Any) -> None:
        from airflow.utils.state import TaskInstanceState

        self.buffer = {key: (TaskInstanceState.SUCCESS, None)}

    def get_event_buffer(self) -> dict[Any, Any]:
        return self.buffer

    def has_task(self, ti: Any) -> bool:
        return False

    def send_callback(self, request: Any) -> None:  # pragma: no cover - callbacks are off
        raise AssertionError("no callback expected")

    def __str__(self) -> str:
        return "StubExecutor"


class _DagBag:
    """Any lookup of a DAG answers a DAG whose task has no callbacks and no e-mail."""

    def __getattr__(self, name: str) -> Any:
        task = SimpleNamespace(
            has_on_retry_callback=False,
            has_on_failure_callback=False,
            on_retry_callback=None,  # 3.0
            on_failure_callback=None,
            email=None,
        )
        dag = SimpleNamespace(get_task=lambda task_id: task)
        return lambda *args, **kwargs: dag


def _stale_success_fails(state_name: str) -> bool:
    """Whether the installed scheduler fails a task instance resumed from deferral (``next_method``
    set, same try, queued by this scheduler) that is ``state_name`` when the stale ``success`` of
    its deferral exit is drained."""
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.taskinstancekey import TaskInstanceKey
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # 3.0: DagRun.consumed_asset_events is a backref, there once the mappers are set up

    key = TaskInstanceKey("dag", "wait", "run", try_number=1, map_index=-1)
    ti = mock.MagicMock(
        key=key,
        try_number=1,
        state=TaskInstanceState(state_name),
        next_method="execute_complete",
        queued_by_job_id=7,
        dag_id="dag",
        task_id="wait",
        run_id="run",
        map_index=-1,
        max_tries=0,
        priority_weight=1,
    )
    session = mock.MagicMock()
    session.scalars.return_value = iter([ti])
    with mock.patch("airflow.jobs.scheduler_job_runner.Log", mock.MagicMock()):
        if AIRFLOW_V_3_0_PLUS:
            SchedulerJobRunner.process_executor_events(
                executor=_Executor(key), job_id=7, scheduler_dag_bag=_DagBag(), session=session
            )
        else:  # 2.11: a method of the running scheduler, given here the little of it that it reads
            scheduler = SimpleNamespace(
                _standalone_dag_processor=True,
                processor_agent=None,
                log=logging.getLogger(__name__),
                job=SimpleNamespace(id=7),
                dagbag=_DagBag(),
            )
            SchedulerJobRunner._process_executor_events(scheduler, _Executor(key), session)  # type: ignore[arg-type]
    return bool(ti.handle_failure.called)


def test_the_installed_scheduler_still_fails_a_resumed_task_on_a_stale_deferral_exit():
    failing = [state for state in RESUMED_STATES if _stale_success_fails(state)]
    assert failing, (
        "this Airflow ignores a stale defer-exit success in every resumed state: the fast-trigger guard "
        "(FIRE_GUARD_SECONDS) may be dropped on this line; see docs/deferral.md"
    )
    # the states docs/deferral.md gives for each line (2.11 checks "queued" only; #66431 is in 3.2.2)
    if not AIRFLOW_V_3_0_PLUS:
        expected = ["queued"]
    elif Version(Version(airflow_version).base_version) >= Version("3.2.2"):
        expected = ["queued", "running"]
    else:
        expected = ["scheduled", "queued", "running"]
    assert failing == expected


def test_the_stub_scheduler_run_leaves_a_deferred_task_alone():
    """The check above can tell: a task instance still ``deferred`` when the event is drained is
    not failed (the case the guard arranges)."""
    assert not _stale_success_fails("deferred")
