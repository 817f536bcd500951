"""The cost guard: a run whose bill passes the limit set on its task is aborted and fails the task."""

from __future__ import annotations

from typing import Any, ClassVar, Generic

from airflow_provider_tasks.common.compat import BaseOperator
from airflow_provider_tasks.common.errors import CostLimitExceeded
from airflow_provider_tasks.common.platform import HookT, UsesHook


def over_cost_message(error: CostLimitExceeded, aborted: bool, console_url: str | None) -> str:
    """The message a task fails with once the run over its cost limit was (or could not be) aborted."""
    outcome = "the run was aborted" if aborted else "aborting the run failed: abort it by hand"
    return f"{error}; {outcome}. See {console_url}"


class CostGuarded(UsesHook[HookT], BaseOperator, Generic[HookT]):
    """Mixed into a run operator: the platform's cost-limit parameter, and stopping a run past it."""

    platform: ClassVar[str]
    cost_limit_field: ClassVar[str] = ""
    """The platform's parameter (``max_cost_usd``, ``max_credits``); its value None: no limit."""

    def __init__(self, **kwargs: Any) -> None:  # why a mixin needs its own: see Reconnects.__init__
        super().__init__(**kwargs)

    @property
    def cost_limit(self) -> float | None:
        limit: float | None = getattr(self, self.cost_limit_field, None) if self.cost_limit_field else None
        return limit

    def stop_over_cost(self, run_id: str, error: CostLimitExceeded) -> CostLimitExceeded:
        """Abort the run (a reused one too, whatever ``cancel_on_kill`` says: the limit is the user's
        word on the bill); the error to fail the task with."""
        try:
            self.hook.abort_run(run_id)
            aborted = True
        except Exception as abort_error:
            self.log.warning("Could not abort %s run %s past its cost limit: %s", self.platform, run_id, abort_error)
            aborted = False
        return CostLimitExceeded(self.naming_the_limit(over_cost_message(error, aborted, error.console_url)))

    def naming_the_limit(self, message: str) -> str:
        limit = "" if self.cost_limit is None else f"{self.cost_limit:g}"
        return f"{message} (limit set by {self.cost_limit_field}={limit})"
