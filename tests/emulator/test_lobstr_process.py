"""The Lobstr.io emulator as a process (``python -m ...``) and its pytest fixtures."""

from __future__ import annotations

import json
import os
import signal

import pytest
import requests

from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES
from tests.emulator.helpers import emulator_process


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_module_serves_in_the_foreground_and_exits_cleanly(stop_signal):
    with emulator_process("lobstr_emulator", "--token", "alpha", "--token", "beta") as (process, base_url, tokens):
        assert tokens == "alpha,beta" and not base_url.endswith("/v1")
        task = SEED_HASHES["demo-squid"]["tasks"][0]
        answer = requests.get(f"{base_url}/v1/tasks/{task}", headers={"Authorization": "Token beta"}, timeout=10)
        assert answer.json()["hash_value"] == task  # seed hashes are the same in every process
        assert requests.get(f"{base_url}/v1/me", headers={"Authorization": "Token x"}, timeout=10).status_code == 401
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0


def test_conn_env_fixture_points_at_the_emulator(lobstr_conn_env, lobstr_emulator):
    conn = json.loads(os.environ["AIRFLOW_CONN_LOBSTR_DEFAULT"])
    assert conn == {"conn_type": "lobstr", "password": lobstr_emulator.token, "host": lobstr_emulator.base_url}
    assert json.loads(lobstr_conn_env) == conn
    assert not conn["host"].endswith("/v1")  # the provider appends /v1/... itself


def test_fixture_resets_between_tests_part_one(lobstr_emulator):
    lobstr_emulator.add_squid("leftover")
    lobstr_emulator.start_run("demo-squid")
    lobstr_emulator.faults.add("status", status=500, count=None)


def test_fixture_resets_between_tests_part_two(lobstr_emulator):
    assert lobstr_emulator.faults.rules() == []
    assert lobstr_emulator.state.find_squid("leftover") is None
    assert lobstr_emulator.runs() == [] and lobstr_emulator.stats()["total"] == 0
