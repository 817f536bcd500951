"""Shared helpers of the emulator tests: an authenticated ``requests`` client, a condition wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests


class Api:
    """``requests`` against the emulator with the token; paths start with ``/v2`` or ``/_emulator``."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

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
