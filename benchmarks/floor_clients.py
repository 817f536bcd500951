"""The least a client can spend waiting on N runs with one held request per run: the floors that
``benchmarks/triggerer.py`` measures the provider against (modes ``floor-aiohttp`` and ``floor-raw``).

Both send ``GET /v2/actor-runs/{id}?waitForFinish=60`` (the API's long-poll) until the run is
terminal, on one connection per waiting run, TLS included when the emulator serves HTTPS, and stop
there: no Airflow, no connection lookup, no retries, no logging, no error handling. They exist to
tell which part of the provider's cost is its own and which part any HTTP/1.1 long-poll client pays.

* :class:`AiohttpFloor`: one shared ``aiohttp.ClientSession`` (no limit on connections), the
  library the provider uses, with the provider's lean connector (4 KiB TLS read buffers,
  128 handshakes at a time), so the gap to the provider is the provider's own code.
* :class:`RawFloor`: no HTTP library at all, an ``asyncio.Protocol`` per connection that writes a
  fixed request and counts bytes until the body's ``Content-Length`` is in; same TLS buffer cut and
  handshake pacing. Below this nothing in Python goes, short of fewer connections than waiting runs.

Each has the async-generator ``run()`` of a trigger, yielding one object with a ``payload`` dict,
so the benchmark drives them exactly as it drives the provider's trigger.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from airflow_provider_tasks.common.internals import CONCURRENT_CONNECTS, LeanConnector, shrink_tls_read_buffer

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
WAIT = 60


@dataclass
class Event:
    payload: dict[str, Any]


def _event(run: dict[str, Any]) -> Event:
    return Event({"status": "success" if run["status"] == "SUCCEEDED" else "failed", "run_id": run["id"]})


class _Shared:
    """What every floor client of the process shares: the SSL context and the connect pacing."""

    context: ssl.SSLContext | None = None
    session: aiohttp.ClientSession | None = None
    connects: asyncio.Semaphore | None = None

    @classmethod
    def ssl_context(cls, ca_file: str | None) -> ssl.SSLContext | None:
        if ca_file and cls.context is None:
            cls.context = ssl.create_default_context(cafile=ca_file)
        return cls.context


class AiohttpFloor:
    """A run's long-polls on the process's one shared aiohttp session."""

    def __init__(self, run_id: str, base_url: str, token: str, ca_file: str | None) -> None:
        self.url = f"{base_url.rstrip('/')}/v2/actor-runs/{run_id}"
        self.token, self.ca_file = token, ca_file

    def _session(self) -> aiohttp.ClientSession:
        if _Shared.session is None:
            connector = LeanConnector(limit=0, ssl=_Shared.ssl_context(self.ca_file) or True)
            _Shared.session = aiohttp.ClientSession(
                connector=connector,
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=WAIT + 30),
            )
        return _Shared.session

    async def run(self) -> AsyncIterator[Event]:
        session = self._session()
        while True:
            async with session.get(self.url, params={"waitForFinish": str(WAIT)}) as response:
                run = (await response.json())["data"]
            if run["status"] in TERMINAL:
                yield _event(run)
                return


class _OneResponse(asyncio.Protocol):
    """Collects one HTTP/1.1 response on a kept-alive connection (``Content-Length`` bodies only)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.body_at = -1
        self.length = 0
        self.done: asyncio.Future[bytes] | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.body_at < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_at = end + 4
            for line in bytes(self.buffer[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.length = int(value)
        if len(self.buffer) - self.body_at >= self.length and self.done is not None and not self.done.done():
            self.done.set_result(bytes(self.buffer[self.body_at : self.body_at + self.length]))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed"))

    async def request(self, head: bytes) -> bytes:
        self.buffer.clear()
        self.body_at, self.length = -1, 0
        self.done = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(head)
        return await self.done


class RawFloor:
    """A run's long-polls on a connection of its own, with no HTTP library."""

    def __init__(self, run_id: str, base_url: str, token: str, ca_file: str | None) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80)
        self.context = _Shared.ssl_context(ca_file) if url.scheme == "https" else None
        self.head = (
            f"GET /v2/actor-runs/{run_id}?waitForFinish={WAIT} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()

    async def run(self) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        if _Shared.connects is None:
            _Shared.connects = asyncio.Semaphore(CONCURRENT_CONNECTS)
        async with _Shared.connects:
            transport, protocol = await loop.create_connection(_OneResponse, self.host, self.port, ssl=self.context)
        shrink_tls_read_buffer(transport)
        try:
            while True:
                run = json.loads(await protocol.request(self.head))["data"]
                if run["status"] in TERMINAL:
                    yield _event(run)
                    return
        finally:
            transport.close()


FLOORS = {"floor-aiohttp": AiohttpFloor, "floor-raw": RawFloor}
