"""The cost guard: a run whose bill passes the limit set on its task is aborted and fails the task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseOperator
from airflow_provider_tasks.common.errors import CostLimitExceeded

if TYPE_CHECKING:
    from airflow_provider_tasks.common.hook import PlatformHook
    from airflow_provider_tasks.common.waiting import Snapshot


def check_cost(snapshot: Snapshot, limit: float | None, platform: str) -> None:
    """Raise :class:`CostLimitExceeded` when a run still going has cost more than ``limit``.

    A run that already ended is past saving money on: its cost is reported when the task finishes.
    """
    if limit is None or snapshot.terminal or snapshot.cost is None or snapshot.cost <= limit:
        return
    raise CostLimitExceeded(
        f"{platform} run {snapshot.id} has cost {snapshot.cost_text} so far, past the limit of "
        f"{limit:g} {snapshot.cost_unit}".rstrip(),
        snapshot.console_url,
    )


def over_cost_message(error: CostLimitExceeded, aborted: bool, console_url: str | None) -> str:
    """The message a task fails with once the run over its cost limit was (or could not be) aborted."""
    outcome = "the run was aborted" if aborted else "aborting the run failed: abort it by hand"
    return f"{error}; {outcome}. See {console_url}"


class CostGuarded(BaseOperator):
    """Mixed into a run operator: the platform's cost-limit parameter, and stopping a run past it."""

    platform: ClassVar[str]
    cost_limit_field: ClassVar[str] = ""
    """The platform's parameter (``max_cost_usd``, ``max_credits``); its value None: no limit."""

    @property
    def cost_limit(self) -> float | None:
        limit: float | None = getattr(self, self.cost_limit_field, None) if self.cost_limit_field else None
        return limit

    def stop_over_cost(self, hook: PlatformHook[Any], run_id: str, error: CostLimitExceeded) -> CostLimitExceeded:
        """Abort the run (a reused one too, whatever ``cancel_on_kill`` says: the limit is the user's
        word on the bill); the error to fail the task with."""
        try:
            hook.abort_run(run_id)
            aborted = True
        except Exception as abort_error:
            self.log.warning("Could not abort %s run %s past its cost limit: %s", self.platform, run_id, abort_error)
            aborted = False
        return CostLimitExceeded(self.naming_the_limit(over_cost_message(error, aborted, error.console_url)))

    def naming_the_limit(self, message: str) -> str:
        limit = "" if self.cost_limit is None else f"{self.cost_limit:g}"
        return f"{message} (limit set by {self.cost_limit_field}={limit})"
