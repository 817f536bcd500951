"""The operator skeleton every platform's "run something remotely" operator shares.

    validate → start (or reconnect after a worker crash) → already terminal? finish here
             → deferrable? defer to the platform's trigger → execute_complete → finish
             → otherwise wait in the worker with the same polling → finish

A platform subclass supplies the hook, how to start its run, its trigger class and the XCom
values of a finished run; waiting, deadlines, failure messages, on_kill and crash-safe
reconnection are written once, here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import TASK_STATE_STORE, TRIGGER_ON_KILL, BaseOperator, conf
from airflow_provider_tasks.common.errors import ProviderError, RunTimeoutError
from airflow_provider_tasks.common.links import RUN_ID_XCOM_KEY, run_url
from airflow_provider_tasks.common.validation import require_number_at_least
from airflow_provider_tasks.common.waiting import FIRE_GUARD_SECONDS, Deadline

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context

    from airflow_provider_tasks.common.hook import PlatformHook, RemoteRun
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger

DEFAULT_TIMEOUT = timedelta(days=7)
DEFER_TIMEOUT_MARGIN = timedelta(minutes=5)
START_CHECK_SECONDS = 5


def default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def as_seconds(name: str, value: timedelta | float | int | None) -> float | None:
    """Accept a timedelta or seconds; reject negatives with an error naming the parameter."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return float(require_number_at_least(name, value, 0))


class RemoteRunOperator(BaseOperator):
    """Starts a run on a remote platform and, unless told not to, waits for it to end.

    :param wait_for_termination: wait for the run to end (default); False returns right after
        the start with the run as it was then.
    :param deferrable: wait in the triggerer instead of a worker slot (default: the
        ``[operators] default_deferrable`` setting).
    :param poll_interval: seconds per status request; with server long-polling (Apify) this is
        how long the server holds each request, at most 60.
    :param timeout: how long to wait for the run (timedelta or seconds, default 7 days). When it
        passes the task fails and says so; the remote run is left running.
    :param cancel_on_kill: abort the remote run when the task is killed while waiting.
    """

    platform: ClassVar[str]
    run_id_xcom_key: ClassVar[str] = RUN_ID_XCOM_KEY
    state_store_key: ClassVar[str]
    """Key under which the started run id survives a worker crash (never rename: retries read it)."""

    def __init__(
        self,
        *,
        wait_for_termination: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 60,
        timeout: timedelta | float | None = DEFAULT_TIMEOUT,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_for_termination = wait_for_termination
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = float(require_number_at_least("poll_interval", poll_interval, 0.1))
        self.timeout = as_seconds("timeout", timeout)
        self.cancel_on_kill = cancel_on_kill
        self._run_id: str | None = None
        self.followed_run_url: str | None = None  # read by the run link (common/links.py)

    # -- what a platform supplies ----------------------------------------------------------

    def make_hook(self) -> PlatformHook:
        raise NotImplementedError

    def validate(self) -> None:
        """Check the (rendered) parameters before any API call; raise ConfigurationError."""

    def start_run(self, hook: PlatformHook, context: Context) -> RemoteRun:
        raise NotImplementedError

    def trigger_class(self) -> type[RemoteRunTrigger]:
        """The platform's trigger (imported lazily: DAG parsing should not pay for it)."""
        raise NotImplementedError

    def xcom_values(self, run: RemoteRun) -> dict[str, Any]:
        """Values pushed under their own XCom keys once the run is known."""
        return {self.run_id_xcom_key: run.snapshot().run_id}

    def find_earlier_run(self, hook: PlatformHook, context: Context, identity: str) -> RemoteRun | None:
        """The unfinished run an earlier try of this task instance started (its start carried
        ``identity``), or None. Platforms that can recognise their runs override it."""
        return None

    # -- the journey -----------------------------------------------------------------------

    @cached_property
    def hook(self) -> PlatformHook:
        return self.make_hook()

    def execute(self, context: Context) -> Any:
        self.validate()
        run = self._reconnect(context)
        if run is not None:
            return self._follow(context, run, reconnected=True)
        return self._follow(context, self._start(context), reconnected=False)

    def execute_complete(self, context: Context, event: dict[str, Any], reconnected: bool = False) -> Any:
        """Resume after the trigger fired; everything needed travels in the event."""
        self._note_run(event.get("run_id"))
        run = run_from_event(event, self.platform, self.hook.wrap_run)
        self._note_run(run.snapshot().run_id, run)
        return self._finish(context, run, reconnected)

    def _follow(self, context: Context, run: RemoteRun, *, reconnected: bool) -> Any:
        """Wait for ``run`` here, or defer to the trigger, and finish with its outcome."""
        self._note_run(run.snapshot().run_id, run)
        self._publish(context, run)
        if not self.wait_for_termination:
            return run.raw
        deadline = Deadline.after(self.timeout)
        if not run.snapshot().terminal:
            run = self.hook.poll_run(self._run_id, deadline.bound(START_CHECK_SECONDS))
        if run.snapshot().terminal:
            return self._finish(context, run, reconnected)
        if self.deferrable:
            self._defer(deadline, reconnected)
        run = self.hook.wait_for_run(self._run_id, deadline, poll_interval=self.poll_interval)
        return self._finish(context, run, reconnected)

    def _note_run(self, run_id: str | None, run: RemoteRun | None = None) -> None:
        """Remember the followed run (for ``on_kill``, the trigger and the run link)."""
        self._run_id = run_id
        self.followed_run_url = run_url(self, run_id, run)

    def _start(self, context: Context) -> RemoteRun:
        run = self.start_run(self.hook, context)
        store = self.task_state_store(context)
        if store is not None:
            store.set(self.state_store_key, run.snapshot().run_id)
        self.log.info(
            "Started %s run %s: %s", self.platform, run.snapshot().run_id, run.snapshot().console_url
        )
        return run

    def _reconnect(self, context: Context) -> RemoteRun | None:
        """Pick up the run an earlier try started if it is still going (after a worker crash, a
        retry, or a clear that did not abort it), instead of starting a second one.

        First Airflow 3.3's per-task ``task_state_store``; where it is missing or empty, the
        platform's own record of which task instance started a run (:meth:`find_earlier_run`),
        asked only from the second try on.
        A run that already ended, or is being aborted, is not reused: a user who clears a task
        wants a new run (the store outlives success by default), and a failed one is retried
        with a fresh run.
        """
        store = self.task_state_store(context)
        run_id = store.get(self.state_store_key) if store is not None else None
        if not run_id:
            return self._find_earlier_run(context)
        try:
            run = self.hook.poll_run(run_id)
        except ProviderError as error:
            self.log.warning("Could not check run %s from the previous try: %s", run_id, error)
            return None
        snapshot = run.snapshot()
        if not snapshot.resumable:
            self.log.info("Run %s of a previous try is %s; starting a new run", run_id, snapshot.status)
            return None
        self.log.info("Reconnected to run %s started by a previous try (%s)", run_id, snapshot.status)
        return run

    def _find_earlier_run(self, context: Context) -> RemoteRun | None:
        ti = context["ti"]
        if (getattr(ti, "try_number", None) or 1) <= 1:
            return None  # a first try has no earlier run to find
        identity = self.task_instance_identity(context)
        if identity is None:
            return None
        try:
            run = self.find_earlier_run(self.hook, context, identity)
        except ProviderError as error:
            self.log.warning("Could not look for a run started by an earlier try: %s", error)
            return None
        if run is not None:
            snapshot = run.snapshot()
            self.log.info(
                "Reconnected to run %s started by an earlier try of this task instance (%s)",
                snapshot.run_id, snapshot.status,
            )
        return run

    def task_instance_identity(self, context: Context) -> str | None:
        """The marker every try of this task instance puts on the runs it starts."""
        from airflow_provider_tasks.common.starting import task_instance_marker

        return task_instance_marker(context.get("ti"))

    def task_state_store(self, context: Context) -> Any:
        """Airflow 3.3's per-task store that survives a crash, or None where there is none."""
        if not TASK_STATE_STORE:
            return None
        try:
            return context.get("task_state_store")
        except Exception:
            return None

    def _publish(self, context: Context, run: RemoteRun) -> None:
        ti = context["ti"]
        for key, value in self.xcom_values(run).items():
            if value is not None:
                ti.xcom_push(key=key, value=value)

    def _defer(self, deadline: Deadline, reconnected: bool) -> None:
        if self.cancel_on_kill and not TRIGGER_ON_KILL:
            self.log.warning(
                "This Airflow does not call trigger on_kill (Airflow 3.3+ does): marking this task "
                "failed while it is deferred leaves %s run %s running (abort it at %s); clearing it "
                "makes the next try pick the run up where the platform allows",
                self.platform, self._run_id, self.followed_run_url or self.platform,
            )
        kwargs = trigger_kwargs(
            self.hook, self._run_id, deadline, poll_interval=self.poll_interval, cancel_on_kill=self.cancel_on_kill
        )
        self.defer(
            trigger=self.trigger_class()(**kwargs),
            method_name="execute_complete",
            kwargs={"reconnected": True} if reconnected else None,
            timeout=defer_timeout(deadline),
        )

    def _finish(self, context: Context, run: RemoteRun, reconnected: bool = False) -> Any:
        snapshot = run.snapshot()
        if reconnected and not snapshot.succeeded:
            # Clearing a deferred task aborts its run from the triggerer (trigger on_kill), which
            # can happen just after the new try picked the run up: start the run the user asked for.
            self.log.warning(
                "Run %s picked up from a previous try ended %s; starting a new run", snapshot.run_id, snapshot.status
            )
            return self._follow(context, self._start(context), reconnected=False)
        self._publish(context, run)
        if not snapshot.succeeded:
            raise snapshot.failure(self.platform)
        self.log.info("%s run %s succeeded", self.platform, snapshot.run_id)
        return run.raw

    def on_kill(self) -> None:
        """The task was killed while waiting in a worker: abort the remote run (best effort)."""
        if not (self.cancel_on_kill and self._run_id):
            return
        try:
            self.hook.abort_run(self._run_id)
            self.log.info("Aborted %s run %s", self.platform, self._run_id)
        except Exception as error:
            self.log.warning("Could not abort %s run %s: %s", self.platform, self._run_id, error)


def trigger_kwargs(
    hook: PlatformHook, run_id: str | None, deadline: Deadline, *, poll_interval: float, cancel_on_kill: bool
) -> dict[str, Any]:
    """The plain-data kwargs of a :class:`RemoteRunTrigger` that follows ``run_id`` until ``deadline``."""
    return {
        "run_id": run_id,
        "conn_id": hook.conn_id,
        "deadline": deadline.at,
        "poll_interval": poll_interval,
        "cancel_on_kill": cancel_on_kill,
        "retry_policy": hook.retry_policy.to_dict(),
        "fire_not_before": time.time() + FIRE_GUARD_SECONDS,
    }


def defer_timeout(deadline: Deadline) -> timedelta | None:
    """Airflow's own limit on the deferral: a little past our deadline, which the trigger enforces
    with a clear message first."""
    remaining = deadline.remaining()
    return None if remaining is None else timedelta(seconds=remaining) + DEFER_TIMEOUT_MARGIN


def run_from_event(event: dict[str, Any], platform: str, wrap: Callable[[dict[str, Any]], RemoteRun]) -> RemoteRun:
    """The finished run a :class:`RemoteRunTrigger` event carries, or the error it reports."""
    run_id = event.get("run_id")
    status = event.get("status")
    if status == "timeout":
        raise RunTimeoutError(event.get("message") or f"Timed out waiting for {platform} run {run_id}")
    if status not in ("success", "failed") or not event.get("run"):
        raise ProviderError(f"Waiting for {platform} run {run_id} failed: {event.get('message')}")
    return wrap(event["run"])


__all__ = ["RemoteRunOperator", "as_seconds", "default_deferrable"]
