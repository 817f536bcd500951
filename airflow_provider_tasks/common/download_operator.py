"""The operator skeleton for "stream a platform's result pages into a file"."""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.assets import annotate_outlets
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.lineage import Lineage, LineageDataset, ReportsLineage, storage_dataset
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.upstream import UpstreamIds
from airflow_provider_tasks.common.validation import require_choice, require_number_at_least
from airflow_provider_tasks.common.writers import FORMATS

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context


def source_in_words(source: dict[str, Any]) -> str:
    """What a download read, for its log line: ``dataset_id abc`` rather than a dict."""
    return ", ".join(f"{key} {value}" for key, value in source.items())


class ItemsToFileOperator(UsesHook[HookT], ReportsLineage, UpstreamIds, Generic[HookT]):
    """Writes every item of a platform's paged results to ``output_path``, one page in memory.

    :param output_path: local path, or an Airflow ``ObjectStoragePath`` / URL such as ``s3://bucket/key.jsonl``
        (through Airflow's object storage). Templated.
    :param format: ``"jsonl"`` (default), ``"json"`` (one array) or ``"csv"`` (nested fields flattened as ``a/b``).
    :param page_size: items per request (default: the platform's maximum).

    Returns ``{"path", "item_count", "format"}`` plus the source read; asset outlets get the same keys and
    ``platform`` in their event's ``extra``. OpenLineage (when installed) gets the source as input, the file as output.
    """

    template_fields: Sequence[str] = ("output_path",)
    max_page_size: int = 10_000
    page_size_limit: ClassVar[int | None] = None
    """The most items the platform sends per request, when it has a limit."""
    platform_key: ClassVar[str]
    """The platform's name in asset-event extras (``apify``, ``lobstr``)."""

    def __init__(self, *, output_path: Any, format: str = "jsonl", page_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.format = require_choice("format", format, FORMATS)
        size = self.max_page_size if page_size is None else page_size
        self.page_size = int(require_number_at_least("page_size", size, 1, integer=True))
        if self.page_size_limit is not None and self.page_size > self.page_size_limit:
            raise ConfigurationError(
                f"page_size must be at most {self.page_size_limit} (the platform's page limit), got {self.page_size}"
            )

    @abstractmethod
    def pages(self, context: Context, source: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The item pages to write, from the source that :meth:`source` resolved."""

    def jsonl_chunks(self, context: Context, source: dict[str, Any]) -> Iterator[bytes] | None:
        """Pages the platform sends already serialised as JSON Lines (written unparsed for ``jsonl``), or None."""
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
        written = {**dataclasses.asdict(result), **source}
        annotate_outlets(self, context, lambda: {"platform": self.platform_key, **written})
        return written
