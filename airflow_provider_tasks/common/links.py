"""Extra links from a task in the Airflow UI to the platform's page of the run it followed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseOperatorLink

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import BaseOperator, TaskInstanceKey
    from airflow_provider_tasks.common.snapshot import Followed

RUN_ID_XCOM_KEY = "run_id"

FOLLOWED_RUN_URL = "followed_run_url"
"""Live operator attribute with the followed run's page (None: no run yet), made as the log line's, so both agree.
Airflow 3 renders links on the live operator: a task failing before any run gets an empty link without an XCom
look-up (which would log "XCom not found")."""


class RunConsoleLink(BaseOperatorLink):
    """Links to the console page of the run the task followed."""

    name: ClassVar[str]

    def url_for(self, run_id: str, operator: Any) -> str:
        """The run's page when only its id is known (a serialized operator, no live run object)."""
        raise NotImplementedError

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        if hasattr(operator, FOLLOWED_RUN_URL):
            return getattr(operator, FOLLOWED_RUN_URL) or ""
        from airflow_provider_tasks.common.compat import xcom_class

        run_id = xcom_class().get_value(ti_key=ti_key, key=RUN_ID_XCOM_KEY)
        return self.url_for(run_id, operator) if run_id else ""


def run_url(operator: Any, run_id: str | None, run: Followed | None = None) -> str | None:
    """The followed run's page: from the run object when at hand, else from the operator's run link and the id."""
    if run is not None:
        return run.snapshot().console_url
    if not run_id:
        return None
    for link in getattr(operator, "operator_extra_links", ()):
        if isinstance(link, RunConsoleLink):
            return link.url_for(run_id, operator)
    return None
