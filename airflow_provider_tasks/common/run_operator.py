"""The operator skeleton every platform's "run something remotely" operator shares.

One try of the task reads top to bottom:

    validate → resolve the run (reconnect to an earlier try's: by task_state_store, else by the
               task instance's start marker from the second try on; else, when asked, reuse the
               target's run that is already going; or start one) → publish its ids
             → wait for it: already terminal? / deferred to the trigger right after the start
               answer (execute_complete picks the journey up again from the event) / in the worker
             → a picked-up run that ended ABORTED (its try was cleared)? start one new run, wait again
             → finish: XCom, the run's cost logged, success (asset outlets get the run in their
               event's extra) or the run's failure

One deadline per try: set once the run is known, carried through a deferral, kept for a
replacement run. A platform supplies its hook and trigger (its ``…Connected`` mixin), how to start
its run and the XCom values of a run; waiting, deadlines, failure messages, on_kill and crash-safe
reconnection are written once, here.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.assets import annotate_outlets, run_extra
from airflow_provider_tasks.common.compat import TASK_STATE_STORE, conf
from airflow_provider_tasks.common.deferral import defer_timeout, followed_from_event, run_trigger_kwargs
from airflow_provider_tasks.common.errors import CostLimitExceeded, ProviderError, RunTimeoutError
from airflow_provider_tasks.common.lineage import Lineage, LineageDataset, ReportsLineage, platform_namespace
from airflow_provider_tasks.common.links import RUN_ID_XCOM_KEY, run_url
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.validation import require_poll_interval, require_positive_seconds
from airflow_provider_tasks.common.waiting import Deadline, RunT, check_cost, naming_the_timeout, over_cost_message

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.common.triggers import RemoteRunTrigger

REUSED_RUN_XCOM_KEY = "reused_run"
"""XCom key: True when the task followed a run that was already going instead of starting one."""

DEFAULT_TIMEOUT = timedelta(days=7)
START_CHECK_SECONDS = 5
"""In a worker (not deferrable): the first status request, a short long-poll, so a run that ends
within seconds finishes the task at once; deferrable tasks skip it and defer right away."""


def default_deferrable() -> bool:
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def as_seconds(name: str, value: timedelta | float | int | None) -> float | None:
    """Accept a timedelta or seconds > 0 (None: no limit); anything else is an error naming the
    parameter. A zero limit would start a (billed) run and leave it running unwatched."""
    if value is None:
        return None
    return require_positive_seconds(name, value)


class RemoteRunOperator(UsesHook[HookT], ReportsLineage, Generic[RunT, HookT]):
    """Starts a run on a remote platform and, unless told not to, waits for it to end.

    Generic over the platform's run type and hook type (``RemoteRunOperator[ApifyRun, ApifyHook]``).

    :param wait_for_termination: wait for the run to end (default); False returns right after
        the start with the run as it was then.
    :param deferrable: wait in the triggerer instead of a worker slot (default: the
        ``[operators] default_deferrable`` setting).
    :param poll_interval: seconds between status requests where the API has no long-poll (at
        least the platform's ``min_poll_interval``). With server long-polling (Apify) every
        request is held for the API's whole window (60 s) and answered the moment the run ends,
        whatever this value; it only spaces requests that come back early. No run is asked
        about more than once a second.
    :param timeout: how long to wait for the run (timedelta or seconds > 0, default 7 days). When
        it passes the task fails and says so; the remote run is left running.
    :param cancel_on_kill: abort the remote run when the task is killed while waiting.
    """

    platform: ClassVar[str]
    platform_key: ClassVar[str]
    """The platform's name in asset-event extras (``apify``, ``lobstr``): stable, lower case."""
    run_id_xcom_key: ClassVar[str] = RUN_ID_XCOM_KEY
    state_store_key: ClassVar[str]
    """Key under which the started run id survives a worker crash (never rename: retries read it)."""
    min_poll_interval: ClassVar[float] = 0.1
    """Smallest ``poll_interval`` accepted (a platform whose API sets a minimum raises it)."""
    poll_interval_rule: ClassVar[str] = ""
    """Why that minimum, for the error message."""
    cost_limit_field: ClassVar[str] = ""
    """The platform's cost-guard parameter (``max_cost_usd`` on Apify, ``max_credits`` on
    Lobstr.io): abort the run and fail once its cost passes it; None: no limit."""
    reuse_field: ClassVar[str] = ""
    """The platform's parameter to follow the target's run already going instead of starting one
    (``reuse_existing_run`` on Apify, ``reuse_active_run`` on Lobstr.io)."""

    @property
    def cost_limit(self) -> float | None:
        """The value of :attr:`cost_limit_field`."""
        limit: float | None = getattr(self, self.cost_limit_field, None) if self.cost_limit_field else None
        return limit

    @property
    def reuse_running(self) -> bool:
        """The value of :attr:`reuse_field`."""
        return bool(getattr(self, self.reuse_field, False)) if self.reuse_field else False

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

    @abstractmethod
    def start_run(self, hook: HookT, context: Context) -> RunT:
        """Start the platform's run (exactly once, whatever the retries)."""

    @abstractmethod
    def trigger_class(self) -> type[RemoteRunTrigger[RunT]]:
        """The platform's trigger (imported lazily: DAG parsing should not pay for it)."""

    def find_active_run(self, hook: HookT, context: Context) -> RunT | None:
        """The target's newest run that is still going (what ``reuse_running`` follows), or None.
        Platforms whose API lists runs by status override it."""
        return None

    def start_or_reuse(self, hook: HookT, context: Context) -> tuple[RunT, bool]:
        """The run to follow and whether it was reused: with :attr:`reuse_running`, the target's
        run already going (:meth:`find_active_run`), else a new one (:meth:`start_run`). A
        platform that learns of an active run from the start call itself overrides this."""
        if self.reuse_running:
            active = self.find_active_run(hook, context)
            if active is not None:
                return active, True
        return self.start_run(hook, context), False

    def xcom_values(self, run: RunT) -> dict[str, Any]:
        """Values pushed under their own XCom keys once the run is known."""
        return {self.run_id_xcom_key: run.snapshot().id}

    def run_facts(self, run: RunT) -> dict[str, Any]:
        """The platform's own keys of the asset-event ``extra`` (see :meth:`asset_extra`)."""
        return {}

    def asset_extra(self, run: RunT) -> dict[str, Any]:
        """The ``extra`` of the event each asset outlet gets when the task succeeds: the run as it
        ended (with ``wait_for_termination=False``, as it was started), see :func:`run_extra`."""
        return run_extra(self.platform_key, run.snapshot(), self.run_facts(run))

    def lineage_outputs(self, run: RunT, base_url: str) -> list[LineageDataset]:
        """What the run wrote, named for OpenLineage (the platform's datasets, see
        ``common/lineage.py``); reported when the task succeeds, with the run as ``externalQuery``."""
        return []

    def run_lineage(self, run: RunT) -> Lineage:
        base_url = self.hook.base_url
        return Lineage(
            outputs=self.lineage_outputs(run, base_url),
            run_id=run.snapshot().id,
            source=platform_namespace(self.platform_key, base_url),
        )

    def find_earlier_run(self, hook: HookT, context: Context, identity: str) -> RunT | None:
        """The unfinished run an earlier try of this task instance started (its start carried
        ``identity``), or None. Platforms that can recognise their runs override it."""
        return None

    # -- the journey -----------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        self.validate()
        try:
            run, reconnected = self._resolve(context)
            if not self.wait_for_termination:
                annotate_outlets(self, context, lambda: self.asset_extra(run))  # the run as started
                return run.raw
            return self._conclude(context, run, Deadline.after(self.timeout), reconnected=reconnected)
        except RunTimeoutError as error:
            self.on_run_failed(self._run_id)
            raise naming_the_timeout(error, self.timeout) from None
        except CostLimitExceeded:
            self.on_run_failed(self._run_id)
            raise
        finally:
            self.close_hook()

    def execute_complete(
        self, context: Context, event: dict[str, Any], reconnected: bool = False, deadline: float | None = None
    ) -> Any:
        """Resume after the trigger fired: everything needed travels in the event and these kwargs
        (``reconnected``: the run was picked up from a previous try; ``deadline``: this try's)."""
        self._note_run(event.get("run_id"))
        try:
            try:
                run: RunT = followed_from_event(event, self.platform, self.hook.wrap_run)
            except CostLimitExceeded as error:  # the trigger aborted the run already
                raise CostLimitExceeded(self._naming_the_limit(str(error))) from None
            self._note_run(run.snapshot().id, run)
            try_deadline = Deadline(deadline) if deadline is not None else Deadline.after(self.timeout)
            return self._conclude(context, run, try_deadline, reconnected=reconnected)
        except RunTimeoutError as error:
            self.on_run_failed(self._run_id)
            raise naming_the_timeout(error, self.timeout) from None
        except CostLimitExceeded:
            self.on_run_failed(self._run_id)
            raise
        finally:
            self.close_hook()

    def _resolve(self, context: Context) -> tuple[RunT, bool]:
        """The run this try follows, and whether it was picked up from a previous try."""
        run = self._reconnect(context)
        reconnected = run is not None
        if run is None:
            run = self._start(context)
        self._adopt(context, run)
        return run, reconnected

    def _conclude(self, context: Context, run: RunT, deadline: Deadline, *, reconnected: bool) -> Any:
        """Wait for ``run`` and finish the task with its outcome.

        Clearing a deferred task aborts its run from the triggerer (the trigger's ``on_kill``), and
        that can land just after a new try picked the run up: a picked-up run that ends ABORTED is
        replaced by one new run, waited for under the same deadline. Any other end (FAILED
        included) is the outcome: the user is never billed a second run for a genuine failure.
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
        """The run once terminal: as it is, deferred to the trigger at once (which raises here and
        resumes in :meth:`execute_complete`), or in this worker after a short server-side check.

        Deferrable tasks hand over right after the start answer: no status request holds the
        worker slot (a run picked up from an earlier try is looked at once first, see below). A run
        that ends within seconds is heard by the trigger, whose event waits until
        :data:`~airflow_provider_tasks.common.waiting.FIRE_GUARD_SECONDS` after the deferral
        (``fire_not_before``), which is what guards Airflow's fast-trigger race.
        """
        run_id = run.snapshot().id
        try:
            check_cost(run.snapshot(), self.cost_limit, self.platform)
            if run.snapshot().terminal:
                return run
            if self.deferrable and not reconnected:
                self._defer(run_id, deadline, reconnected)
            # In the worker, and for a run picked up from an earlier try: that try was cleared or
            # lost, and its trigger may be aborting the run right now; seeing that here (and
            # replacing the run) beats a trigger that would fire within seconds of the deferral,
            # which Airflow's scheduler can mishandle (seen in the integration suite under load).
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
            raise self._stop_over_cost(run_id, error) from None
        return ended

    def _stop_over_cost(self, run_id: str, error: CostLimitExceeded) -> CostLimitExceeded:
        """Abort the run that passed the cost limit (whatever ``cancel_on_kill`` says, a reused
        run too: the limit is the user's word on the bill); the error to fail the task with."""
        try:
            self.hook.abort_run(run_id)
            aborted = True
        except Exception as abort_error:
            self.log.warning("Could not abort %s run %s past its cost limit: %s", self.platform, run_id, abort_error)
            aborted = False
        return CostLimitExceeded(self._naming_the_limit(over_cost_message(error, aborted, error.console_url)))

    def _naming_the_limit(self, message: str) -> str:
        limit = "" if self.cost_limit is None else f"{self.cost_limit:g}"
        return f"{message} (limit set by {self.cost_limit_field}={limit})"

    def _start(self, context: Context) -> RunT:
        """Start a run, or with :attr:`reuse_running` follow the target's run already going.

        A reused run is not written to the task state store: it is not this task's, so a retry
        looks for the target's active run again instead of reconnecting to it by id.
        """
        run, self._reused = self.start_or_reuse(self.hook, context)
        snapshot = run.snapshot()
        if self._reused:
            self.log.info(
                "Reusing %s run %s, already %s, instead of starting another: %s",
                self.platform, snapshot.id, snapshot.status, snapshot.console_url,
            )
            return run
        store = self.task_state_store(context)
        if store is not None:
            store.set(self.state_store_key, snapshot.id)
        self.log.info("Started %s run %s: %s", self.platform, snapshot.id, snapshot.console_url)
        return run

    def _reconnect(self, context: Context) -> RunT | None:
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
            run: RunT = self.hook.poll_run(run_id)
        except ProviderError as error:
            self.log.warning("Could not check run %s from the previous try: %s", run_id, error)
            return None
        snapshot = run.snapshot()
        if not snapshot.resumable:
            self.log.info("Run %s of a previous try is %s; starting a new run", run_id, snapshot.status)
            return None
        self.log.info("Reconnected to run %s started by a previous try (%s)", run_id, snapshot.status)
        return run

    def _find_earlier_run(self, context: Context) -> RunT | None:
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
                snapshot.id,
                snapshot.status,
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

    def _adopt(self, context: Context, run: RunT) -> None:
        """Make ``run`` the followed one: remembered for on_kill and the link, ids published."""
        self._note_run(run.snapshot().id, run)
        self._publish(context, run)
        context["ti"].xcom_push(key=REUSED_RUN_XCOM_KEY, value=self._reused)

    def _note_run(self, run_id: str | None, run: RunT | None = None) -> None:
        """Remember the followed run (for ``on_kill``, the trigger and the run link)."""
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
        self.record_lineage(lambda: self.run_lineage(run))
        annotate_outlets(self, context, lambda: self.asset_extra(run))
        return run.raw

    # -- hook points for the remote run's own log (filled in by common/run_log.py's mixin) -----

    def on_run_failed(self, run_id: str | None) -> None:
        """Called in the worker just before the task fails for the followed run (it ended
        unsuccessfully, passed its cost limit, or the wait timed out)."""

    def following_log(self, run_id: str, deadline: Deadline) -> AbstractContextManager[None]:
        """Wraps the status requests of a wait in the worker (never used by a deferrable task)."""
        return nullcontext()

    def _aborts_on_kill(self) -> bool:
        """``cancel_on_kill``, except for a reused run: somebody else started it, and killing this
        task leaves it to them."""
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
