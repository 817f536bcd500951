"""A dbt-Cloud-shaped polling trigger, importable by a real triggerer (``benchmarks/real_triggerer.py``).

The polling shape of the dbt Cloud provider's ``DbtCloudRunJobTrigger``, written from its
description (not copied): the connection is looked up once per trigger, then every poll opens a
new HTTP client (``aiohttp.ClientSession``, what dbt Cloud's hook opens per call, or
``httpx.AsyncClient``), sends a plain ``GET /v2/actor-runs/{id}`` and sleeps a fixed interval.
``benchmarks/triggerer.py`` has the same class inline for its bare event loop.

A triggerer imports it as ``polling_trigger.FixedIntervalPollTrigger``: put this directory on the
triggerer's ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import ssl
from functools import cache
from typing import Any

from airflow.sdk import BaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})


@cache
def _ssl_context(ca_file: str) -> ssl.SSLContext:
    """One context per CA for the whole process, as aiohttp caches its default one."""
    return ssl.create_default_context(cafile=ca_file)


class FixedIntervalPollTrigger(BaseTrigger):
    """Polls a run every ``poll_interval`` seconds with a new HTTP client per poll."""

    def __init__(
        self, run_id: str, conn_id: str, poll_interval: float, client: str = "aiohttp", ca_file: str | None = None
    ) -> None:
        super().__init__()
        self.run_id, self.conn_id, self.poll_interval = run_id, conn_id, poll_interval
        self.client, self.ca_file = client, ca_file

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return "polling_trigger.FixedIntervalPollTrigger", {
            "run_id": self.run_id,
            "conn_id": self.conn_id,
            "poll_interval": self.poll_interval,
            "client": self.client,
            "ca_file": self.ca_file,
        }

    async def run(self):  # type: ignore[override]
        try:
            conn = await BaseHook.aget_connection(self.conn_id)  # once per trigger, as dbt's hook caches it
            url = f"{conn.host.rstrip('/')}/v2/actor-runs/{self.run_id}"
            headers = {"Authorization": f"Bearer {conn.password}", "Accept": "application/json"}
            while True:
                run = (await self._poll(url, headers))["data"]
                if run["status"] in TERMINAL:
                    status = "success" if run["status"] == "SUCCEEDED" else "failed"
                    yield TriggerEvent({"status": status, "run_id": self.run_id, "run": run})
                    return
                await asyncio.sleep(self.poll_interval)
        except Exception as error:  # dbt Cloud's trigger turns any error into an error event
            yield TriggerEvent({"status": "error", "run_id": self.run_id, "message": str(error)})

    async def _poll(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        if self.client == "httpx":
            import httpx

            verify: Any = self.ca_file or True
            async with httpx.AsyncClient(headers=headers, timeout=60, verify=verify) as client:
                response = await client.get(url)
                response.raise_for_status()
                return response.json()
        import aiohttp

        connector = aiohttp.TCPConnector(ssl=_ssl_context(self.ca_file) if self.ca_file else True)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout, connector=connector) as session:
            async with session.get(url) as response:
                response.raise_for_status()
                return await response.json()
