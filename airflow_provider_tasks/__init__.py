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


_MODULES = {
    "hooks": {"Apify": ["apify.hooks"], "Lobstr.io": ["lobstr.hooks"]},
    "operators": {"Apify": ["apify.operators", "apify.records"], "Lobstr.io": ["lobstr.operators"]},
    "sensors": {"Apify": ["apify.sensors"], "Lobstr.io": ["lobstr.sensors"]},
    "triggers": {"Apify": ["apify.triggers", "apify.watchers"], "Lobstr.io": ["lobstr.triggers", "lobstr.watchers"]},
}
"""Each kind's modules per integration, as Airflow's provider views list them."""


def _connection_type(conn_type: str, hook_class: str, name: str, secret: str, **placeholders: str) -> dict[str, Any]:
    return {
        "connection-type": conn_type,
        "hook-class-name": f"airflow_provider_tasks.{hook_class}",
        "hook-name": name,
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "login", "port", "extra"],
            "relabeling": {"password": secret, "host": "API base URL (optional)"},
            "placeholders": placeholders,
        },
        "conn-fields": {"verify": _VERIFY_FIELD},
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
            _connection_type(
                "apify", "apify.hooks.ApifyHook", "Apify", "API token", password="apify_api_…", host="https://api.apify.com"
            ),
            _connection_type("lobstr", "lobstr.hooks.LobstrHook", "Lobstr.io", "API key", host="https://api.lobstr.io"),
        ],
        **{
            kind: [
                {"integration-name": name, "python-modules": [f"airflow_provider_tasks.{m}" for m in modules]}
                for name, modules in by_integration.items()
            ]
            for kind, by_integration in _MODULES.items()
        },
        "extra-links": [
            "airflow_provider_tasks.apify.links.ApifyRunLink",
            "airflow_provider_tasks.lobstr.links.LobstrRunLink",
        ],
    }
