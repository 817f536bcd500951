"""What a run operator reports of a run it followed: the asset-event extra and OpenLineage outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic

from airflow_provider_tasks.common.assets import annotate_outlets, run_extra
from airflow_provider_tasks.common.compat import BaseOperator
from airflow_provider_tasks.common.lineage import Lineage, LineageDataset, ReportsLineage, platform_namespace
from airflow_provider_tasks.common.platform import HookT, UsesHook
from airflow_provider_tasks.common.snapshot import RunT

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context


class ReportsRunOutputs(UsesHook[HookT], ReportsLineage, BaseOperator, Generic[RunT, HookT]):
    """Mixed into a run operator; a platform names its run's facts and outputs.

    ``BaseOperator`` is named before ``Generic`` as in ``Reconnects``: on Airflow 2.11, whose
    BaseOperator is not generic, the run operator's bases could not be ordered otherwise."""

    platform_key: ClassVar[str]
    """The platform's name in asset-event extras (``apify``, ``lobstr``): stable, lower case."""

    def __init__(self, **kwargs: Any) -> None:
        # An __init__ of its own, as the first base is no operator: otherwise Airflow's operator
        # metaclass copies BaseOperator.__init__ into this mixin, Airflow 3.3's partial() takes that
        # copy's defaults (inlets=None, outlets=None) for the operator's, and mapped tasks fail.
        super().__init__(**kwargs)

    def run_facts(self, run: RunT) -> dict[str, Any]:
        """The platform's own keys of the asset-event ``extra``."""
        return {}

    def lineage_outputs(self, run: RunT, base_url: str) -> list[LineageDataset]:
        """What the run wrote, named for OpenLineage (see ``common/lineage.py``)."""
        return []

    def asset_extra(self, run: RunT) -> dict[str, Any]:
        """The ``extra`` of each asset outlet's event: the run as it ended (or as it was started,
        with ``wait_for_termination=False``), see :func:`run_extra`."""
        return run_extra(self.platform_key, run.snapshot(), self.run_facts(run))

    def annotate_outlets(self, context: Context, run: RunT) -> None:
        annotate_outlets(self, context, lambda: self.asset_extra(run))

    def report_outputs(self, context: Context, run: RunT) -> None:
        """On success: the run's outputs for OpenLineage, and the outlets' event extra."""
        self.record_lineage(lambda: self.run_lineage(run))
        self.annotate_outlets(context, run)

    def run_lineage(self, run: RunT) -> Lineage:
        """The run's outputs, with the run itself as the ``externalQuery``."""
        base_url = self.hook.base_url
        return Lineage(
            outputs=self.lineage_outputs(run, base_url),
            run_id=run.snapshot().id,
            source=platform_namespace(self.platform_key, base_url),
        )
