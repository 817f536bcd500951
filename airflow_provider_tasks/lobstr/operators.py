"""Operators that run a Lobstr.io squid and stream its results to a file."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.download_operator import ItemsToFileOperator
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.lineage import LineageDataset, platform_dataset
from airflow_provider_tasks.common.run_operator import RemoteRunOperator
from airflow_provider_tasks.common.validation import (
    has_template,
    optional_positive_finite,
    require_bool,
    require_id,
    require_number_at_least,
)
from airflow_provider_tasks.lobstr import MAX_PAGE_SIZE
from airflow_provider_tasks.lobstr.inputs import fingerprint, normalize_tasks
from airflow_provider_tasks.lobstr.links import LobstrRunLink
from airflow_provider_tasks.lobstr.platform import LobstrConnected
from airflow_provider_tasks.lobstr.task_inputs import UPLOAD_THRESHOLD

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.lobstr.api import LobstrRun
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

XCOM_TOTAL_RESULTS = "total_results"
XCOM_TASK_INPUTS = "task_inputs"
TASKS_STORE_KEY = "lobstr_tasks_put"
"""``task_state_store`` key: the fingerprint of the inputs this task instance has put on its squid
while its run is not over (never rename: a retry reads it)."""


def lineage_dataset(base_url: str, collection: str, hash_id: str) -> LineageDataset:
    """Lobstr.io results for OpenLineage: ``runs/<run hash>`` or ``squids/<squid hash>``."""
    return platform_dataset(LobstrConnected.platform_key, base_url, collection, hash_id)


class LobstrRunSquidOperator(LobstrConnected, RemoteRunOperator["LobstrRun", "LobstrHook"]):
    """Starts a run of a Lobstr.io squid (over its active tasks) and, by default, waits for it.

    ``done`` succeeds; ``error`` and ``aborted`` fail the task with the run's ``done_reason``
    and a dashboard link; ``paused`` keeps waiting (Lobstr.io resumes such runs itself).
    XCom: ``run_id``, ``total_results`` and ``reused_run`` (and ``task_inputs`` with ``tasks``);
    the return value is the run object.

    Exactly once across retries: a retry reconnects to the run an earlier try started (see
    :class:`RemoteRunOperator`) and so puts no inputs; a try that crashed after putting the inputs
    leaves their fingerprint in Airflow 3.3's ``task_state_store`` and the retry does not send them
    again. Without the store (Airflow before 3.3) the retry sends them again and Lobstr.io skips
    them all as duplicates. Once a try ends (success or failure) the record is dropped, so a
    cleared task puts its inputs again.

    :param squid_id: the squid's hash (templated).
    :param tasks: inputs to add to the squid before the run starts (templated: a list, an XComArg
        or a Jinja template rendering to a JSON or Python list). Each is a URL string (sent as
        ``{"url": ...}``) or a dict of the crawler's task params; checked before any API call, an
        error names the offending item (``tasks[2]``). Lobstr.io skips inputs the squid already
        has; the log says ``added N tasks, M duplicates skipped`` and the ``task_inputs`` XCom
        carries the counts. None (default): run the squid's tasks as they are.
    :param replace_tasks: with ``tasks``, delete the squid's other tasks (after adding these) so
        the run covers exactly these inputs. Lobstr.io has no way to deactivate a task; deleting a
        task may delete its earlier results on Lobstr.io's side.
    :param upload_threshold: above this many ``tasks`` (default 500) they are sent as one CSV file
        through ``POST /v1/tasks/upload`` and the upload is followed until it ends; a failed upload,
        or any row Lobstr.io finds invalid, fails the task before the run starts.
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

    cost_limit_field = "max_credits"
    reuse_field = "reuse_active_run"
    operator_extra_links = (LobstrRunLink(),)
    template_fields: Sequence[str] = ("squid_id", "tasks")
    state_store_key = "lobstr_run_id"

    def __init__(
        self,
        *,
        squid_id: str,
        reuse_active_run: bool = False,
        max_credits: float | None = None,
        poll_interval: float = 30,
        tasks: list[str | dict[str, Any]] | str | None = None,
        replace_tasks: bool = False,
        upload_threshold: int = UPLOAD_THRESHOLD,
        **kwargs: Any,
    ) -> None:
        super().__init__(poll_interval=poll_interval, **kwargs)
        self.max_credits = optional_positive_finite("max_credits", max_credits)
        self.squid_id = squid_id
        self.reuse_active_run = require_bool("reuse_active_run", reuse_active_run)
        self.tasks = tasks
        self.replace_tasks = require_bool("replace_tasks", replace_tasks)
        self.upload_threshold = int(require_number_at_least("upload_threshold", upload_threshold, 1, integer=True))
        if replace_tasks and tasks is None:
            raise ConfigurationError("replace_tasks=True needs tasks=[...]: the inputs the run should cover")
        if tasks is not None and not has_template(tasks):
            normalize_tasks(tasks)  # a literal list is checked when the DAG is parsed

    def validate(self) -> None:
        require_id("squid_id", self.squid_id)
        self.task_inputs()

    def task_inputs(self) -> list[dict[str, Any]] | None:
        """The rendered ``tasks`` as params objects (None: leave the squid's tasks as they are)."""
        return None if self.tasks is None else normalize_tasks(self.tasks)

    def start_or_reuse(self, hook: LobstrHook, context: Context) -> tuple[LobstrRun, bool]:
        inputs = self.put_inputs(hook, context)
        run, reused = hook.start_or_reuse_run(self.squid_id, reuse_active_run=self.reuse_running)
        if reused and inputs:
            self.log.warning("Run %s was already going: it may not cover the tasks just added", run.id)
        return run, reused

    def put_inputs(self, hook: LobstrHook, context: Context) -> list[dict[str, Any]] | None:
        """Put ``tasks`` on the squid before a run starts, unless this task instance's earlier try
        did (its fingerprint in the ``task_state_store``); the inputs, or None without ``tasks``."""
        inputs = self.task_inputs()
        if inputs is None:
            return None
        from airflow_provider_tasks.lobstr.task_inputs import put_tasks

        store = self.task_state_store(context)
        mark = fingerprint(self.squid_id, inputs, self.replace_tasks)
        if store is not None and store.get(TASKS_STORE_KEY) == mark:
            self.log.info(
                "The %d tasks were put on Lobstr.io squid %s by an earlier try of this task instance: "
                "not sending them again",
                len(inputs),
                self.squid_id,
            )
            return inputs
        outcome = put_tasks(
            hook, self.squid_id, inputs, replace=self.replace_tasks, upload_threshold=self.upload_threshold
        )
        self.log.info("Lobstr.io squid %s: %s", self.squid_id, outcome.describe())
        context["ti"].xcom_push(key=XCOM_TASK_INPUTS, value=dataclasses.asdict(outcome))
        if store is not None:
            store.set(TASKS_STORE_KEY, mark)
        return inputs

    def on_try_over(self, context: Context) -> None:
        """Drop the record of the inputs this try put, so that only a crash's retry skips them."""
        store = self.task_state_store(context) if self.tasks is not None else None
        if store is None:
            return
        try:
            store.delete(TASKS_STORE_KEY)
        except Exception as error:  # best effort: a stale record only skips an idempotent step
            self.log.warning("Could not drop the record of the tasks put on squid %s: %s", self.squid_id, error)

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
    max_page_size = page_size_limit = MAX_PAGE_SIZE

    def __init__(
        self,
        *,
        run_id: str | None = None,
        squid_id: str | None = None,
        task_hash: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
