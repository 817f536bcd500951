"""The emulator as a process (``python -m ...``), the pytest fixtures, and many held long-polls."""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading

import aiohttp
import pytest
import requests

from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator
from tests.emulator.helpers import wait_until


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_module_runs_in_foreground_and_exits_cleanly(stop_signal):
    command = [sys.executable, "-m", "airflow_provider_tasks.testing.apify_emulator", "--port", "0"]
    command += ["--token", "alpha", "--token", "beta"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        match = re.search(r"base_url=(\S+) tokens=(\S+)", banner)
        assert match, banner + process.stderr.read()
        base_url, tokens = match.groups()
        assert tokens == "alpha,beta"
        assert requests.get(f"{base_url}/v2/users/me", headers={"Authorization": "Bearer beta"}, timeout=10).ok
        assert requests.get(
            f"{base_url}/v2/users/me", headers={"Authorization": "Bearer x"}, timeout=10
        ).status_code == 401
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("module", ["apify_emulator", "lobstr_emulator"])
def test_a_busy_port_is_one_line_naming_the_port(apify_emulator, module):
    """The port is taken (here by a running emulator): one line on stderr that names it, exit 2."""
    port = apify_emulator.base_url.rsplit(":", 1)[1]
    command = [sys.executable, "-m", f"airflow_provider_tasks.testing.{module}", "--port", port]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        f"{'Apify' if module == 'apify_emulator' else 'Lobstr.io'} API emulator: port {port} on 127.0.0.1 is "
        "already in use; pass --port N (0 picks a free port)"
    ]


def test_default_ports_are_not_airflows():
    from airflow_provider_tasks.testing.lobstr_emulator import LobstrEmulator

    assert (ApifyEmulator.default_port, LobstrEmulator.default_port) == (8765, 8766)


def test_conn_env_fixture_points_at_the_emulator(apify_conn_env, apify_emulator):
    conn = json.loads(os.environ["AIRFLOW_CONN_APIFY_DEFAULT"])
    assert conn == {"conn_type": "apify", "password": apify_emulator.token, "host": apify_emulator.base_url}
    assert json.loads(apify_conn_env) == conn


def test_fixture_resets_between_tests_part_one(apify_emulator):
    apify_emulator.add_task("leftover")
    apify_emulator.faults.add("status", status=500, count=None)


def test_fixture_resets_between_tests_part_two(apify_emulator):
    assert apify_emulator.faults.rules() == []
    assert apify_emulator.state.find_task("demo~leftover") is None
    assert apify_emulator.stats()["total"] == 0


def test_context_manager_and_stop_with_a_held_long_poll():
    with ApifyEmulator(tokens=("t",)) as emulator:
        headers = {"Authorization": "Bearer t"}
        run = requests.post(f"{emulator.base_url}/v2/actor-tasks/demo~stuck-ready/runs", headers=headers, timeout=10)
        run_id = run.json()["data"]["id"]
        session = requests.Session()
        results: list = []

        def hold():
            url = f"{emulator.base_url}/v2/actor-runs/{run_id}?waitForFinish=60"
            results.append(session.get(url, headers=headers, timeout=30).json()["data"]["status"])

        thread = threading.Thread(target=hold)
        thread.start()
        wait_until(lambda: emulator.stats()["in_flight"] == 1)
    thread.join(timeout=30)  # stopping answered the held request instead of cutting it
    assert results == ["READY"]
    emulator.stop()  # idempotent


def test_two_thousand_concurrent_long_polls(apify_emulator):
    """Held long-polls cost a future each: 2,000 at once, all answered when the clock moves."""
    waiters = 2_000
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2 * waiters + 200:  # client and server sockets
        pytest.skip("open-files limit too low for this many sockets in one process")
    apify_emulator.add_task("long", duration_secs=1_000)
    headers = {"Authorization": f"Bearer {apify_emulator.token}"}
    base = apify_emulator.base_url

    async def scenario() -> list[str]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            async with session.post(f"{base}/v2/actor-tasks/demo~long/runs") as response:
                run_id = (await response.json())["data"]["id"]

            async def poll() -> str:
                async with session.get(f"{base}/v2/actor-runs/{run_id}", params={"waitForFinish": 60}) as response:
                    return (await response.json())["data"]["status"]

            tasks = [asyncio.create_task(poll()) for _ in range(waiters)]
            while apify_emulator.stats()["in_flight"] < waiters:
                await asyncio.sleep(0.01)
            apify_emulator.advance(1_000)
            return await asyncio.gather(*tasks)

    statuses = asyncio.run(scenario())
    assert statuses == ["SUCCEEDED"] * waiters
    assert apify_emulator.stats()["max_in_flight"] == waiters
