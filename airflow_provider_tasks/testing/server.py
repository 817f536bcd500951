"""Platform-agnostic core of the local API emulators (Apify, Lobstr.io).

Tests, example DAGs and benchmarks talk to a fake of the remote API over real HTTP on 127.0.0.1,
so the provider's real HTTP stack (sessions, retries, timeouts, long-polls) is what gets tested.
This module holds everything a platform emulator needs that is not about the platform:

* an ``aiohttp.web`` server that runs in a background thread (``start``/``stop``, context manager)
  or in the foreground (``serve_forever``), with asyncio only -- no thread per request -- so ten
  thousand held long-polls cost sockets, not threads;
* a :class:`~.clock.Clock` (wall time for timestamps, monotonic time for state progression) that
  tests move forward with :meth:`EmulatorServer.advance` instead of sleeping;
* token auth with a platform hook that says where the credential travels;
* fault switches (:mod:`.faults`) and request accounting;
* a cheap wake-up primitive (:meth:`EmulatorServer.wait_for_change` / :meth:`notify`) for
  long-poll handlers: one future and one timer per waiting request;
* control endpoints under ``/_emulator/`` (no auth, :mod:`.control`) so a test in another process
  can drive it;
* the ``python -m`` entry point (:meth:`EmulatorServer.main`).

A platform subclasses :class:`EmulatorServer`, overrides ``setup_routes``, ``read_credential``,
``error_types`` / ``error_messages`` / ``error_body`` (and ``fault_message``) and ``reset_state``,
and keeps its state behind ``self.lock``. Handlers raise :class:`EmulatorError` for API errors.
Runs that progress on the clock are :class:`~.lifecycle.Timeline` s; ids come from :mod:`.ids`.

Faults apply before auth (like a gateway in front of the API), then auth, then the handler.
Control requests bypass faults, auth and stats.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import math
import signal
import socket
import struct
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextlib import suppress
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.clock import Clock
from airflow_provider_tasks.testing.control import ControlRoutes
from airflow_provider_tasks.testing.faults import FaultRule, Faults, Stats
from airflow_provider_tasks.testing.shaping import shaped
from airflow_provider_tasks.testing.tls import TlsFiles, make_tls_files

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"
_JSON = "application/json"


class EmulatorError(Exception):
    """Raised by handlers to answer ``status`` with the platform's error body.

    ``param`` names the offending parameter, for platforms whose error bodies carry it.
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        param: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = headers or {}
        self.param = param


class EmulatorServer(ControlRoutes):
    """Base class of a platform emulator; see the module docstring."""

    #: Short name used in log lines and the startup banner.
    platform_name = "API"
    default_port = 8765
    """Port of the command-line emulator; not 8080, which Airflow's API server takes."""
    #: The platform's error ``type`` for each condition the core itself answers.
    error_types: dict[str, str] = {
        "missing_credential": "unauthorized",
        "invalid_credential": "unauthorized",
        "rate_limited": "rate-limited",
        "server_error": "server-error",
        "route_not_found": "not-found",
        "method_not_allowed": "method-not-allowed",
        "invalid_input": "invalid-input",
    }
    #: The messages that go with the conditions above (a platform may reword them).
    error_messages: dict[str, str] = {
        "missing_credential": "Authentication credential was not provided",
        "invalid_credential": "Authentication credential is not valid",
    }

    def __init__(self, tokens: tuple[str, ...] | list[str] = ("test-token",)) -> None:
        if not tokens:
            raise ValueError("an emulator needs at least one valid token")
        self._initial_tokens = tuple(tokens)
        self._tokens = set(tokens)
        self.clock = Clock()
        self.faults = Faults()
        self._stats = Stats()
        #: Guards platform state; held only for short, non-awaiting sections.
        self.lock = threading.RLock()
        self._waiters: dict[Hashable, set[asyncio.Future[bool]]] = {}
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stop_event: asyncio.Event | None = None
        self.base_url: str | None = None
        #: Certificate files when serving HTTPS (``start(tls=True)``); ``tls_files.ca_path`` is the CA to trust.
        self.tls_files: TlsFiles | None = None
        self.app = self._build_app()

    # ----------------------------------------------------------------- platform hooks
    def setup_routes(self, app: web.Application) -> None:
        """Register the platform's API routes (and any extra ``/_emulator/`` routes)."""

    def read_credential(self, request: web.Request) -> str | None:
        """Return the credential the request carries, or None when it carries none."""
        return None

    def error_body(self, error_type: str, message: str, *, status: int, param: str | None = None) -> dict[str, Any]:
        """The platform's JSON error body for an answer of HTTP ``status``."""
        return {"error": {"type": error_type, "message": message}}

    def fault_message(self, status: int, retry_after: float | None) -> str:
        """The message of an injected ``status`` fault that sets none itself."""
        return f"Injected fault: HTTP {status}"

    def reset_state(self) -> None:
        """Put the platform state back to its seed data (called under ``self.lock``)."""

    # ----------------------------------------------------------------- public API
    @property
    def token(self) -> str:
        """The first token given to the constructor: what fixtures hand to the code under test."""
        return self._initial_tokens[0]

    @property
    def tokens(self) -> tuple[str, ...]:
        with self.lock:
            return tuple(sorted(self._tokens))

    def revoke_token(self, token: str) -> None:
        """Make ``token`` invalid from now on (401 for every request carrying it)."""
        with self.lock:
            self._tokens.discard(token)

    def add_token(self, token: str) -> None:
        with self.lock:
            self._tokens.add(token)

    def stats(self) -> dict[str, Any]:
        """Request counts: ``total``, ``by_route`` (``"GET /v2/x/{id}"``), ``by_status``, in-flight."""
        return self._stats.snapshot()

    @property
    def closing(self) -> bool:
        """True while the server shuts down: long-poll handlers answer at once."""
        return self._closing

    def reset(self) -> None:
        """Back to seed data, initial tokens, no faults, zeroed stats; wakes every long-poll.

        The clock keeps any ``advance`` offset (time never goes back) and runs in real time again.
        """
        self.clock.thaw()
        with self.lock:
            self.reset_state()
            self._tokens = set(self._initial_tokens)
        self.faults.clear()
        self._stats.reset()
        self.notify()

    def freeze_clock(self) -> None:
        """Only :meth:`advance` moves the clock from now until the next :meth:`reset`."""
        self.clock.freeze()

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (runs progress as if that time had passed)."""
        self.clock.advance(seconds)
        self.notify()

    # ----------------------------------------------------------------- long-poll support
    async def wait_for_change(self, key: Hashable, timeout: float) -> bool:
        """Wait until ``notify(key)`` (True) or ``timeout`` seconds pass (False). Loop thread only."""
        if timeout <= 0 or self._closing:
            return False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiters = self._waiters.setdefault(key, set())
        waiters.add(future)
        timer = None if math.isinf(timeout) else loop.call_later(timeout, _resolve, future, False)
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()
            waiters.discard(future)
            if not waiters and self._waiters.get(key) is waiters:
                del self._waiters[key]

    def notify(self, key: Hashable | None = None) -> None:
        """Wake the waiters on ``key`` (all waiters when None). Callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake(key)
        else:
            with suppress(RuntimeError):  # loop closing
                loop.call_soon_threadsafe(self._wake, key)

    def _wake(self, key: Hashable | None) -> None:
        groups = list(self._waiters.values()) if key is None else [self._waiters.get(key, ())]
        for waiters in groups:
            for future in list(waiters):
                _resolve(future, True)

    # ----------------------------------------------------------------- responses
    def json_response(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
        return web.Response(body=body, status=status, headers=headers, content_type=_JSON, charset="utf-8")

    def error_response(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        return self.answer_error(EmulatorError(status, error_type, message, headers))

    def answer_error(self, error: EmulatorError) -> web.Response:
        """The platform's error answer for ``error``."""
        body = self.error_body(error.error_type, error.message, status=error.status, param=error.param)
        return self.json_response(body, status=error.status, headers=error.headers)

    def invalid_input(self, message: str) -> EmulatorError:
        """An error to raise for a bad parameter or body (400 with the platform's type)."""
        return EmulatorError(400, self.error_types["invalid_input"], message)

    async def read_json(self, request: web.Request, *, default: Any = None) -> Any:
        """The request body as JSON (gzip bodies are inflated by aiohttp); ``default`` if empty."""
        raw = await request.read()
        if not raw.strip():
            return default
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise self.invalid_input(f"Request body is not valid JSON: {exc}") from None

    # ----------------------------------------------------------------- app and middleware
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.add_routes(self.control_routes())
        self.setup_routes(app)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await self._guarded(request, handler)
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else "<unmatched>"
        self._stats.begin(f"{request.method} {template}")
        outcome: int | str = "dropped"
        try:
            latency, action = self.faults.take(request.method, request.path)
            if latency is not None:
                await asyncio.sleep(latency.seconds)
            kind = action.kind if action is not None else None
            if kind == "drop_before":
                return _drop(request)
            if kind == "status":
                response: web.StreamResponse = self._fault_response(action)  # type: ignore[arg-type]
            else:
                response = await self._authorised(request, handler)
                if kind == "drop_after":
                    return _drop(request)
                if kind in ("drip", "oversized", "cut"):
                    response = await shaped(request, response, action)  # type: ignore[arg-type]
                    outcome = response.status
                    return response
                if kind == "malformed":
                    response = web.Response(status=200, body=b'{"data": {"id": "trunc', content_type=_JSON)
                elif kind in ("html", "truncated"):
                    response = await _spoiled(response, kind)
            outcome = response.status
            return response
        finally:
            self._stats.end(outcome)

    async def _authorised(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        credential = self.read_credential(request)
        if not credential:
            return self.error_response(
                401, self.error_types["missing_credential"], self.error_messages["missing_credential"]
            )
        with self.lock:
            valid = credential in self._tokens
        if not valid:
            return self.error_response(
                401, self.error_types["invalid_credential"], self.error_messages["invalid_credential"]
            )
        return await self._guarded(request, handler)

    async def _guarded(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """Run a handler, turning errors into the platform's error body."""
        try:
            return await handler(request)
        except EmulatorError as exc:
            return self.answer_error(exc)
        except web.HTTPMethodNotAllowed as exc:
            allow = {"Allow": exc.headers.get("Allow", "")}
            message = f"Method {request.method} is not allowed here"
            return self.error_response(405, self.error_types["method_not_allowed"], message, allow)
        except web.HTTPNotFound:
            return self.error_response(
                404, self.error_types["route_not_found"], f"Page not found: {request.method} {request.path}"
            )
        except web.HTTPException:
            raise
        except Exception:
            log.exception("emulator handler failed: %s %s", request.method, request.path)
            return self.error_response(500, self.error_types["server_error"], "Emulator internal error")

    def _fault_response(self, rule: FaultRule) -> web.Response:
        status = int(rule.status or 500)
        if rule.error_type:
            error_type = rule.error_type
        elif status == 429:
            error_type = self.error_types["rate_limited"]
        elif status >= 500:
            error_type = self.error_types["server_error"]
        else:
            error_type = self.error_types["invalid_input"]
        message = rule.message or self.fault_message(status, rule.retry_after)
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        return self.error_response(status, error_type, message, headers)

    # ----------------------------------------------------------------- running
    async def _start_site(self, host: str, port: int) -> None:
        self._closing = False
        if self.app.frozen:  # an aiohttp app serves once: a restarted emulator needs a fresh one
            self.app = self._build_app()
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        ssl_context = self.tls_files.server_context() if self.tls_files is not None else None
        site = web.TCPSite(runner, host, port, backlog=16384, reuse_address=True, ssl_context=ssl_context)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{bound[1]}"

    def _want_tls(self, tls: bool) -> None:
        """Make the certificate files once (a restarted emulator keeps presenting the same CA)."""
        if tls and self.tls_files is None:
            self.tls_files = make_tls_files()
            weakref.finalize(self, self.tls_files.cleanup)
        elif not tls:
            self.tls_files = None

    async def _shutdown(self) -> None:
        self._closing = True
        self._wake(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self, port: int = 0, host: str = "127.0.0.1", *, tls: bool = False) -> str:
        """Serve from a background thread with its own event loop; returns the base URL.

        ``tls=True`` serves HTTPS with a certificate made for 127.0.0.1/localhost by a throwaway
        CA (``self.tls_files.ca_path``)."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        self._want_tls(tls)
        _raise_open_files_limit()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = _new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._start_site(host, port))
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
                loop.run_until_complete(self._shutdown())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"{self.platform_name}-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            self._loop = None
            raise failure[0]
        assert self.base_url is not None
        return self.base_url

    def stop(self) -> None:
        """Stop the background server (held long-polls are answered first); idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._thread = None
        self._loop = None

    def __enter__(self) -> EmulatorServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_forever(
        self, port: int, host: str = "127.0.0.1", on_ready: Callable[[EmulatorServer], None] | None = None,
        *, tls: bool = False,
    ) -> None:
        """Serve in the calling thread until SIGINT/SIGTERM; ``on_ready`` runs once listening."""
        _raise_open_files_limit()
        self._want_tls(tls)

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with suppress(NotImplementedError, RuntimeError):
                    self._loop.add_signal_handler(sig, self._stop_event.set)
            await self._start_site(host, port)
            if on_ready is not None:
                on_ready(self)
            try:
                await self._stop_event.wait()
            finally:
                await self._shutdown()

        # what asyncio.Runner (Python 3.11+) does, written out for Python 3.10
        loop = _new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
        self._loop = None

    @classmethod
    def main(cls, argv: list[str] | None = None) -> int:
        """``python -m <platform module> --port N [--host H] [--token T ...] [--tls]``: serve in the
        foreground until SIGINT/SIGTERM, after one flushed banner line
        ``<platform_name> emulator: base_url=<url> tokens=<t1,t2>`` (`` ca_file=<path>`` added with
        ``--tls``)."""
        parser = argparse.ArgumentParser(description=f"Local emulator of the {cls.platform_name}")
        parser.add_argument(
            "--port",
            type=int,
            default=cls.default_port,
            help=f"TCP port (default {cls.default_port}; 0: any free port)",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--token", action="append", dest="tokens", help="accepted API token (repeatable)")
        parser.add_argument(
            "--tls",
            action="store_true",
            help="serve HTTPS with a certificate made at start; the banner names the CA file to trust (ca_file=)",
        )
        args = parser.parse_args(argv)
        tokens = tuple(args.tokens or ("test-token",))
        emulator = cls(tokens)

        def banner(server: EmulatorServer) -> None:
            ca = f" ca_file={server.tls_files.ca_path}" if server.tls_files is not None else ""
            print(f"{cls.platform_name} emulator: base_url={server.base_url} tokens={','.join(tokens)}{ca}")
            sys.stdout.flush()

        try:
            emulator.serve_forever(args.port, args.host, on_ready=banner, tls=args.tls)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            print(
                f"{cls.platform_name} emulator: port {args.port} on {args.host} is already in use; "
                "pass --port N (0 picks a free port)",
                file=sys.stderr,
            )
            return 2
        return 0


async def stream_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A response body handed to aiohttp chunk by chunk, yielding the loop between chunks."""
    for chunk in chunks:
        yield chunk


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


PROXY_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\n"
    b"<body><h1>Checking your connection</h1><p>Served by an intercepting proxy.</p></body></html>\n"
)


async def _spoiled(response: web.StreamResponse, kind: str) -> web.Response:
    """The handler's answer with its body replaced by a proxy's HTML page (``html``) or cut in the
    middle of its last line (``truncated``); status and headers are the handler's own."""
    body = response.body if isinstance(response, web.Response) else None
    if body is not None and not isinstance(body, (bytes, bytearray)):  # a streamed body: collect it
        collected = bytearray()
        async for chunk in body._iter:  # aiohttp's AsyncIterablePayload
            collected += chunk
        body = bytes(collected)
    body = bytes(body or b"")
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "content-type", "transfer-encoding")
    }
    if kind == "html":
        return web.Response(status=200, body=PROXY_HTML, headers=headers, content_type="text/html")
    stripped = body.rstrip(b"\n")
    last_line = stripped.rfind(b"\n") + 1
    cut = last_line + max(1, (len(stripped) - last_line) // 2) if stripped else 0
    spoiled = web.Response(status=response.status, body=body[:cut], headers=headers)
    spoiled.headers["Content-Type"] = response.headers.get("Content-Type", _JSON)
    return spoiled


def _drop(request: web.Request) -> web.Response:
    """Reset the client's TCP connection (RST, no response); the returned object is never sent."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=599)


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it serves several times more requests per core), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _raise_open_files_limit() -> None:
    """Lift the soft open-files limit to the hard one: 10,000 held long-polls need 10,000 sockets."""
    with suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
