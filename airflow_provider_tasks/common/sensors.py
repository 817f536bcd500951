"""Sensors that wait for an existing remote object (a run, a Lobstr.io task) to end: poke/reschedule, or deferrable."""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast

from airflow_provider_tasks.common.compat import BaseSensorOperator, PokeReturnValue
from airflow_provider_tasks.common.deferral import defer_timeout, followed_from_event, run_trigger_kwargs
from airflow_provider_tasks.common.errors import RunTimeoutError
from airflow_provider_tasks.common.links import RUN_ID_XCOM_KEY, run_url
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.run_operator import default_deferrable
from airflow_provider_tasks.common.snapshot import FollowedT, RunT
from airflow_provider_tasks.common.validation import require_id, require_poll_interval, require_positive_seconds
from airflow_provider_tasks.common.waiting import MIN_POLL_GAP, Deadline, naming_the_timeout

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import BaseTrigger, Context
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger


class FollowSensor(UsesHook[HookT], BaseSensorOperator, Generic[HookT, FollowedT]):
    """Succeeds when the followed object ends successfully (its dict is the XCom); else fails with its status message.

    ``timeout`` (> 0) bounds the wait in every mode (the trigger's deadline when deferred). ``poke_interval`` must be
    at least ``min_poll_interval``; however small, the object is never asked about more than once a second.
    """

    platform: ClassVar[str]
    followed_field: ClassVar[str]
    """The parameter holding the followed object's id (``run_id``, ``task_hash``)."""
    min_poll_interval: ClassVar[float] = 0.0
    """Smallest ``poke_interval`` accepted (a platform whose API sets a minimum raises it)."""
    poll_interval_rule: ClassVar[str] = ""

    def __init__(self, *, deferrable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        require_poll_interval("poke_interval", self.poke_interval, self.min_poll_interval, self.poll_interval_rule)
        require_positive_seconds("timeout", self.timeout)
        self._last_look = -math.inf

    @abstractmethod
    def poll(self) -> FollowedT:
        """One look at the followed object."""

    @abstractmethod
    def wrap(self, raw: dict[str, Any]) -> FollowedT:
        """Rebuild the followed object from a trigger event's dict."""

    @abstractmethod
    def make_trigger(self, deadline: Deadline) -> BaseTrigger:
        """The trigger that follows the object until ``deadline`` (deferrable mode)."""

    def result(self, followed: FollowedT) -> Any:
        """The sensor's return value for a terminal object; raises for an unsuccessful end."""
        snapshot = followed.snapshot()
        if not snapshot.succeeded:
            raise snapshot.failure(self.platform)
        return followed.raw

    def note_followed(self, context: Context) -> None:
        """Called before the wait starts (a run sensor publishes the run for its link)."""

    def execute(self, context: Context) -> Any:
        require_id(self.followed_field, getattr(self, self.followed_field))
        self.note_followed(context)
        try:
            if not self.deferrable:
                return super().execute(context)
            followed = self.poll()
            if followed.snapshot().terminal:
                return self.result(followed)
            deadline = Deadline.after(self.timeout)
            self.defer(
                trigger=self.make_trigger(deadline), method_name="execute_complete", timeout=defer_timeout(deadline)
            )
        finally:
            self.close_hook()

    def poke(self, context: Context) -> PokeReturnValue | bool:
        # Airflow pokes every poke_interval; keep at least a second between two looks anyway.
        time.sleep(max(0.0, self._last_look + MIN_POLL_GAP - time.monotonic()))
        self._last_look = time.monotonic()
        followed = self.poll()
        snapshot = followed.snapshot()
        if not snapshot.terminal:
            self.log.info("%s run %s is %s", self.platform, snapshot.id, snapshot.status)
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.result(followed))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        try:
            return self.result(followed_from_event(event, self.platform, self.wrap))
        except RunTimeoutError as error:
            raise naming_the_timeout(error, self.timeout) from None
        finally:
            self.close_hook()


class RemoteRunSensor(FollowSensor[HookT, RunT], Generic[RunT, HookT]):
    """Waits for an existing remote run: succeeds when it succeeds (the run object is the return value), else fails.

    :param run_id: the run to wait for (templated).
    :param cancel_on_kill: in deferrable mode, abort the run if the task is killed (default False: not our run).
    """

    template_fields = ("run_id",)
    followed_field = "run_id"

    def __init__(self, *, run_id: str, cancel_on_kill: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.cancel_on_kill = cancel_on_kill
        self.followed_run_url: str | None = None  # read by the run link (common/links.py)

    @abstractmethod
    def trigger_class(self) -> type[RemoteRunTrigger[RunT]]:
        """The platform's run trigger (imported lazily)."""

    def note_followed(self, context: Context) -> None:
        if self.operator_extra_links:
            context["ti"].xcom_push(key=RUN_ID_XCOM_KEY, value=self.run_id)  # read by the run link
            self.followed_run_url = run_url(self, self.run_id)

    def poll(self) -> RunT:
        return cast(RunT, self.hook.poll_run(self.run_id))

    def wrap(self, raw: dict[str, Any]) -> RunT:
        return cast(RunT, self.hook.wrap_run(raw))

    def make_trigger(self, deadline: Deadline) -> RemoteRunTrigger[RunT]:
        kwargs = run_trigger_kwargs(
            self.hook, self.run_id, deadline, poll_interval=self.poke_interval, cancel_on_kill=self.cancel_on_kill
        )
        return self.trigger_class()(**kwargs)

    def result(self, followed: RunT) -> Any:
        if self.operator_extra_links:
            self.followed_run_url = run_url(self, followed.snapshot().id, followed)
        return super().result(followed)
