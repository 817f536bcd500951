"""Airflow provider for scraping platforms: run tasks, wait for them cheaply, hand results on.

``get_provider_info`` (the ``apache_airflow_provider`` entry point) imports nothing, so discovery stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_VERIFY_FIELD = {
    "label": "Verify TLS (optional)",
    "description": "Empty or true: verify the API's certificate against the default trust store. A path: "
    "trust the CA bundle there (e.g. a corporate proxy that re-signs TLS). false: do not verify "
    "(a warning is logged on every use). Stored in the connection extra as 'verify'.",
    "schema": {"type": ["string", "null"]},
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-tasks",
        "name": "Scraping tasks (Apify, Lobstr.io)",
        "description": "Run Apify Actor tasks and Lobstr.io squids from DAGs, wait for them "
        "deferrably, and stream their results downstream.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Apify", "external-doc-url": "https://docs.apify.com/api/v2", "tags": ["service"]},
            {"integration-name": "Lobstr.io", "external-doc-url": "https://docs.lobstr.io", "tags": ["service"]},
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
                "conn-fields": {"verify": _VERIFY_FIELD},
            },
            {
                "connection-type": "lobstr",
                "hook-class-name": "airflow_provider_tasks.lobstr.hooks.LobstrHook",
                "hook-name": "Lobstr.io",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port", "extra"],
                    "relabeling": {"password": "API key", "host": "API base URL (optional)"},
                    "placeholders": {"host": "https://api.lobstr.io"},
                },
                "conn-fields": {"verify": _VERIFY_FIELD},
            },
        ],
        "hooks": [
            {"integration-name": "Apify", "python-modules": ["airflow_provider_tasks.apify.hooks"]},
            {"integration-name": "Lobstr.io", "python-modules": ["airflow_provider_tasks.lobstr.hooks"]},
        ],
        "operators": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.operators", "airflow_provider_tasks.apify.records"],
            },
            {"integration-name": "Lobstr.io", "python-modules": ["airflow_provider_tasks.lobstr.operators"]},
        ],
        "sensors": [
            {"integration-name": "Apify", "python-modules": ["airflow_provider_tasks.apify.sensors"]},
            {"integration-name": "Lobstr.io", "python-modules": ["airflow_provider_tasks.lobstr.sensors"]},
        ],
        "triggers": [
            {
                "integration-name": "Apify",
                "python-modules": ["airflow_provider_tasks.apify.triggers", "airflow_provider_tasks.apify.watchers"],
            },
            {
                "integration-name": "Lobstr.io",
                "python-modules": ["airflow_provider_tasks.lobstr.triggers", "airflow_provider_tasks.lobstr.watchers"],
            },
        ],
        "extra-links": [
            "airflow_provider_tasks.apify.links.ApifyRunLink",
            "airflow_provider_tasks.lobstr.links.LobstrRunLink",
        ],
    }
