"""The emulator's transport switches: HTTPS with a throwaway CA (in-process, fixtures and ``--tls``),
and the ``drip`` and ``oversized`` faults, checked with plain HTTP clients."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from airflow_provider_tasks.testing.faults import FaultRule

ME = "/v2/users/me"


def auth(emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emulator.token}"}


def test_the_tls_fixture_serves_https_trusted_only_through_its_ca(apify_emulator_tls):
    emulator = apify_emulator_tls
    assert emulator.base_url.startswith("https://127.0.0.1:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emulator.base_url + ME, headers=auth(emulator), timeout=10)
    answer = requests.get(emulator.base_url + ME, headers=auth(emulator), timeout=10, verify=emulator.tls_files.ca_path)
    assert answer.ok and answer.json()["data"]["username"]
    localhost = emulator.base_url.replace("127.0.0.1", "localhost")
    assert requests.get(localhost + ME, headers=auth(emulator), timeout=10, verify=emulator.tls_files.ca_path).ok


def test_lobstr_tls_fixture(lobstr_emulator_tls):
    emulator = lobstr_emulator_tls
    answer = requests.get(emulator.base_url + "/v1/me", headers={"Authorization": f"Token {emulator.token}"},
                          timeout=10, verify=emulator.tls_files.ca_path)
    assert emulator.base_url.startswith("https://") and answer.ok


def test_the_cli_tls_flag_names_the_ca_file_in_its_banner():
    command = [
        sys.executable, "-m", "airflow_provider_tasks.testing.apify_emulator", "--port", "0", "--token", "t", "--tls"
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        match = re.search(r"base_url=(https://\S+) tokens=t ca_file=(\S+)$", banner.strip())
        assert match, banner + process.stderr.read()
        base_url, ca_file = match.groups()
        assert os.path.exists(ca_file)
        assert requests.get(base_url + ME, headers={"Authorization": "Bearer t"}, timeout=10, verify=ca_file).ok
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_drip_sends_the_whole_answer_a_byte_at_a_time(apify_emulator):
    plain = requests.get(apify_emulator.base_url + ME, headers=auth(apify_emulator), timeout=10)
    apify_emulator.faults.add("drip", seconds=0.001, path=f"^{ME}$")
    dripped = requests.get(apify_emulator.base_url + ME, headers=auth(apify_emulator), timeout=30, stream=True)
    chunks = list(dripped.raw.stream(1024))
    assert dripped.status_code == 200 and b"".join(chunks) == plain.content
    assert int(dripped.headers["Content-Length"]) == len(plain.content)


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_pads_the_object_to_the_size_asked(apify_emulator, chunked):
    size = 3 * 1024 * 1024
    apify_emulator.faults.add("oversized", size=size, chunked=chunked, path=f"^{ME}$")
    answer = requests.get(apify_emulator.base_url + ME, headers=auth(apify_emulator), timeout=30)
    assert answer.status_code == 200 and len(answer.content) == size
    if chunked:
        assert "Content-Length" not in answer.headers and answer.headers["Transfer-Encoding"] == "chunked"
    else:
        assert int(answer.headers["Content-Length"]) == size
    body = json.loads(answer.content)
    assert body["data"]["username"] and set(body["padding"]) == {"x"}


def test_the_new_rules_are_checked_and_travel_over_the_control_api(apify_emulator):
    with pytest.raises(ValueError, match="'oversized' fault needs 'size'"):
        FaultRule(kind="oversized")
    rule = {"kind": "oversized", "size": 10, "chunked": True, "path": "^/v2/users/me$"}
    armed = requests.post(apify_emulator.base_url + "/_emulator/faults", json=rule, timeout=10).json()["data"]
    assert armed["kind"] == "oversized" and armed["size"] == 10 and armed["chunked"] is True
    armed = requests.post(
        apify_emulator.base_url + "/_emulator/faults", json={"kind": "drip", "seconds": 0.01}, timeout=10
    )
    assert armed.status_code == 201 and armed.json()["data"]["seconds"] == 0.01
