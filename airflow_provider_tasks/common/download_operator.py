"""The operator skeleton for "stream a platform's result pages into a file"."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.assets import annotate_outlets
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.lineage import Lineage, LineageDataset, ReportsLineage, storage_dataset
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.validation import require_choice, require_id, require_number_at_least
from airflow_provider_tasks.common.writers import FORMATS

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context


def source_in_words(source: dict[str, Any]) -> str:
    """What a download read, for its log line: ``dataset_id abc`` rather than a dict."""
    return ", ".join(f"{key} {value}" for key, value in source.items())


class ItemsToFileOperator(UsesHook[HookT], ReportsLineage, Generic[HookT]):
    """Writes every item of a platform's paged results to ``output_path``, one page in memory.

    The platform's hook (``self.hook``, one per task, closed when it is done) comes from the
    platform's ``…Connected`` mixin.

    :param output_path: local path, or an Airflow ``ObjectStoragePath`` / URL such as
        ``s3://bucket/key.jsonl`` (through Airflow's object storage). Templated.
    :param format: ``"jsonl"`` (default), ``"json"`` (one array) or ``"csv"`` (nested fields
        flattened as ``a/b`` columns).
    :param page_size: items per request.

    Returns ``{"path", "item_count", "format"}`` plus what :meth:`source` names; asset outlets
    get the same keys, and ``platform``, in their event's ``extra``. With the OpenLineage provider
    installed the task reports the source as its input and the file as its output.
    """

    template_fields: Sequence[str] = ("output_path",)
    max_page_size: int = 10_000
    platform_key: ClassVar[str]
    """The platform's name in asset-event extras (``apify``, ``lobstr``)."""

    def __init__(self, *, output_path: Any, format: str = "jsonl", page_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.format = require_choice("format", format, FORMATS)
        size = self.max_page_size if page_size is None else page_size
        self.page_size = int(require_number_at_least("page_size", size, 1, integer=True))

    @abstractmethod
    def pages(self, context: Context, source: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The item pages to write, from the source that :meth:`source` resolved."""

    def jsonl_chunks(self, context: Context, source: dict[str, Any]) -> Iterator[bytes] | None:
        """Pages already serialised as JSON Lines by the platform, if it can send them (written
        without parsing when ``format="jsonl"``); None when it cannot."""
        return None

    @abstractmethod
    def source(self, context: Context) -> dict[str, Any]:
        """Which dataset, run or squid to read (also returned in the result); validates it."""

    @abstractmethod
    def lineage_inputs(self, source: dict[str, Any], base_url: str) -> list[LineageDataset]:
        """The source, named for OpenLineage (the platform's datasets, see ``common/lineage.py``)."""

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_tasks.common.writers import check_output_path, write_jsonl_chunks, write_pages

        check_output_path(self.output_path)  # before any request: a directory fails at once
        source = self.source(context)
        try:
            chunks = self.jsonl_chunks(context, source) if self.format == "jsonl" else None
            if chunks is not None:
                result = write_jsonl_chunks(chunks, self.output_path)
            else:
                result = write_pages(self.pages(context, source), self.output_path, self.format)
            self.record_lineage(
                lambda: Lineage(
                    inputs=self.lineage_inputs(source, self.hook.base_url),
                    outputs=[storage_dataset(self.output_path, result.item_count)],
                )
            )
        finally:
            self.close_hook()
        self.log.info("Wrote %d items from %s to %s", result.item_count, source_in_words(source), result.path)
        written = {**result.to_dict(), **source}
        annotate_outlets(self, context, lambda: {"platform": self.platform_key, **written})
        return written

    def id_from_upstream(self, context: Context, name: str, key: str, missing: str) -> str:
        """Parameter ``name`` when it was not given: XCom ``key`` of a direct upstream task. Several
        different ones (a mapped run) are an error; so is none, saying why: ``missing`` when an
        upstream run operator ran (its run pushed ``run_id`` but no ``key``), else that no upstream
        task pushed ``key``."""
        values = self.upstream_values(context, key)
        upstream = sorted(self.upstream_task_ids)
        if len(values) > 1:  # taking the first would quietly read one run's output for all
            raise ConfigurationError(
                f"{name} is not set and the upstream tasks ({', '.join(upstream)}) pushed {len(values)} different "
                f"values of XCom {key!r}, as a mapped run does (one per map index): pass {name}=..., e.g. "
                f".expand({name}=<run task>.output.map(...)) for one download per run"
            )
        if values:
            return require_id(name, values[0])
        if not upstream:
            raise ConfigurationError(
                f"{name} is not set and task {self.task_id!r} has no upstream task to take XCom {key!r} from: "
                f"pass {name}=..., or set a run operator upstream of it"
            )
        run_id = self.upstream_xcom(context, "run_id") if key != "run_id" else None
        if run_id:
            raise ConfigurationError(f"{name} is not set and the upstream run {run_id} {missing}")
        raise ConfigurationError(
            f"{name} is not set and no upstream task ({', '.join(upstream)}) pushed XCom {key!r}: "
            f"pass {name}=..., or set a run operator directly upstream of task {self.task_id!r}"
        )

    def upstream_xcom(self, context: Context, key: str) -> Any:
        """The first non-empty value of XCom ``key`` among the direct upstream tasks."""
        values = self.upstream_values(context, key)
        return values[0] if values else None

    def upstream_values(self, context: Context, key: str) -> list[Any]:
        """The different non-empty values of XCom ``key`` that the direct upstream tasks pushed
        (a mapped task pushes one per map index)."""
        upstream = sorted(self.upstream_task_ids)
        if not upstream:
            return []
        values = context["ti"].xcom_pull(task_ids=upstream, key=key)
        # a list on Airflow 3, a lazy sequence on 2.11: anything iterable but a single value
        if not isinstance(values, Iterable) or isinstance(values, (str, bytes, dict)):
            values = [values]
        found: list[Any] = []
        for value in values:
            if value and value not in found:
                found.append(value)
        return found
