"""Parameters a download takes from the task upstream of it when the DAG leaves them out: the run
operator's XCom (``default_dataset_id``, ``default_key_value_store_id``, ``run_id``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.compat import BaseOperator
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.validation import require_id

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context


class UpstreamIds(BaseOperator):
    """Mixed into the download operators: an id parameter that defaults to an upstream XCom."""

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
        if key != "run_id" and (run_ids := self.upstream_values(context, "run_id")):
            raise ConfigurationError(f"{name} is not set and the upstream run {run_ids[0]} {missing}")
        raise ConfigurationError(
            f"{name} is not set and no upstream task ({', '.join(upstream)}) pushed XCom {key!r}: "
            f"pass {name}=..., or set a run operator directly upstream of task {self.task_id!r}"
        )

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
