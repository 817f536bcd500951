"""OpenLineage: what a task read and wrote, named by the OpenLineage naming spec (a contract: docs/lineage.md).

Operators record a :class:`Lineage` of plain names while they run; only the OpenLineage provider's hook,
:meth:`ReportsLineage.get_openlineage_facets_on_complete`, imports OpenLineage, so without that provider nothing
changes and DAG parsing pays nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_tasks.common.compat import BaseOperator

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

DEFAULT_PORTS = {"https": 443, "http": 80}
SCHEME_ALIASES = {"gcs": "gs", "s3a": "s3", "s3n": "s3"}
"""fsspec protocol names whose OpenLineage scheme is another (the spec names GCS ``gs``, S3 ``s3``)."""


@dataclass(frozen=True)
class LineageDataset:
    """One dataset as OpenLineage names it; ``row_count`` (items written) where it is known."""

    namespace: str
    name: str
    row_count: int | None = None


@dataclass(frozen=True)
class Lineage:
    """What one task read and wrote, and the remote run that did it (``run_id`` on ``source``)."""

    inputs: Sequence[LineageDataset] = ()
    outputs: Sequence[LineageDataset] = ()
    run_id: str | None = None
    source: str | None = None


def platform_namespace(platform_key: str, base_url: str) -> str:
    """``<platform>://<host[:port]>`` of the API base URL (default port dropped, user info and path ignored)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if (port := parts.port) is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return f"{platform_key}://{host}"


def platform_dataset(platform_key: str, base_url: str, collection: str, item_id: str) -> LineageDataset:
    """A platform's dataset, run results, …: ``<platform>://<host>`` + ``<collection>/<id>``."""
    return LineageDataset(platform_namespace(platform_key, base_url), f"{collection}/{item_id}")


def storage_dataset(path: Any, row_count: int | None = None) -> LineageDataset:
    """``path`` (str, os.PathLike, ``ObjectStoragePath``) as OpenLineage names it: ``file`` + the absolute path, or
    ``scheme://bucket`` + the key (a connection id in the URL, ``s3://conn@bucket/key``, is left out)."""
    text = str(path)  # as the writers read it: a URL of an ObjectStoragePath (a UPath on 2.11) too
    if "://" not in text:
        local = os.fspath(path) if isinstance(path, os.PathLike) else text
        return LineageDataset("file", os.path.abspath(local), row_count)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        host = parts.hostname or ""
        return LineageDataset(f"file://{host}" if host else "file", parts.path, row_count)
    scheme = SCHEME_ALIASES.get(scheme, scheme)
    authority = parts.netloc.rsplit("@", 1)[-1]
    return LineageDataset(f"{scheme}://{authority}", parts.path.lstrip("/"), row_count)


def to_operator_lineage(lineage: Lineage) -> OperatorLineage[Any, Any]:
    """The ``OperatorLineage`` of ``lineage`` (imports OpenLineage: call it only from the provider's hooks)."""
    from airflow.providers.common.compat.openlineage.facet import (
        Dataset,
        ExternalQueryRunFacet,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    def output(item: LineageDataset) -> OutputDataset:
        statistics: dict[str, Any] = {}
        if item.row_count is not None:
            statistics["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=item.row_count)
        return OutputDataset(namespace=item.namespace, name=item.name, outputFacets=statistics)

    run_facets: dict[str, Any] = {}
    if lineage.run_id and lineage.source:
        run_facets["externalQuery"] = ExternalQueryRunFacet(externalQueryId=lineage.run_id, source=lineage.source)
    return OperatorLineage(
        inputs=[Dataset(namespace=item.namespace, name=item.name) for item in lineage.inputs],
        outputs=[output(item) for item in lineage.outputs],
        run_facets=run_facets,
    )


class ReportsLineage(BaseOperator):
    """Base of the run and download operators: hands what they recorded to the OpenLineage provider on success
    (a failed task's outputs are not complete). Recording is best effort: it never fails the task."""

    _lineage: Lineage | None = None

    def record_lineage(self, describe: Callable[[], Lineage]) -> None:
        """Keep ``describe()`` for :meth:`get_openlineage_facets_on_complete`."""
        try:
            self._lineage = describe()
        except Exception as error:
            self.log.warning("Could not name this task's lineage (OpenLineage): %s", error)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """Called by the OpenLineage provider once the task succeeded (the documented operator hook)."""
        return None if self._lineage is None else to_operator_lineage(self._lineage)


__all__ = [
    "Lineage",
    "LineageDataset",
    "ReportsLineage",
    "platform_dataset",
    "platform_namespace",
    "storage_dataset",
    "to_operator_lineage",
]
