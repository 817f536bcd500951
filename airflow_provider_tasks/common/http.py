"""The only place that talks to a socket: performs the :class:`ApiRequest` values an ``api`` module builds.

:class:`SyncTransport` holds one ``requests.Session`` per task; :class:`AsyncTransport` shares one
``aiohttp.ClientSession`` per event loop and connection among the triggers (a session per poll costs
~1 MB and a TLS handshake per waiting run). Both map failures onto ``errors`` types and retry the
transient ones with the caller's :class:`RetryPolicy`. Credentials travel only in headers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_tasks.common.bodies import (
    deadline_passed,
    read_async,
    read_sync,
    response_of,
    streamed_head,
    sync_chunks,
)
from airflow_provider_tasks.common.errors import TransportError
from airflow_provider_tasks.common.pacing import turnstile
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.sansio import DEFAULT_TIMEOUT, ApiDialect, ApiRequest, ApiResponse
from airflow_provider_tasks.common.scale import scale_machinery
from airflow_provider_tasks.common.tls import aiohttp_ssl, causes, tls_error

if TYPE_CHECKING:
    from collections.abc import Iterator

    import aiohttp
    import requests
    from yarl import URL

    from airflow_provider_tasks.common.streams import OpenStream

log = logging.getLogger(__name__)

USER_AGENT = "airflow-provider-tasks/0.1"

T = TypeVar("T")


def _as_is(response: ApiResponse) -> Any:
    return response


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to call a platform: base URL, token and the platform's dialect."""

    base_url: str
    token: str
    dialect: ApiDialect
    verify: bool | str = True
    """TLS verification: True, False or a CA bundle path."""

    def url(self, request: ApiRequest) -> str:
        return self.base_url.rstrip("/") + request.path

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers.update(self.dialect.auth_headers(self.token))
        if extra:
            headers.update(extra)
        return headers

    def session_key(self) -> tuple[str, str, bool | str]:
        """Identifies a connection and its TLS setting without keeping the token as a dict key."""
        return self.base_url, hashlib.sha256(self.token.encode()).hexdigest(), self.verify

    def check(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        if not response.ok:
            raise self.dialect.error_for(request, response)
        return response

    def __repr__(self) -> str:  # never show the token
        return f"Endpoint({self.dialect.platform} at {self.base_url})"


@dataclass(frozen=True)
class EnvProxy:
    """The proxy the environment names for a base URL (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``
    unless ``NO_PROXY`` exempts its host), as ``requests`` honours it on the sync path."""

    url: URL | None = None
    auth: aiohttp.BasicAuth | None = None

    @classmethod
    def for_url(cls, base_url: str) -> EnvProxy:
        """Read once per shared session: aiohttp's ``trust_env`` reads the environment in a worker
        thread for every request, which stalled a triggerer's loop with 10,000 triggers."""
        from yarl import URL

        from airflow_provider_tasks.common.internals import env_proxy_for_url

        try:
            url, auth = env_proxy_for_url(URL(base_url))
        except LookupError:  # no proxy for this scheme, or NO_PROXY exempts the host
            return _NO_PROXY
        return cls(url, auth)


_NO_PROXY = EnvProxy()


class _Transport:
    """What both transports hold: where to send, how to retry, and the default seconds per request."""

    def __init__(self, endpoint: Endpoint, policy: RetryPolicy | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.endpoint = endpoint
        self.policy = policy or RetryPolicy()
        self.timeout = timeout


class SyncTransport(_Transport):
    """Blocking calls for operators and sensors running in a worker."""

    _session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()  # honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY
            self._session.verify = self.endpoint.verify
        return self._session

    def send(
        self,
        request: ApiRequest,
        parse: Callable[[ApiResponse], T] = _as_is,
        *,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> T:
        """Perform the request and parse the answer, retrying transient failures (a garbled body
        included) unless ``retry`` is False."""
        return self._retried(lambda: parse(self._send_once(request, headers)), retry)

    def _retried(self, call: Callable[[], T], retry: bool) -> T:
        if not retry:
            return call()
        for attempt in self.policy.sync():
            with attempt:
                return call()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _send_once(self, request: ApiRequest, headers: dict[str, str] | None) -> ApiResponse:
        raw, deadline, total = self._open(request, headers)
        platform = self.endpoint.dialect.platform
        body = read_sync(raw, request, request.body_limit(), deadline, total, platform)
        response = response_of(raw.status_code, raw.headers, body)
        return self.endpoint.check(request, response)

    def _open(self, request: ApiRequest, headers: dict[str, str] | None) -> tuple[requests.Response, float, float]:
        """The answer with its body unread, the monotonic deadline of the whole request, and its seconds."""
        import requests

        total = request.total_timeout(self.timeout)
        deadline = time.monotonic() + total
        try:
            raw = self.session.request(
                request.method,
                self.endpoint.url(request),
                params=request.query(),
                json=request.json_body,
                data=request.form,
                files=request.files,
                headers=self.endpoint.headers(headers),
                timeout=total,
                stream=True,  # bodies are read chunk by chunk: capped, within the whole deadline
                verify=self.endpoint.verify,  # per request, or REQUESTS_CA_BUNDLE would override it
            )
        except requests.exceptions.SSLError as error:
            raise tls_error(request.method, request.path, self.endpoint.base_url, error) from None
        except requests.RequestException as error:
            raise _transport_error(request, error, _requests_error_unsent(error), self.endpoint.base_url) from None
        return raw, deadline, total

    def send_streamed(
        self,
        request: ApiRequest,
        consume: Callable[[ApiResponse, Iterator[bytes]], T],
        *,
        retry: bool = True,
        chunk_size: int = 1024 * 1024,
    ) -> T:
        """Perform the request and hand ``consume`` its head (an :class:`ApiResponse` without body)
        and its body a chunk at a time, for answers too large to hold (a dataset page on its way to
        a file). The whole request must end within ``request.total_timeout``, checked per chunk. A
        failure of the request, the body or ``consume`` (a page that fails its checks) is retried
        as one step unless ``retry`` is False."""
        return self._retried(lambda: self._stream_once(request, consume, chunk_size), retry)

    def _stream_once(
        self, request: ApiRequest, consume: Callable[[ApiResponse, Iterator[bytes]], T], chunk_size: int
    ) -> T:
        raw, deadline, total = self._open(request, None)
        with raw:
            head = streamed_head(raw, request, deadline, total, self.endpoint.check)
            return consume(head, sync_chunks(raw, request, deadline, total, chunk_size))

    def open_stream(self, request: ApiRequest, headers: dict[str, str] | None = None) -> OpenStream:
        """Send the request once and return its answer to read as the server writes it (a
        followed log), abortable from another thread; see :mod:`~.streams`. An error status
        raises as :meth:`send` does. Never retried: a second request would repeat what was read."""
        from airflow_provider_tasks.common.streams import OpenStream

        raw, deadline, total = self._open(request, headers)
        return OpenStream(raw, request, deadline, total, self.endpoint.check)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class AsyncTransport(_Transport):
    """Non-blocking calls for triggers; borrows the shared session of its loop and connection."""

    _session: aiohttp.ClientSession | None = None
    _session_key: Any = None
    _proxy: EnvProxy = _NO_PROXY

    async def send(self, request: ApiRequest, parse: Callable[[ApiResponse], T] = _as_is, *, retry: bool = True) -> T:
        """Perform the request and parse the answer, retrying transient failures (a garbled body
        included) unless ``retry`` is False."""
        if not retry:
            return parse(await self._send_once(request))

        async def once() -> T:
            return parse(await self._send_once(request))

        return await self.policy.acall(once)

    async def _send_once(self, request: ApiRequest) -> ApiResponse:
        import aiohttp

        if self._session is None:
            shared = scale_machinery()
            if shared:  # a trigger's first request: a burst of thousands goes through a few dozen per turn
                await turnstile().wait_turn()
            # without the machinery the session is this transport's own (its key is unique)
            self._session_key = self.endpoint.session_key() if shared else (self.endpoint.session_key(), id(self))
            self._session, self._proxy = await _SHARED_SESSIONS.acquire(
                self._session_key, aiohttp_ssl(self.endpoint.verify), self.endpoint.base_url, lean=shared
            )
        try:
            async with self._session.request(
                request.method,
                self.endpoint.url(request),
                params=request.query(),
                json=request.json_body,
                headers=self.endpoint.headers(),
                timeout=aiohttp.ClientTimeout(total=request.total_timeout(self.timeout)),
                proxy=self._proxy.url,
                proxy_auth=self._proxy.auth,
            ) as raw:
                body = await read_async(raw, request, request.body_limit(), self.endpoint.dialect.platform)
                response = response_of(raw.status, raw.headers, body)
        except (aiohttp.ClientSSLError, ssl.SSLError) as error:
            raise tls_error(request.method, request.path, self.endpoint.base_url, error) from None
        except asyncio.TimeoutError as error:  # the total timeout: connecting, waiting or reading
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                raise _transport_error(request, error, True, self.endpoint.base_url) from None
            raise deadline_passed(request, request.total_timeout(self.timeout)) from None
        except aiohttp.ClientError as error:  # (timeouts were handled just above)
            unsent = isinstance(error, aiohttp.ClientConnectorError)
            raise _transport_error(request, error, unsent, self.endpoint.base_url) from None
        return self.endpoint.check(request, response)

    async def close(self) -> None:
        """Give the shared session back; the last user of it closes it."""
        if self._session is not None:
            self._session = None
            await _SHARED_SESSIONS.release(self._session_key)


@dataclass
class _SharedSession:
    session: aiohttp.ClientSession
    proxy: EnvProxy
    users: int = 0


class _SharedSessions:
    """Reference-counted ``aiohttp.ClientSession`` objects, one per (event loop, connection), each
    with the proxy the environment names for that connection's URL."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, Any], _SharedSession] = {}

    def _key(self, key: Any) -> tuple[int, Any]:
        return id(asyncio.get_running_loop()), key

    async def acquire(
        self, key: Any, ssl: Any, base_url: str, *, lean: bool = True
    ) -> tuple[aiohttp.ClientSession, EnvProxy]:
        """The session for ``key`` (which covers ``ssl`` and ``base_url``) and its proxy. ``lean``: the
        lean connector and the proxy read once (``scale.py``); else aiohttp's own and ``trust_env``."""
        import aiohttp

        from airflow_provider_tasks.common.internals import shared_connector

        full_key = self._key(key)
        entry = self._entries.get(full_key)
        if entry is None or entry.session.closed:
            if lean:
                session = aiohttp.ClientSession(connector=shared_connector(limit=0, ttl_dns_cache=300, ssl=ssl))
                entry = _SharedSession(session, EnvProxy.for_url(base_url))
            else:
                entry = _SharedSession(aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl), trust_env=True),
                                       _NO_PROXY)  # fmt: skip
            self._entries[full_key] = entry
        entry.users += 1
        return entry.session, entry.proxy

    async def release(self, key: Any) -> None:
        full_key = self._key(key)
        entry = self._entries.get(full_key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0:
            del self._entries[full_key]
            await entry.session.close()


_SHARED_SESSIONS = _SharedSessions()


def _transport_error(request: ApiRequest, error: BaseException, unsent: bool, base_url: str) -> TransportError:
    """What failed, where, and whether the server can have seen the request."""
    detail = str(error)[:300] or "no detail"
    if unsent:
        return TransportError(
            f"Nothing answered at {base_url}: {request.method} {request.path} could not connect "
            f"(check the connection's host and port, and that the service is up). {type(error).__name__}: {detail}",
            request_sent=False,
        )
    return TransportError(
        f"{request.method} {request.path} failed after the request was sent to {base_url}: "
        f"{type(error).__name__}: {detail}",
        request_sent=True,
    )


def _requests_error_unsent(error: BaseException) -> bool:
    """True when ``requests`` failed while connecting (so the server never saw the request)."""
    import requests
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    return any(isinstance(cause, (NewConnectionError, NameResolutionError)) for cause in causes(error))
