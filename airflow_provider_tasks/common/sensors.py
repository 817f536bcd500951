"""A sensor that waits for an existing remote run to end: poke/reschedule, or deferrable."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseSensorOperator, PokeReturnValue

from airflow_provider_tasks.common.links import RUN_ID_XCOM_KEY, run_url
from airflow_provider_tasks.common.runs import default_deferrable, defer_timeout, run_from_event, trigger_kwargs
from airflow_provider_tasks.common.validation import require_non_empty_str
from airflow_provider_tasks.common.waiting import Deadline

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context

    from airflow_provider_tasks.common.hook import PlatformHook, RemoteRun
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger


class RemoteRunSensor(BaseSensorOperator):
    """Succeeds when the run succeeds; fails the task with the run's status message otherwise.

    The finished run object is the sensor's return value (XCom). ``timeout`` (the sensor's
    own parameter) bounds the wait in every mode; in deferrable mode it becomes the trigger's
    deadline.
    """

    platform: ClassVar[str]
    template_fields = ("run_id",)

    def __init__(
        self,
        *,
        run_id: str,
        deferrable: bool | None = None,
        cancel_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.cancel_on_kill = cancel_on_kill
        self.followed_run_url: str | None = None  # read by the run link (common/links.py)

    def make_hook(self) -> PlatformHook:
        raise NotImplementedError

    def trigger_class(self) -> type[RemoteRunTrigger]:
        raise NotImplementedError

    @cached_property
    def hook(self) -> PlatformHook:
        return self.make_hook()

    def execute(self, context: Context) -> Any:
        require_non_empty_str("run_id", self.run_id)
        if self.operator_extra_links:
            context["ti"].xcom_push(key=RUN_ID_XCOM_KEY, value=self.run_id)  # read by the run link
            self.followed_run_url = run_url(self, self.run_id)
        if not self.deferrable:
            return super().execute(context)
        run = self.poll()
        if run.snapshot().terminal:
            return self._result(run)
        deadline = Deadline.after(self.timeout)
        self.defer(trigger=self.make_trigger(deadline), method_name="execute_complete", timeout=defer_timeout(deadline))

    def poll(self) -> RemoteRun:
        """One look at the watched object; sensors that watch something other than a run override it."""
        return self.hook.poll_run(self.run_id)

    def wrap(self, raw: dict[str, Any]) -> RemoteRun:
        """Rebuild the watched object from a trigger event's dict."""
        return self.hook.wrap_run(raw)

    def make_trigger(self, deadline: Deadline) -> RemoteRunTrigger:
        return self.trigger_class()(**self.trigger_kwargs(deadline))

    def trigger_kwargs(self, deadline: Deadline) -> dict[str, Any]:
        return trigger_kwargs(
            self.hook, self.run_id, deadline, poll_interval=self.poke_interval, cancel_on_kill=self.cancel_on_kill
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        run = self.poll()
        snapshot = run.snapshot()
        if not snapshot.terminal:
            self.log.info("%s run %s is %s", self.platform, self.run_id, snapshot.status)
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._result(run))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return self._result(run_from_event(event, self.platform, self.wrap))

    def _result(self, run: RemoteRun) -> Any:
        """The sensor's return value for a terminal object; raises for an unsuccessful end."""
        snapshot = run.snapshot()
        if self.operator_extra_links:
            self.followed_run_url = run_url(self, snapshot.run_id, run)
        if not snapshot.succeeded:
            raise snapshot.failure(self.platform)
        return run.raw
