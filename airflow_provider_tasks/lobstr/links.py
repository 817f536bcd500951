"""Extra link from a Lobstr.io task in the Airflow UI to the run in the Lobstr.io dashboard."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.links import RunConsoleLink


class LobstrRunLink(RunConsoleLink):
    """Opens the run in the Lobstr.io dashboard."""

    name = "Lobstr.io run"

    def url_for(self, run_id: str, operator: Any) -> str:
        from airflow_provider_tasks.lobstr.api import run_dashboard_url

        squid = getattr(operator, "squid_id", None)
        return run_dashboard_url(squid if isinstance(squid, str) and "{" not in squid else None, run_id)
