"""Operators that run a Lobstr.io squid and stream its results to a file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.download_operator import ItemsToFileOperator
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.lineage import LineageDataset, platform_dataset
from airflow_provider_tasks.common.run_operator import RemoteRunOperator
from airflow_provider_tasks.common.validation import optional_positive_finite, require_bool, require_id
from airflow_provider_tasks.lobstr import api
from airflow_provider_tasks.lobstr.api import LobstrRun
from airflow_provider_tasks.lobstr.links import LobstrRunLink
from airflow_provider_tasks.lobstr.platform import LobstrConnected

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

XCOM_TOTAL_RESULTS = "total_results"


def lineage_dataset(base_url: str, collection: str, hash_id: str) -> LineageDataset:
    """Lobstr.io results for OpenLineage: ``runs/<run hash>`` or ``squids/<squid hash>``."""
    return platform_dataset(LobstrConnected.platform_key, base_url, collection, hash_id)


class LobstrRunSquidOperator(LobstrConnected, RemoteRunOperator[LobstrRun, "LobstrHook"]):
    """Starts a run of a Lobstr.io squid (over its active tasks) and, by default, waits for it.

    ``done`` succeeds; ``error`` and ``aborted`` fail the task with the run's ``done_reason``
    and a dashboard link; ``paused`` keeps waiting (Lobstr.io resumes such runs itself).
    XCom: ``run_id``, ``total_results`` and ``reused_run``; the return value is the run object.

    :param squid_id: the squid's hash (templated).
    :param reuse_active_run: Lobstr.io allows one active run per squid. False (default) fails
        with a clear error when one is active; True waits for that run instead (the log and the
        ``reused_run`` XCom say so; killing the task does not abort a reused run).
    :param max_credits: cost guard, a number > 0: at each status answer while waiting (worker
        or triggerer) the run's ``credit_used`` is compared with it; past it the run is aborted
        and the task fails saying how many credits were spent.
    :param lobstr_conn_id: the ``lobstr`` connection.

    Waiting (``wait_for_termination``, ``deferrable``, ``poll_interval`` — default 30 s, the API
    has no long-poll and asks for 5 s or more —, ``timeout``, ``cancel_on_kill``) is described
    on :class:`RemoteRunOperator`.
    """

    platform = api.PLATFORM
    cost_limit_field = "max_credits"
    reuse_field = "reuse_active_run"
    operator_extra_links = (LobstrRunLink(),)
    template_fields: Sequence[str] = ("squid_id",)
    state_store_key = "lobstr_run_id"
    min_poll_interval = api.MIN_POLL_INTERVAL
    poll_interval_rule = "Lobstr.io asks clients not to poll more often than every 5 s"

    def __init__(
        self,
        *,
        squid_id: str,
        reuse_active_run: bool = False,
        max_credits: float | None = None,
        poll_interval: float = 30,
        **kwargs: Any,
    ) -> None:
        super().__init__(poll_interval=poll_interval, **kwargs)
        self.max_credits = optional_positive_finite("max_credits", max_credits)
        self.squid_id = squid_id
        self.reuse_active_run = require_bool("reuse_active_run", reuse_active_run)

    def validate(self) -> None:
        require_id("squid_id", self.squid_id)

    def start_or_reuse(self, hook: LobstrHook, context: Context) -> tuple[LobstrRun, bool]:
        return hook.start_or_reuse_run(self.squid_id, reuse_active_run=self.reuse_active_run)

    def run_facts(self, run: LobstrRun) -> dict[str, Any]:
        return {XCOM_TOTAL_RESULTS: run.total_results}

    def lineage_outputs(self, run: LobstrRun, base_url: str) -> list[LineageDataset]:
        """The run's results."""
        return [lineage_dataset(base_url, "runs", run.id)]

    def xcom_values(self, run: LobstrRun) -> dict[str, Any]:
        return {self.run_id_xcom_key: run.id, XCOM_TOTAL_RESULTS: run.total_results}


class LobstrResultsOperator(LobstrConnected, ItemsToFileOperator["LobstrHook"]):
    """Streams the results of a run (or of every run of a squid) to a file, page by page.

    :param run_id: the run hash; when neither ``run_id`` nor ``squid_id`` is given, the
        ``run_id`` XCom of the upstream task (e.g. :class:`LobstrRunSquidOperator`) is used.
    :param squid_id: read the squid's results instead of one run's.
    :param task_hash: only this task's results.
    :param lobstr_conn_id: the ``lobstr`` connection.

    ``output_path``, ``format`` and ``page_size`` (at most 100, Lobstr.io's page limit) are
    described on :class:`ItemsToFileOperator`. Pages are paced to the documented 2 requests per
    second. Returns ``{"path", "item_count", "format", "run_id" or "squid_id"}``.
    """

    template_fields: Sequence[str] = ("run_id", "squid_id", "task_hash", "output_path")
    max_page_size = api.MAX_PAGE_SIZE

    def __init__(
        self,
        *,
        run_id: str | None = None,
        squid_id: str | None = None,
        task_hash: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.page_size > api.MAX_PAGE_SIZE:
            raise ConfigurationError(
                f"page_size must be at most {api.MAX_PAGE_SIZE} for Lobstr.io, got {self.page_size}"
            )
        if run_id and squid_id:
            raise ConfigurationError("give run_id or squid_id, not both")
        self.run_id = run_id
        self.squid_id = squid_id
        self.task_hash = task_hash

    def source(self, context: Context) -> dict[str, Any]:
        if self.squid_id:
            return {"squid_id": require_id("squid_id", self.squid_id)}
        if self.run_id:
            return {"run_id": require_id("run_id", self.run_id)}
        return {"run_id": self.id_from_upstream(context, "run_id", "run_id", missing="")}

    def lineage_inputs(self, source: dict[str, Any], base_url: str) -> list[LineageDataset]:
        if source.get("squid_id"):
            return [lineage_dataset(base_url, "squids", source["squid_id"])]
        return [lineage_dataset(base_url, "runs", source["run_id"])]

    def pages(self, context: Context, source: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        pages = self.hook.iter_result_pages(
            run_id=source.get("run_id"),
            squid_id=source.get("squid_id"),
            task_hash=self.task_hash,
            page_size=self.page_size,
        )
        return (page.items for page in pages)
