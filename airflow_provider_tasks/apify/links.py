"""Extra link from an Apify task in the Airflow UI to the run's page in Apify Console."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.links import RunConsoleLink


class ApifyRunLink(RunConsoleLink):
    """Opens the run in Apify Console."""

    name = "Apify run"

    def url_for(self, run_id: str, operator: Any) -> str:
        from airflow_provider_tasks.apify.api import run_console_url

        return run_console_url(run_id)
