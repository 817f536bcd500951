"""Shared helpers of the emulator tests: an authenticated ``requests`` client, a condition wait,
an emulator running as a ``python -m`` process."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests


class Api:
    """``requests`` against the emulator with the token; paths start with ``/v2``, ``/v1`` or
    ``/_emulator``. ``scheme`` is the ``Authorization`` keyword (Apify ``Bearer``, Lobstr ``Token``).
    A context manager closing its session."""

    def __init__(self, base_url: str, token: str | None, scheme: str = "Bearer") -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"{scheme} {token}"

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.close()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 90)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def start_task(self, task: str, **params: Any) -> dict[str, Any]:
        response = self.post(f"/v2/actor-tasks/{task}/runs", params=params)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def run(self, run_id: str, **params: Any) -> dict[str, Any]:
        response = self.get(f"/v2/actor-runs/{run_id}", params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Block until ``condition()`` holds (checked every few ms); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


@contextmanager
def emulator_process(module: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """``python -m airflow_provider_tasks.testing.<module> --port 0 *args``: yields the process, the
    base URL and the tokens of its banner line; kills it if the test left it running."""
    command = [sys.executable, "-m", f"airflow_provider_tasks.testing.{module}", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        banner = process.stdout.readline()
        match = re.search(r"base_url=(\S+) tokens=(\S+)", banner)
        assert match, banner + process.stderr.read()
        yield process, match.group(1), match.group(2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
