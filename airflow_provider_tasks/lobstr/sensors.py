"""Sensors that wait for a Lobstr.io run or task to end: poke/reschedule, or deferrable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.compat import AirflowSkipException
from airflow_provider_tasks.common.deferral import follow_kwargs
from airflow_provider_tasks.common.sensors import FollowSensor, RemoteRunSensor
from airflow_provider_tasks.common.validation import require_choice
from airflow_provider_tasks.lobstr.links import LobstrRunLink
from airflow_provider_tasks.lobstr.platform import LobstrConnected

if TYPE_CHECKING:
    from airflow_provider_tasks.common.waiting import Deadline
    from airflow_provider_tasks.lobstr.api import LobstrRun, LobstrTask  # noqa: F401 (LobstrRun: a string base-class argument)
    from airflow_provider_tasks.lobstr.hooks import LobstrHook  # noqa: F401 (named in a string base-class argument, for mypy)
    from airflow_provider_tasks.lobstr.triggers import LobstrTaskTrigger

ON_ABORTED = ("fail", "succeed", "skip")


class LobstrRunSensor(LobstrConnected, RemoteRunSensor["LobstrRun", "LobstrHook"]):
    """Waits until a squid run ends: ``done`` succeeds; ``error`` and ``aborted`` fail the task with the run's
    ``done_reason`` and a dashboard link; ``paused`` keeps waiting. Poke, reschedule or ``deferrable=True``; the run
    object is the return value.

    :param run_id: the run hash (templated, e.g. from an upstream ``run_id`` XCom).
    :param lobstr_conn_id: the ``lobstr`` connection.
    """

    operator_extra_links = (LobstrRunLink(),)

    def __init__(self, *, run_id: str, **kwargs: Any) -> None:
        super().__init__(run_id=run_id, **{"poke_interval": 30, **kwargs})


class LobstrTaskSensor(LobstrConnected, FollowSensor["LobstrHook", "LobstrTask"]):
    """Waits until a task's status is terminal: ``completed`` succeeds, ``failed`` fails the task with its errors,
    ``aborted`` (maybe partial results) does what ``on_aborted`` says. The return value (XCom) is the task's status
    object; killing the sensor aborts nothing (a task is not a run).

    :param task_hash: the task's 32-character hash (templated).
    :param on_aborted: ``"fail"`` (default: a partial result is not what the DAG asked for), ``"succeed"`` (take
        what was collected; check ``total_results``) or ``"skip"`` (skip this task and, by default, its downstream).
    :param lobstr_conn_id: the ``lobstr`` connection.
    """

    template_fields = ("task_hash",)
    followed_field = "task_hash"

    def __init__(self, *, task_hash: str, on_aborted: str = "fail", **kwargs: Any) -> None:
        super().__init__(**{"poke_interval": 30, **kwargs})
        self.task_hash = task_hash
        self.on_aborted = require_choice("on_aborted", on_aborted, ON_ABORTED)

    def poll(self) -> LobstrTask:
        return self.hook.get_task(self.task_hash)

    def wrap(self, raw: dict[str, Any]) -> LobstrTask:
        from airflow_provider_tasks.lobstr.api import LobstrRun, LobstrTask  # noqa: F401 (LobstrRun: a string base-class argument)

        return LobstrTask(raw)

    def make_trigger(self, deadline: Deadline) -> LobstrTaskTrigger:
        from airflow_provider_tasks.lobstr.triggers import LobstrTaskTrigger

        return LobstrTaskTrigger(
            task_hash=self.task_hash, **follow_kwargs(self.hook, deadline, poll_interval=self.poke_interval)
        )

    def result(self, followed: LobstrTask) -> Any:
        snapshot = followed.snapshot()
        status = followed.status_object
        if snapshot.aborted and self.on_aborted == "skip":
            raise AirflowSkipException(f"Lobstr.io task {self.task_hash} was aborted")
        if snapshot.aborted and self.on_aborted == "succeed":
            self.log.warning(
                "Task %s was aborted; taking its %s partial results", self.task_hash, status.get("total_results")
            )
        elif not snapshot.succeeded:
            raise snapshot.failure(self.platform)
        return status
