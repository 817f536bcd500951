"""What waiting code knows of a run or a Lobstr.io task at one moment (:class:`Snapshot`), so no status list
is repeated per platform class, and the cost check made on each one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from airflow_provider_tasks.common.errors import CostLimitExceeded, RunFailedError


@dataclass(frozen=True)
class Snapshot:
    """What waiting code needs to know, at one moment, about a run or a Lobstr.io task (``id``: its own id)."""

    id: str
    status: str
    terminal: bool
    succeeded: bool
    message: str | None
    console_url: str | None
    winding_down: bool = False
    """Not terminal yet, but on its way to an unsuccessful end (being aborted, timing out)."""
    unknown: bool = False
    """A status this provider does not know: treated as still going (the deadline ends the wait)."""
    progress: str | None = None
    """What the run reports so far (status message, items or results), for progress log lines."""
    aborted: bool = False
    """Terminal because a user, or a cleared task's trigger, aborted it."""
    cost: float | None = None
    """What the run has cost so far, in ``cost_unit`` ("USD", "credits"); None: not reported."""
    cost_unit: str = ""

    @property
    def cost_text(self) -> str:
        """``0.0123 USD``, ``12 credits``, or ``not reported``: for log lines and errors."""
        return "not reported" if self.cost is None else f"{self.cost:g} {self.cost_unit}".rstrip()

    @property
    def resumable(self) -> bool:
        """Whether a new try of the task may pick this run up instead of starting another."""
        return not self.terminal and not self.winding_down

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure(self, platform: str) -> RunFailedError:
        """The error that fails a task for this (terminal, unsuccessful) run."""
        return RunFailedError(
            f"{platform} run {self.id} ended with status {self.status}: "
            f"{self.message or 'no status message'}. See {self.console_url}"
        )


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


class Followed(Protocol):
    """A run or task followed to a terminal state: ``raw`` is the API's dict (what a trigger event
    carries and a task returns), ``snapshot`` what waiting code needs of it."""

    @property
    def raw(self) -> dict[str, Any]: ...

    def snapshot(self) -> Snapshot: ...


FollowedT = TypeVar("FollowedT", bound=Followed)  # whatever one wait follows (a run, a task)
RunT = TypeVar("RunT", bound=Followed)  # a platform's run type (ApifyRun, LobstrRun)
