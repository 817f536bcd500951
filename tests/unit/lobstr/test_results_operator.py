"""LobstrResultsOperator's parameters are checked when the DAG is parsed."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.lobstr.operators import LobstrResultsOperator


def test_a_page_larger_than_lobstr_sends_is_refused_naming_the_limit():
    limit = r"^page_size must be at most 100 \(the platform's page limit\), got 500$"
    with pytest.raises(ConfigurationError, match=limit):
        LobstrResultsOperator(task_id="rows", output_path="/tmp/rows.jsonl", page_size=500)
    assert LobstrResultsOperator(task_id="rows", output_path="/tmp/rows.jsonl").page_size == 100


def test_run_id_and_squid_id_exclude_each_other():
    with pytest.raises(ConfigurationError, match="give run_id or squid_id, not both"):
        LobstrResultsOperator(task_id="rows", output_path="/tmp/rows.jsonl", run_id="r", squid_id="s")
