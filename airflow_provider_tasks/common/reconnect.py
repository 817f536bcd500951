"""Picking up the run an earlier try of the same task instance started, instead of starting a second.

First Airflow 3.3's per-task ``task_state_store``; where it is missing or empty, from the second
try on, the platform's own record of which task instance started a run (a marker on its start).
A run that already ended, or is being aborted, is not picked up: a user who clears a task wants
a new run, and a failed one is retried with a fresh run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.compat import TASK_STATE_STORE, BaseOperator
from airflow_provider_tasks.common.errors import ProviderError
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.snapshot import RunT
from airflow_provider_tasks.common.starting import task_instance_marker

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context


class Reconnects(UsesHook[HookT], BaseOperator, Generic[RunT, HookT]):
    """Mixed into a run operator: remember the started run, find it again on a later try."""

    state_store_key: ClassVar[str]
    """Key of the started run id in the task state store (never rename: retries read it)."""

    def __init__(self, **kwargs: Any) -> None:
        # An __init__ of its own, as the first base is no operator: otherwise Airflow's operator
        # metaclass copies BaseOperator.__init__ into this mixin, Airflow 3.3's partial() takes that
        # copy's defaults (inlets=None, outlets=None) for the operator's, and mapped tasks fail.
        super().__init__(**kwargs)

    def find_earlier_run(self, hook: HookT, context: Context, identity: str) -> RunT | None:
        """The unfinished run whose start carried ``identity``, or None (platforms that can tell override it)."""
        return None

    def task_instance_identity(self, context: Context) -> str | None:
        """The marker every try of this task instance puts on the runs it starts."""
        return task_instance_marker(context.get("ti"))

    def task_state_store(self, context: Context) -> Any:
        """Airflow 3.3's per-task store that survives a crash, or None where there is none."""
        if not TASK_STATE_STORE:
            return None
        try:
            return context.get("task_state_store")
        except Exception:
            return None

    def remember_run(self, context: Context, run_id: str) -> None:
        store = self.task_state_store(context)
        if store is not None:
            store.set(self.state_store_key, run_id)

    def reconnect(self, context: Context) -> RunT | None:
        """The run an earlier try started if it is still going (after a worker crash, a retry, or
        a clear that did not abort it), else None."""
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
        if (getattr(context["ti"], "try_number", None) or 1) <= 1:
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
