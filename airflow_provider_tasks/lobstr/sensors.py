"""Sensors that wait for a Lobstr.io run or task to end: poke/reschedule, or deferrable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.compat import AirflowSkipException
from airflow_provider_tasks.common.sensors import RemoteRunSensor
from airflow_provider_tasks.common.validation import require_choice
from airflow_provider_tasks.lobstr import api
from airflow_provider_tasks.lobstr.links import LobstrRunLink

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context

    from airflow_provider_tasks.common.hook import RemoteRun
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger
    from airflow_provider_tasks.common.waiting import Deadline
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

ON_ABORTED = ("fail", "succeed", "skip")


class _LobstrSensor(RemoteRunSensor):
    platform = api.PLATFORM

    def __init__(self, *, lobstr_conn_id: str = "lobstr_default", **kwargs: Any) -> None:
        kwargs.setdefault("poke_interval", 30)
        super().__init__(**kwargs)
        self.lobstr_conn_id = lobstr_conn_id

    def make_hook(self) -> LobstrHook:
        from airflow_provider_tasks.lobstr.hooks import LobstrHook

        return LobstrHook(self.lobstr_conn_id)


class LobstrRunSensor(_LobstrSensor):
    """Waits until a squid run ends: ``done`` succeeds; ``error`` and ``aborted`` fail the task
    with the run's ``done_reason`` and a dashboard link. ``paused`` keeps waiting.

    :param run_id: the run hash (templated, e.g. from an upstream ``run_id`` XCom).
    :param lobstr_conn_id: the ``lobstr`` connection.

    Poke, reschedule or ``deferrable=True``; the run object is the return value.
    """

    operator_extra_links = (LobstrRunLink(),)

    def trigger_class(self) -> type[RemoteRunTrigger]:
        from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger

        return LobstrRunTrigger


class LobstrTaskSensor(_LobstrSensor):
    """Waits until a task's status is terminal (completed, aborted or failed, per the API).

    ``completed`` succeeds and ``failed`` fails the task with its errors. ``aborted`` tasks may
    hold partial results, so ``on_aborted`` decides: ``"fail"`` (default: a partial result is
    not what the DAG asked for), ``"succeed"`` (take what was collected; check
    ``total_results``) or ``"skip"`` (skip this task and, by default, its downstream).

    :param task_hash: the task's 32-character hash (templated).
    :param on_aborted: ``"fail"``, ``"succeed"`` or ``"skip"``.

    The return value (XCom) is the task's status object.
    """

    template_fields = ("task_hash",)

    def __init__(self, *, task_hash: str, on_aborted: str = "fail", **kwargs: Any) -> None:
        super().__init__(run_id=task_hash, **kwargs)
        self.task_hash = task_hash
        self.on_aborted = require_choice("on_aborted", on_aborted, ON_ABORTED)

    def execute(self, context: Context) -> Any:
        self.run_id = self.task_hash
        return super().execute(context)

    def poll(self) -> RemoteRun:
        return self.hook.get_task(self.task_hash)

    def trigger_class(self) -> type[RemoteRunTrigger]:
        from airflow_provider_tasks.lobstr.triggers import LobstrTaskTrigger

        return LobstrTaskTrigger

    def trigger_kwargs(self, deadline: Deadline) -> dict[str, Any]:
        kwargs = super().trigger_kwargs(deadline)
        kwargs["task_hash"] = kwargs.pop("run_id")
        return kwargs

    def wrap(self, raw: dict[str, Any]) -> RemoteRun:
        return api.LobstrTask(raw)

    def _result(self, task: RemoteRun) -> Any:
        snapshot = task.snapshot()
        status = task.raw.get("status") or {}
        if snapshot.terminal and not snapshot.succeeded and snapshot.status == api.TaskStatus.ABORTED.value:
            if self.on_aborted == "succeed":
                self.log.warning("Task %s was aborted; taking its %s partial results", self.task_hash, status.get("total_results"))
                return status
            if self.on_aborted == "skip":
                raise AirflowSkipException(f"Lobstr.io task {self.task_hash} was aborted")
        if not snapshot.succeeded:
            raise snapshot.failure(self.platform)
        return status

