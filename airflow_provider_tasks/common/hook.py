"""What every platform hook shares: connection → endpoint, and the sync and async transports.

A platform hook subclasses :class:`PlatformHook` (generic over its run type), names its dialect
and default base URL, supplies the abstract run methods, and adds methods that pair an ``api``
request builder with a parser. It holds no HTTP code itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar

from airflow_provider_tasks.common.compat import BaseHook
from airflow_provider_tasks.common.connection import (
    NO_TOKEN,
    base_url_of,
    clean_token,
    extra_of,
    is_plain_http_to_remote,
    verify_of,
)
from airflow_provider_tasks.common.connection_cache import RECENT_CONNECTIONS
from airflow_provider_tasks.common.errors import ProviderError
from airflow_provider_tasks.common.http import AsyncTransport, Endpoint, SyncTransport, _as_is
from airflow_provider_tasks.common.pagination import Page
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.sansio import DEFAULT_TIMEOUT, ApiDialect, ApiRequest, ApiResponse
from airflow_provider_tasks.common.waiting import (
    MIN_POLL_GAP,
    Deadline,
    FollowedT,
    ProgressLog,
    RunT,
    Snapshot,
    await_terminal,
    terminal_plan,
    wait_for_terminal,
)

T = TypeVar("T")


class PlatformHook(BaseHook, ABC, Generic[RunT]):
    """Base for platform hooks: the token comes from the connection's password field and the
    optional host is a full base URL (scheme, host, port) overriding the platform's default.

    ``RunT`` is the platform's run type: what :meth:`poll_run` and the waits return.
    """

    dialect: ClassVar[ApiDialect]
    default_base_url: ClassVar[str]

    def __init__(
        self,
        conn_id: str,
        retry_policy: RetryPolicy | dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.retry_policy = RetryPolicy.from_value(retry_policy)
        self.timeout = timeout
        self._transport: SyncTransport | None = None
        self._async_transport: AsyncTransport | None = None
        self._said: set[str] = set()

    # -- connection ------------------------------------------------------------------------

    def _endpoint_from(self, conn: Any) -> Endpoint:
        """Check what the connection holds (token, ``verify`` extra, scheme) before any request."""
        token, stripped = clean_token(self.conn_id, conn.password)
        if stripped and self._say_once("token"):
            self.log.warning(
                "Connection %r: removed whitespace (such as a trailing newline) around the API token", self.conn_id
            )
        verify = verify_of(self.conn_id, extra_of(conn), getattr(self, "conn_type", ""))
        base_url = base_url_of(conn, self.default_base_url)
        if verify is False and base_url.lower().startswith("https://"):
            self.log.warning(
                "TLS certificates of %s are NOT verified (the connection's extra verify=false): anyone on the "
                "network path from this machine to it can read the API token", base_url
            )
        if is_plain_http_to_remote(base_url) and self._say_once("plain-http"):
            self.log.warning(
                "Connection %r uses plain http:// to %s: the API token travels unencrypted", self.conn_id, base_url
            )
        return Endpoint(base_url, token, self.dialect, verify)

    def _say_once(self, what: str) -> bool:
        """True the first time this hook is about to say ``what`` (connection notes, not errors)."""
        if what in self._said:
            return False
        self._said.add(what)
        return True

    @property
    def transport(self) -> SyncTransport:
        if self._transport is None:
            endpoint = self._endpoint_from(self.get_connection(self.conn_id))
            self._transport = SyncTransport(endpoint, self.retry_policy, self.timeout)
        return self._transport

    @property
    def base_url(self) -> str:
        """The API base URL this hook talks to (the connection's host, else the platform's default);
        reads the connection, sends nothing."""
        if self._transport is not None:
            return self._transport.endpoint.base_url
        return base_url_of(self.get_connection(self.conn_id), self.default_base_url)

    async def async_transport(self) -> AsyncTransport:
        if self._async_transport is None:
            conn = await RECENT_CONNECTIONS.get(self.conn_id, self)
            self._async_transport = AsyncTransport(self._endpoint_from(conn), self.retry_policy, self.timeout)
        return self._async_transport

    # -- calls -----------------------------------------------------------------------------

    def send(self, request: ApiRequest, parse: Callable[[ApiResponse], T] = _as_is, **kwargs: Any) -> T:
        """Perform ``request`` and return ``parse(response)``; both are retried as one step."""
        return self.transport.send(request, parse, **kwargs)

    async def asend(self, request: ApiRequest, parse: Callable[[ApiResponse], T] = _as_is, **kwargs: Any) -> T:
        return await (await self.async_transport()).send(request, parse, **kwargs)

    def pager(self, parse: Callable[[ApiRequest, ApiResponse], Page[T]]) -> Callable[[ApiRequest], Page[T]]:
        """A page fetcher for :func:`iterate_pages`: sends a page request and parses its answer."""
        return lambda request: self.send(request, lambda response: parse(request, response))

    def close(self) -> None:
        """Close the sync HTTP session (the operator or sensor that owns the hook calls it when done)."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def aclose(self) -> None:
        """Release this hook's share of the triggerer's HTTP session (cleanup, never on_kill)."""
        if self._async_transport is not None:
            await self._async_transport.close()
            self._async_transport = None

    # -- runs: what each platform supplies, and the waiting built on it ----------------------

    long_poll: ClassVar[bool] = False
    """Whether :meth:`poll_run` can make the server hold the answer until the run ends."""
    long_poll_window: ClassVar[float] = 0.0
    """With ``long_poll``: the longest the server holds a status request (every wait asks for it)."""
    min_poll_interval: ClassVar[float] = MIN_POLL_GAP
    """The platform's floor for the gap between two status requests about one run."""

    @abstractmethod
    def poll_run(self, run_id: str, wait: float = 0) -> RunT:
        """The run's current state; with long-polling, wait up to ``wait`` seconds for its end."""

    @abstractmethod
    async def apoll_run(self, run_id: str, wait: float = 0) -> RunT:
        """The coroutine twin of :meth:`poll_run`, for triggers."""

    @abstractmethod
    def abort_run(self, run_id: str) -> RunT | None:
        """Abort the run; None when the platform says there is nothing (left) to abort."""

    @abstractmethod
    async def aabort_run(self, run_id: str) -> RunT | None:
        """The coroutine twin of :meth:`abort_run`, for a trigger's ``on_kill``."""

    @abstractmethod
    def wrap_run(self, raw: dict[str, Any]) -> RunT:
        """Turn a run dict (as carried by a trigger event) back into the platform's run object."""

    def wait_for_run(
        self,
        run_id: str,
        deadline: Deadline,
        *,
        poll_interval: float = 60,
        just_looked: bool = False,
        cost_limit: float | None = None,
    ) -> RunT:
        """Block until the run is terminal; :class:`RunTimeoutError` when the deadline passes first.

        Returns the run whatever its terminal status: callers decide what a failure means.
        ``just_looked``: the caller polled the run a moment ago (the first request keeps its distance).
        ``cost_limit``: :class:`CostLimitExceeded` as soon as an answer shows the run past it (the
        caller aborts the run).
        """
        return self.wait_until_terminal(
            lambda wait: self.poll_run(run_id, wait),
            deadline,
            poll_interval,
            just_looked=just_looked,
            cost_limit=cost_limit,
        )

    def wait_until_terminal(
        self,
        poll: Callable[[float], FollowedT],
        deadline: Deadline,
        poll_interval: float,
        progress: ProgressLog | None = None,
        *,
        just_looked: bool = False,
        cost_limit: float | None = None,
    ) -> FollowedT:
        """Poll anything :class:`Followed` (a run, a task) until it ends; returns its last state.

        Requests are spaced by ``poll_interval``, never less than :attr:`min_poll_interval`; with
        long-polling each one is held for the whole :attr:`long_poll_window` whatever the interval.
        """
        latest: list[FollowedT] = []

        def step(wait: float) -> Snapshot:
            latest.clear()  # let the previous answer go while the next one is awaited
            latest.append(poll(wait))
            return latest[0].snapshot()

        settings = self._wait_settings(poll_interval, progress, cost_limit)
        wait_for_terminal(terminal_plan(deadline, just_looked=just_looked, **settings), step)
        return latest[0]

    async def await_until_terminal(
        self,
        poll: Callable[[float], Awaitable[FollowedT]],
        deadline: Deadline,
        poll_interval: float,
        progress: ProgressLog | None = None,
        *,
        just_looked: bool = False,
        cost_limit: float | None = None,
    ) -> FollowedT:
        latest: list[FollowedT] = []

        async def step(wait: float) -> Snapshot:
            latest.clear()  # let the previous answer go while the next one is awaited
            latest.append(await poll(wait))
            return latest[0].snapshot()

        settings = self._wait_settings(poll_interval, progress, cost_limit)
        await await_terminal(terminal_plan(deadline, just_looked=just_looked, **settings), step)
        return latest[0]

    def _wait_settings(
        self, poll_interval: float, progress: ProgressLog | None, cost_limit: float | None = None
    ) -> dict[str, Any]:
        """The poll loop's settings. A cost limit needs regular looks at the bill: with one, a
        long-poll is held at most ``poll_interval`` (not the API's whole window), so the cost is
        checked that often while the run ends as promptly as ever."""
        interval = max(poll_interval, self.min_poll_interval)
        window = self.long_poll_window if cost_limit is None else min(self.long_poll_window, interval)
        return {
            "platform": self.dialect.platform,
            "interval": interval,
            "long_poll": self.long_poll,
            "window": window,
            "progress": progress if progress is not None else ProgressLog(self.log, self.dialect.platform),
            "cost_limit": cost_limit,
        }

    # -- Airflow UI ------------------------------------------------------------------------

    @abstractmethod
    def auth_check_request(self) -> ApiRequest:
        """The cheapest authenticated call of the platform."""

    def test_connection(self) -> tuple[bool, str]:
        """Used by the "Test" button of the connection form.

        The form's connection is tested under a random id that Airflow makes up for the test, so
        the message says "this connection" instead; and since the button sends what the form
        holds (Airflow 2 leaves a saved token out of it), a missing token says to type it there.
        """
        try:
            self.send(self.auth_check_request(), retry=False)
        except ProviderError as error:
            message = str(error).replace(f"connection {self.conn_id!r}", "this connection", 1)
            if NO_TOKEN in message:
                message += " (to test it, type the token in the form: the Test button sends what the form holds)"
            return False, message
        return True, f"Connected to {self.dialect.platform} at {self.transport.endpoint.base_url}"
