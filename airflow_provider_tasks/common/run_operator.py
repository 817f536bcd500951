"""The operator skeleton every platform's "run something remotely" operator shares.

One try of the task:

    validate → resolve the run (reconnect to an earlier try's, else start one or, when asked,
               follow the target's run already going) → publish its ids
             → wait: already terminal? / deferred to the trigger right after the start answer
               (execute_complete picks the journey up from the event) / in the worker
             → a picked-up run that ended ABORTED (its try was cleared)? one new run, wait again
             → finish: XCom, the run's cost logged, success with its outputs, or its failure

One deadline per try, set once the run is known and carried through a deferral. The optional
parts are mixins of their own: reconnection (``reconnect.py``), the cost guard
(``cost_guard.py``), the outputs reported on success (``run_outputs.py``). A platform supplies
its hook and trigger (its ``…Connected`` mixin), how to start or reuse its run, and its XCom.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.compat import TaskDeferred, conf
from airflow_provider_tasks.common.cost_guard import CostGuarded
from airflow_provider_tasks.common.deferral import defer_timeout, followed_from_event, run_trigger_kwargs
from airflow_provider_tasks.common.errors import CostLimitExceeded, RunTimeoutError
from airflow_provider_tasks.common.links import RUN_ID_XCOM_KEY, run_url
from airflow_provider_tasks.common.platform import HookT
from airflow_provider_tasks.common.reconnect import Reconnects
from airflow_provider_tasks.common.run_outputs import ReportsRunOutputs
from airflow_provider_tasks.common.snapshot import RunT, check_cost
from airflow_provider_tasks.common.validation import require_poll_interval, require_positive_seconds
from airflow_provider_tasks.common.waiting import Deadline, naming_the_timeout

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger

REUSED_RUN_XCOM_KEY = "reused_run"
"""XCom key: True when the task followed a run that was already going instead of starting one."""

DEFAULT_TIMEOUT = timedelta(days=7)
START_CHECK_SECONDS = 5
"""In a worker: the first status request is a short long-poll, so a run that ends within seconds
finishes the task at once (deferrable tasks defer right away instead)."""


def default_deferrable() -> bool:
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def as_seconds(name: str, value: timedelta | float | int | None) -> float | None:
    """A timedelta or seconds > 0 (None: no limit); else an error naming the parameter. A zero
    limit would start a (billed) run and leave it running unwatched."""
    return None if value is None else require_positive_seconds(name, value)


class RemoteRunOperator(
    Reconnects[RunT, HookT], CostGuarded[HookT], ReportsRunOutputs[RunT, HookT], Generic[RunT, HookT]
):
    """Starts a run on a remote platform and, unless told not to, waits for it to end.

    Generic over the platform's run type and hook type (``RemoteRunOperator[ApifyRun, ApifyHook]``).

    :param wait_for_termination: wait for the run to end (default); False returns right after
        the start with the run as it was then.
    :param deferrable: wait in the triggerer instead of a worker slot (default: the
        ``[operators] default_deferrable`` setting).
    :param poll_interval: seconds between status requests where the API has no long-poll (at
        least the platform's ``min_poll_interval``). With server long-polling (Apify) each request
        is held for the API's whole window (60 s) and answered the moment the run ends, whatever
        this value. No run is asked about more than once a second.
    :param timeout: how long to wait for the run (timedelta or seconds > 0, default 7 days). When
        it passes the task fails and says so; the remote run is left running.
    :param cancel_on_kill: abort the remote run when the task is killed while waiting.
    """

    platform: ClassVar[str]
    run_id_xcom_key: ClassVar[str] = RUN_ID_XCOM_KEY
    min_poll_interval: ClassVar[float] = 0.1
    """Smallest ``poll_interval`` accepted (a platform whose API sets a minimum raises it)."""
    poll_interval_rule: ClassVar[str] = ""
    """Why that minimum, for the error message."""
    reuse_field: ClassVar[str] = ""
    """The platform's parameter to follow the target's run already going instead of starting one."""

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
        self.poll_interval = require_poll_interval(
            "poll_interval", poll_interval, self.min_poll_interval, self.poll_interval_rule
        )
        self.timeout = as_seconds("timeout", timeout)
        self.cancel_on_kill = cancel_on_kill
        self._run_id: str | None = None
        self._reused = False
        self.followed_run_url: str | None = None  # read by the run link (common/links.py)

    # -- what a platform supplies ----------------------------------------------------------

    def validate(self) -> None:
        """Check the (rendered) parameters before any API call; raise ConfigurationError."""

    @property
    def reuse_running(self) -> bool:
        """The value of :attr:`reuse_field`."""
        return bool(getattr(self, self.reuse_field, False)) if self.reuse_field else False

    @abstractmethod
    def start_or_reuse(self, hook: HookT, context: Context) -> tuple[RunT, bool]:
        """Start the platform's run exactly once, or with :attr:`reuse_running` follow the target's
        run already going; returns the run and whether it was reused."""

    @abstractmethod
    def trigger_class(self) -> type[RemoteRunTrigger[RunT]]:
        """The platform's trigger (imported lazily: DAG parsing should not pay for it)."""

    def xcom_values(self, run: RunT) -> dict[str, Any]:
        """Values pushed under their own XCom keys once the run is known."""
        return {self.run_id_xcom_key: run.snapshot().id}

    # -- the journey -----------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        with self._ending_the_try(context):
            self.validate()
            run = self.reconnect(context)
            reconnected = run is not None
            if run is None:
                run = self._start(context)
            self._adopt(context, run)
            if not self.wait_for_termination:
                self.annotate_outlets(context, run)  # the run as started
                return run.raw
            return self._conclude(context, run, Deadline.after(self.timeout), reconnected=reconnected)

    def execute_complete(
        self, context: Context, event: dict[str, Any], reconnected: bool = False, deadline: float | None = None
    ) -> Any:
        """Resume after the trigger fired (``reconnected``: the run was picked up from a previous
        try; ``deadline``: this try's)."""
        self._note_run(event.get("run_id"))
        with self._ending_the_try(context):
            try:
                run: RunT = followed_from_event(event, self.platform, self.hook.wrap_run)
            except CostLimitExceeded as error:  # the trigger aborted the run already
                raise CostLimitExceeded(self.naming_the_limit(str(error))) from None
            self._note_run(run.snapshot().id, run)
            try_deadline = Deadline(deadline) if deadline is not None else Deadline.after(self.timeout)
            return self._conclude(context, run, try_deadline, reconnected=reconnected)

    @contextmanager
    def _ending_the_try(self, context: Context) -> Iterator[None]:
        """How every try ends: our timeout names its parameter, a timeout or the cost limit shows the
        run's own log (:meth:`on_run_failed`), a try that returned or failed (did not defer) calls
        :meth:`on_try_over`, and the hook's session is closed."""
        try:
            yield
        except TaskDeferred:
            raise
        except Exception as error:  # not a BaseException: a dying process has not ended its try
            self.on_try_over(context)
            if isinstance(error, (RunTimeoutError, CostLimitExceeded)):
                self.on_run_failed(self._run_id)
            if isinstance(error, RunTimeoutError):
                raise naming_the_timeout(error, self.timeout) from None
            raise
        else:
            self.on_try_over(context)
        finally:
            self.close_hook()

    def _conclude(self, context: Context, run: RunT, deadline: Deadline, *, reconnected: bool) -> Any:
        """Wait for ``run`` and finish the task with its outcome.

        Clearing a deferred task aborts its run from the triggerer (the trigger's ``on_kill``), which
        can land just after a new try picked the run up: a picked-up run that ends ABORTED is
        replaced by one new run under the same deadline. Any other end is the outcome: the user is
        never billed a second run for a genuine failure.
        """
        run = self._wait(context, run, deadline, reconnected=reconnected)
        if reconnected and run.snapshot().aborted:
            snapshot = run.snapshot()
            self.log.warning(
                "Run %s picked up from a previous try was %s; starting a new run", snapshot.id, snapshot.status
            )
            run = self._start(context)
            self._adopt(context, run)
            run = self._wait(context, run, deadline, reconnected=False)
        return self._finish(context, run)

    def _wait(self, context: Context, run: RunT, deadline: Deadline, *, reconnected: bool) -> RunT:
        """The run once terminal: as it is, deferred to the trigger (which raises here and resumes
        in :meth:`execute_complete`), or in this worker after a short server-side check.

        A run picked up from an earlier try is looked at once before deferring: that try's trigger
        may be aborting it right now, and seeing that here beats a trigger that fires within seconds
        of the deferral, which Airflow's scheduler can mishandle (see ``FIRE_GUARD_SECONDS``).
        """
        run_id = run.snapshot().id
        try:
            check_cost(run.snapshot(), self.cost_limit, self.platform)
            if run.snapshot().terminal:
                return run
            if self.deferrable and not reconnected:
                self._defer(run_id, deadline, reconnected)
            with nullcontext() if self.deferrable else self.following_log(run_id, deadline):
                run = self.hook.poll_run(run_id, deadline.bound(START_CHECK_SECONDS))
                check_cost(run.snapshot(), self.cost_limit, self.platform)
                if run.snapshot().terminal:
                    return run
                if self.deferrable:
                    self._defer(run_id, deadline, reconnected)
                ended: RunT = self.hook.wait_for_run(
                    run_id, deadline, poll_interval=self.poll_interval, just_looked=True, cost_limit=self.cost_limit
                )
        except CostLimitExceeded as error:
            raise self.stop_over_cost(run_id, error) from None
        return ended

    def _start(self, context: Context) -> RunT:
        """Start (or reuse) a run. A reused run is not remembered for a retry: it is not this
        task's, so a retry looks for the target's active run again."""
        run, self._reused = self.start_or_reuse(self.hook, context)
        snapshot = run.snapshot()
        if self._reused:
            self.log.info(
                "Reusing %s run %s, already %s, instead of starting another: %s",
                self.platform,
                snapshot.id,
                snapshot.status,
                snapshot.console_url,
            )
            return run
        self.remember_run(context, snapshot.id)
        self.log.info("Started %s run %s: %s", self.platform, snapshot.id, snapshot.console_url)
        return run

    def _adopt(self, context: Context, run: RunT) -> None:
        """Make ``run`` the followed one: remembered for on_kill and the link, ids published."""
        self._note_run(run.snapshot().id, run)
        self._publish(context, run)
        context["ti"].xcom_push(key=REUSED_RUN_XCOM_KEY, value=self._reused)

    def _note_run(self, run_id: str | None, run: RunT | None = None) -> None:
        self._run_id = run_id
        self.followed_run_url = run_url(self, run_id, run)

    def _publish(self, context: Context, run: RunT) -> None:
        ti = context["ti"]
        for key, value in self.xcom_values(run).items():
            if value is not None:
                ti.xcom_push(key=key, value=value)

    def _defer(self, run_id: str, deadline: Deadline, reconnected: bool) -> None:
        kwargs = run_trigger_kwargs(
            self.hook,
            run_id,
            deadline,
            poll_interval=self.poll_interval,
            cancel_on_kill=self._aborts_on_kill(),
            cost_limit=self.cost_limit,
        )
        self.defer(
            trigger=self.trigger_class()(**kwargs),
            method_name="execute_complete",
            kwargs={"reconnected": True, "deadline": deadline.at} if reconnected else None,
            timeout=defer_timeout(deadline),
        )

    def _finish(self, context: Context, run: RunT) -> Any:
        snapshot = run.snapshot()
        self._publish(context, run)
        self.log.info("%s run %s ended %s; cost %s", self.platform, snapshot.id, snapshot.status, snapshot.cost_text)
        if not snapshot.succeeded:
            self.on_run_failed(snapshot.id)
            raise snapshot.failure(self.platform)
        self.log.info("%s run %s succeeded", self.platform, snapshot.id)
        self.report_outputs(context, run)
        return run.raw

    def on_try_over(self, context: Context) -> None:
        """Called when a try ends in the worker without deferring (it returned or failed): what
        only a crashed try's retry needs can be dropped."""

    # -- hook points for the remote run's own log (filled in by common/run_log.py's mixin) -----

    def on_run_failed(self, run_id: str | None) -> None:
        """Called in the worker just before the task fails for the followed run (it ended
        unsuccessfully, passed its cost limit, or the wait timed out)."""

    def following_log(self, run_id: str, deadline: Deadline) -> AbstractContextManager[None]:
        """Wraps the status requests of a wait in the worker (never used by a deferrable task)."""
        return nullcontext()

    def _aborts_on_kill(self) -> bool:
        """``cancel_on_kill``, except for a reused run: somebody else started it."""
        return self.cancel_on_kill and not self._reused

    def on_kill(self) -> None:
        """The task was killed while waiting in a worker: abort the remote run (best effort)."""
        if not (self._aborts_on_kill() and self._run_id):
            return
        try:
            self.hook.abort_run(self._run_id)
            self.log.info("Aborted %s run %s", self.platform, self._run_id)
        except Exception as error:
            self.log.warning("Could not abort %s run %s: %s", self.platform, self._run_id, error)


__all__ = ["REUSED_RUN_XCOM_KEY", "RemoteRunOperator", "as_seconds", "default_deferrable"]
