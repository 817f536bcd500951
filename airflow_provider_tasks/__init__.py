"""Airflow provider for scraping platforms: run tasks, wait for them cheaply, hand results on.

``get_provider_info`` is what Airflow discovers through the ``apache_airflow_provider`` entry
point: connection types (with their declarative UI form), hooks, operators, sensors, triggers
and extra links. It imports nothing, so discovery stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-provider-tasks",
        "name": "Scraping tasks (Apify, Lobstr.io)",
        "description": "Run Apify Actor tasks and Actors from DAGs, wait for them deferrably, "
        "and stream their datasets downstream.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Apify",
                "external-doc-url": "https://docs.apify.com/api/v2",
                "tags": ["service"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "apify",
                "hook-class-name": "airflow_provider_tasks.apify.hooks.ApifyHook",
                "hook-name": "Apify",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port", "extra"],
                    "relabeling": {"password": "API token", "host": "API base URL (optional)"},
                    "placeholders": {
                        "password": "apify_api_…",
                        "host": "https://api.apify.com",
                    },
                },
            }
        ],
        "hooks": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.hooks"],
            }
        ],
        "operators": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.operators"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.sensors"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.triggers"],
            }
        ],
        "extra-links": ["airflow_provider_tasks.apify.links.ApifyRunLink"],
    }
