"""Extra links from a task in the Airflow UI to the platform's page of the run it followed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

RUN_ID_XCOM_KEY = "run_id"


class RunConsoleLink(BaseOperatorLink):
    """Links to the console page of the run whose id the task pushed under XCom ``run_id``."""

    name: ClassVar[str]

    def url_for(self, run_id: str) -> str:
        raise NotImplementedError

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        run_id = XCom.get_value(ti_key=ti_key, key=RUN_ID_XCOM_KEY)
        return self.url_for(run_id) if run_id else ""
