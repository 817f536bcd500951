"""A tiny HTTP proxy on 127.0.0.1 for tests: ``CONNECT`` tunnels (what clients do for https:// through
``HTTPS_PROXY``) and absolute-form forwarding (plain http:// through ``HTTP_PROXY``), bytes piped
as they are. ``upstream`` sends every connection to one address, whatever host the client asked
for (a gateway in front of the emulator). It counts the connections it served, per kind."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from contextlib import suppress
from urllib.parse import urlsplit


class TinyProxy:
    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self.upstream = upstream
        self.seen: Counter[str] = Counter()  # "CONNECT host:port" / "GET host:port"
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def count(self, kind: str) -> int:
        return sum(n for key, n in self.seen.items() if key.startswith(kind))

    def __enter__(self) -> TinyProxy:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            ready.set()
            loop.run_forever()
            server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        await asyncio.wait(others, timeout=5) if others else None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                dest = (host.strip("[]"), int(port))
            else:
                parts = urlsplit(target)
                dest = (parts.hostname or "", parts.port or 80)
            self.seen[f"{method} {dest[0]}:{dest[1]}"] += 1
            up_reader, up_writer = await asyncio.open_connection(*(self.upstream or dest))
            self._writers.add(up_writer)
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(head)  # absolute-form request line: HTTP/1.1 servers accept it
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, ValueError, asyncio.IncompleteReadError):
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        with suppress(OSError):
            writer.close()
