"""Operators that run Apify Actor tasks and Actors, stream a dataset's items to a file, and
download a key-value store record (:class:`ApifyGetRecordOperator`, from ``apify/records.py``).

Parsing a DAG file loads only what defining its tasks needs: the API's request building and
parsing, the HTTP clients and the trigger load when a task runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.apify.links import ApifyRunLink
from airflow_provider_tasks.apify.platform import XCOM_DATASET_ID, XCOM_KEY_VALUE_STORE_ID, ApifyConnected
from airflow_provider_tasks.common.download_operator import ItemsToFileOperator
from airflow_provider_tasks.common.lineage import LineageDataset, platform_dataset
from airflow_provider_tasks.common.run_log import DEFAULT_TAIL_LINES, RemoteRunLog, require_log_tail_lines
from airflow_provider_tasks.common.run_operator import RemoteRunOperator
from airflow_provider_tasks.common.validation import (
    optional_positive_finite,
    require_bool,
    require_finite_json,
    require_id,
    require_json_object,
)

if TYPE_CHECKING:
    from airflow_provider_tasks.apify import api
    from airflow_provider_tasks.apify.api import ApifyRun
    from airflow_provider_tasks.apify.hooks import ApifyHook
    from airflow_provider_tasks.apify.records import ApifyGetRecordOperator  # noqa: F401 - its documented path
    from airflow_provider_tasks.common.compat import Context


def lineage_dataset(base_url: str, dataset_id: str) -> LineageDataset:
    """An Apify dataset for OpenLineage, by id (not name), so the run's output and the download's input meet."""
    return platform_dataset(ApifyConnected.platform_key, base_url, "datasets", dataset_id)


class _ApifyRunOperator(ApifyConnected, RemoteRunLog, RemoteRunOperator["ApifyRun", "ApifyHook"]):
    """What running a task and running an Actor share: run options, XCom, and the run's own log in the
    task log (:class:`RemoteRunLog`)."""

    cost_limit_field = "max_cost_usd"
    reuse_field = "reuse_existing_run"
    operator_extra_links = (ApifyRunLink(),)
    template_fields_renderers = {"run_input": "json", "webhooks": "json"}
    template_fields: Sequence[str]
    target_kind: ClassVar[str]
    """``task`` or ``actor``; the id's parameter is the first template field."""
    _option_fields: Sequence[str] = (
        "run_input",
        "build",
        "memory_mbytes",
        "timeout_secs",
        "max_items",
        "max_total_charge_usd",
        "restart_on_error",
        "webhooks",
    )

    def __init__(
        self,
        *,
        run_input: dict[str, Any] | None = None,
        build: str | None = None,
        memory_mbytes: int | None = None,
        timeout_secs: int | None = None,
        max_items: int | None = None,
        max_total_charge_usd: float | None = None,
        restart_on_error: bool | None = None,
        webhooks: list[dict[str, Any]] | None = None,
        reuse_existing_run: bool = False,
        max_cost_usd: float | None = None,
        log_tail_lines: int = DEFAULT_TAIL_LINES,
        stream_log: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_cost_usd = optional_positive_finite("max_cost_usd", max_cost_usd)
        self.log_tail_lines = require_log_tail_lines(log_tail_lines)
        self.stream_log = require_bool("stream_log", stream_log)
        self.reuse_existing_run = require_bool("reuse_existing_run", reuse_existing_run)
        # NaN/Infinity are not JSON (Airflow could not store the rendered fields): caught at parse time
        require_finite_json("run_input", run_input)
        require_finite_json("webhooks", webhooks)
        self.run_input = run_input
        self.build = build
        self.memory_mbytes = memory_mbytes
        self.timeout_secs = timeout_secs
        self.max_items = max_items
        self.max_total_charge_usd = max_total_charge_usd
        self.restart_on_error = restart_on_error
        self.webhooks = webhooks

    def target(self) -> api.Target:
        """What the run starts from: the Actor task or the Actor."""
        from airflow_provider_tasks.apify import api

        return api.Target(self.target_kind, getattr(self, self.template_fields[0]))

    def run_options(self) -> api.RunOptions:
        from airflow_provider_tasks.apify import api

        return api.RunOptions(
            build=self.build,
            memory_mbytes=_number(self.memory_mbytes),
            timeout_secs=_number(self.timeout_secs),
            max_items=_number(self.max_items),
            max_total_charge_usd=_number(self.max_total_charge_usd),
            restart_on_error=self.restart_on_error,
            webhooks=self.webhooks,
        )

    def validate(self) -> None:
        require_id(self.template_fields[0], self.target().id)
        self.run_options().validate()
        if self.run_input is not None:
            require_json_object("run_input", self.run_input)

    def start_or_reuse(self, hook: ApifyHook, context: Context) -> tuple[ApifyRun, bool]:
        return hook.start_or_reuse_run(
            self.target(),
            self.run_options(),
            self.run_input,
            reuse_active_run=self.reuse_existing_run,
            identity=self.task_instance_identity(context),
        )

    def find_earlier_run(self, hook: ApifyHook, context: Context, identity: str) -> ApifyRun | None:
        return hook.find_unfinished_run(self.target(), identity)

    def run_facts(self, run: ApifyRun) -> dict[str, Any]:
        return {
            XCOM_DATASET_ID: run.default_dataset_id,
            XCOM_KEY_VALUE_STORE_ID: run.default_key_value_store_id,
        }

    def lineage_outputs(self, run: ApifyRun, base_url: str) -> list[LineageDataset]:
        """The run's default dataset (its key-value store is not reported)."""
        return [lineage_dataset(base_url, run.default_dataset_id)] if run.default_dataset_id else []

    def xcom_values(self, run: ApifyRun) -> dict[str, Any]:
        return {
            self.run_id_xcom_key: run.id,
            XCOM_DATASET_ID: run.default_dataset_id,
            XCOM_KEY_VALUE_STORE_ID: run.default_key_value_store_id,
        }

    state_store_key = "apify_run_id"


class ApifyRunTaskOperator(_ApifyRunOperator):
    """Runs a saved Apify Actor task and, by default, waits for the run to finish.

    XCom: ``run_id``, ``default_dataset_id`` and ``default_key_value_store_id`` under those keys,
    and ``reused_run`` (True when an already running run was followed); the return value is the
    run object. A run that ends FAILED, TIMED-OUT or ABORTED fails the
    task with its status message and a link to the run in Apify Console.

    :param actor_task_id: task id or ``username~task-name``.
    :param run_input: JSON object that overrides fields of the task's saved input.
    :param build: Actor build tag or number; memory_mbytes (power of 2, 128–32768),
        timeout_secs, max_items, max_total_charge_usd, restart_on_error, webhooks (list of
        ad-hoc webhook objects): run options; left as None they keep the task's settings.
    :param reuse_existing_run: when the task (or Actor) already has a READY or RUNNING run,
        whoever started it, wait for the newest such run instead of starting another (the log
        and the ``reused_run`` XCom say so; run options and input are then not applied). Killing
        the task does not abort a reused run. Best effort: two tasks that look at the same
        moment may both start a run, as Apify has no "one active run" rule.
    :param max_cost_usd: cost guard, a number > 0 (USD): at each status answer while waiting
        (worker or triggerer) the run's ``usageTotalUsd`` is compared with it; past it the run
        is aborted and the task fails saying what was spent. With it, each status request is held
        at most ``poll_interval`` seconds so the bill is looked at that often. Unlike
        ``max_total_charge_usd`` (pay-per-event Actors only) it covers every run.
    :param log_tail_lines: when the run fails (FAILED, TIMED-OUT, ABORTED, past ``max_cost_usd``)
        or the wait times out, the last this many lines of the run's own Apify log go into the task
        log before the task fails (default 50, up to 10,000; 0: none). Fetched in the worker, after
        a deferral too. Marked as the run's (a header with the run's console link, each line
        prefixed ``[Apify run <id>]``), cut to 1,000 characters a line and 20,000 in all, the
        connection's token replaced with ``***``. A log that cannot be fetched is a warning; the
        task still fails with the run's own error.
    :param stream_log: while the task waits in the worker (``deferrable=False``), copy the run's
        log into the task log as the run writes it (a daemon thread follows Apify's log stream,
        and stops when the run ends or the wait does). No effect when deferrable: a deferred wait
        happens in the triggerer, which has no task log to write to.
    :param apify_conn_id: the ``apify`` connection.

    Waiting (``wait_for_termination``, ``deferrable``, ``poll_interval``, ``timeout``,
    ``cancel_on_kill``) is described on :class:`RemoteRunOperator`.
    """

    template_fields: Sequence[str] = ("actor_task_id", *_ApifyRunOperator._option_fields)
    target_kind = "task"

    def __init__(self, *, actor_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor_task_id = actor_task_id


class ApifyRunActorOperator(_ApifyRunOperator):
    """Runs an Apify Actor directly; ``run_input`` is the Actor's whole input.

    Everything else (options, waiting, XCom, failures) is as for :class:`ApifyRunTaskOperator`.

    :param actor_id: Actor id or ``username~actor-name``.
    """

    template_fields: Sequence[str] = ("actor_id", *_ApifyRunOperator._option_fields)
    target_kind = "actor"

    def __init__(self, *, actor_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor_id = actor_id


PARSED_BATCH = 1_000  # items handed to the json/csv writers at a time


class ApifyDatasetItemsOperator(ApifyConnected, ItemsToFileOperator["ApifyHook"]):
    """Streams an Apify dataset's items to a file: JSON Lines copied unparsed, json/csv parsed line
    by line from the same checked stream.

    :param dataset_id: the dataset; when None, the ``default_dataset_id`` XCom of the upstream
        task (e.g. an :class:`ApifyRunTaskOperator`) is used.
    :param clean: skip empty items and hidden (``#``) fields.
    :param fields: keep only these fields; ``omit``: drop these fields.
    :param apify_conn_id: the ``apify`` connection.

    ``output_path``, ``format`` and ``page_size`` (default 10,000) are described on
    :class:`ItemsToFileOperator`. Returns ``{"path", "item_count", "format", "dataset_id"}``.
    """

    template_fields: Sequence[str] = ("dataset_id", "output_path", "fields", "omit")

    def __init__(
        self,
        *,
        dataset_id: str | None = None,
        clean: bool = False,
        fields: list[str] | None = None,
        omit: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.clean = clean
        self.fields = fields
        self.omit = omit

    def source(self, context: Context) -> dict[str, Any]:
        if self.dataset_id:
            return {"dataset_id": require_id("dataset_id", self.dataset_id)}
        missing = (
            f"reported no default dataset (its XCom {XCOM_DATASET_ID!r} is empty): "
            "pass dataset_id=... to download another dataset"
        )
        return {"dataset_id": self.id_from_upstream(context, "dataset_id", XCOM_DATASET_ID, missing)}

    def lineage_inputs(self, source: dict[str, Any], base_url: str) -> list[LineageDataset]:
        return [lineage_dataset(base_url, source["dataset_id"])]

    def pages(self, context: Context, source: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        from airflow_provider_tasks.common.jsonl import batched

        items = self.hook.iter_dataset_items(source["dataset_id"], **self._item_options())
        return batched(items, PARSED_BATCH)

    def jsonl_chunks(self, context: Context, source: dict[str, Any]) -> Iterator[bytes]:
        return self.hook.iter_dataset_jsonl(source["dataset_id"], **self._item_options())

    def _item_options(self) -> dict[str, Any]:
        return {"page_size": self.page_size, "clean": self.clean, "fields": self.fields, "omit": self.omit}


def _number(value: Any) -> Any:
    """Templated numbers arrive as strings ("1024"); turn those back into numbers."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return value
    return value


def __getattr__(name: str) -> Any:
    """``ApifyGetRecordOperator``, defined in ``apify/records.py``, under its documented path; loaded
    on first use, so a DAG that does not download records does not parse that module."""
    if name == "ApifyGetRecordOperator":
        from airflow_provider_tasks.apify.records import ApifyGetRecordOperator

        return ApifyGetRecordOperator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
