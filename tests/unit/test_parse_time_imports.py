"""What parsing a DAG file loads: the operator modules define their tasks without the platform's API
module, the HTTP layer or the trigger (each loads when a task runs), and the record operator loads
only when a DAG names it. (Whether Airflow itself loads requests or aiohttp differs by line.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

RUN_TIME_ONLY = [
    "airflow_provider_tasks.apify.api",
    "airflow_provider_tasks.apify.hooks",
    "airflow_provider_tasks.apify.records",
    "airflow_provider_tasks.apify.triggers",
    "airflow_provider_tasks.lobstr.api",
    "airflow_provider_tasks.lobstr.hooks",
    "airflow_provider_tasks.lobstr.triggers",
    "airflow_provider_tasks.common.http",  # the one module that imports the HTTP clients
]


def loaded_after(code: str) -> set[str]:
    """The modules of RUN_TIME_ONLY that a fresh interpreter has loaded after running ``code``."""
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {RUN_TIME_ONLY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_tasks.apify.operators",
        "airflow_provider_tasks.apify.sensors",
        "airflow_provider_tasks.lobstr.operators",
        "airflow_provider_tasks.lobstr.sensors",
    ],
)
def test_defining_tasks_loads_no_api_module_http_client_or_trigger(module):
    assert loaded_after(f"import {module}") == set()


def test_the_record_operator_loads_from_its_documented_path_when_named():
    loaded = loaded_after("from airflow_provider_tasks.apify.operators import ApifyGetRecordOperator")
    assert "airflow_provider_tasks.apify.records" in loaded
