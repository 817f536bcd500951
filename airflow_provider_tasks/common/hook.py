"""What every platform hook shares: connection → endpoint, the sync and async transports, waits.

A platform hook names its dialect and base URL, supplies the run methods, and pairs ``api``
request builders with parsers; it holds no HTTP code itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypedDict, TypeVar

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
from airflow_provider_tasks.common.progress_log import ProgressLog
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.sansio import DEFAULT_TIMEOUT, ApiDialect, ApiRequest, ApiResponse
from airflow_provider_tasks.common.snapshot import FollowedT, RunT, Snapshot
from airflow_provider_tasks.common.waiting import (
    MIN_POLL_GAP,
    Deadline,
    WaitSteps,
    await_terminal,
    wait_for_terminal,
    wait_steps,
)

T = TypeVar("T")


class _Latest(Generic[FollowedT]):
    """The last answer of a wait; the previous one is let go while the next is awaited."""

    value: FollowedT

    def keep(self, poll: Callable[[float], FollowedT], wait: float) -> Snapshot:
        self.__dict__.pop("value", None)
        self.value = poll(wait)
        return self.value.snapshot()

    async def akeep(self, poll: Callable[[float], Awaitable[FollowedT]], wait: float) -> Snapshot:
        self.__dict__.pop("value", None)
        self.value = await poll(wait)
        return self.value.snapshot()


class HookOptions(TypedDict, total=False):
    """What every platform hook takes besides its connection id."""

    retry_policy: RetryPolicy | dict[str, Any] | None
    timeout: float


class PlatformHook(BaseHook, ABC, Generic[RunT]):
    """Base for platform hooks: the token is the connection's password, the optional host a full
    base URL overriding the platform's; ``RunT`` is what :meth:`poll_run` and the waits return.

    :param conn_id: the Airflow connection to use (each hook names it ``<platform>_conn_id``).
    :param retry_policy: a :class:`RetryPolicy` or its dict form: how transient failures (429,
        5xx, dropped connections) are retried.
    :param timeout: seconds per request (long-polls add the time the server holds them).
    """

    dialect: ClassVar[ApiDialect]

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
        """Check the token, ``verify`` extra and scheme before any request."""
        token, stripped = clean_token(self.conn_id, conn.password)
        if stripped and self._say_once("token"):
            self.log.warning(
                "Connection %r: removed whitespace (such as a trailing newline) around the API token", self.conn_id
            )
        verify = verify_of(self.conn_id, extra_of(conn), getattr(self, "conn_type", ""))
        base_url = base_url_of(conn, self.dialect.default_base_url)
        if verify is False and base_url.lower().startswith("https://"):
            self.log.warning(
                "TLS certificates of %s are NOT verified (the connection's extra verify=false): anyone on the "
                "network path from this machine to it can read the API token",
                base_url,
            )
        if is_plain_http_to_remote(base_url) and self._say_once("plain-http"):
            self.log.warning(
                "Connection %r uses plain http:// to %s: the API token travels unencrypted", self.conn_id, base_url
            )
        return Endpoint(base_url, token, self.dialect, verify)

    def _say_once(self, what: str) -> bool:
        """True the first time this hook is about to say ``what``."""
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
        """The API base URL this hook talks to; reads the connection, sends nothing."""
        if self._transport is not None:
            return self._transport.endpoint.base_url
        return base_url_of(self.get_connection(self.conn_id), self.dialect.default_base_url)

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
        """Close the sync HTTP session."""
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
    """Whether :meth:`poll_run` can make the server hold the answer (up to ``long_poll_window`` s)."""
    long_poll_window: ClassVar[float] = 0.0
    min_poll_interval: ClassVar[float] = MIN_POLL_GAP

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
        """The run once terminal, whatever its status; :class:`RunTimeoutError` at the deadline,
        :class:`CostLimitExceeded` past ``cost_limit`` (see :func:`wait_steps`)."""
        latest = _Latest[RunT]()
        steps = self._wait_steps(deadline, poll_interval, None, just_looked, cost_limit)
        wait_for_terminal(steps, lambda wait: latest.keep(lambda w: self.poll_run(run_id, w), wait))
        return latest.value

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
        """Poll anything :class:`Followed` (a run, a task) until it ends, for triggers; its last state."""
        latest = _Latest[FollowedT]()
        steps = self._wait_steps(deadline, poll_interval, progress, just_looked, cost_limit)
        await await_terminal(steps, lambda wait: latest.akeep(poll, wait))
        return latest.value

    def _wait_steps(
        self,
        deadline: Deadline,
        poll_interval: float,
        progress: ProgressLog | None,
        just_looked: bool,
        cost_limit: float | None,
    ) -> WaitSteps:
        """With a cost limit a long-poll is held at most ``poll_interval``, so the bill is looked at
        that often while the run still ends as promptly as ever."""
        interval = max(poll_interval, self.min_poll_interval)
        return wait_steps(
            deadline,
            platform=self.dialect.platform,
            interval=interval,
            long_poll=self.long_poll,
            window=self.long_poll_window if cost_limit is None else min(self.long_poll_window, interval),
            progress=progress if progress is not None else ProgressLog(self.log, self.dialect.platform),
            just_looked=just_looked,
            cost_limit=cost_limit,
        )

    # -- Airflow UI ------------------------------------------------------------------------

    def auth_check_request(self) -> ApiRequest:
        """The cheapest authenticated call of the platform."""
        return self.dialect.auth_check

    def test_connection(self) -> tuple[bool, str]:
        """The connection form's Test button. Airflow tests under a random id, so the message says
        "this connection"; Airflow 2 leaves a saved token out of the form, so a missing one says
        to type it there."""
        try:
            self.send(self.auth_check_request(), retry=False)
        except ProviderError as error:
            message = str(error).replace(f"connection {self.conn_id!r}", "this connection", 1)
            if NO_TOKEN in message:
                message += " (to test it, type the token in the form: the Test button sends what the form holds)"
            return False, message
        return True, f"Connected to {self.dialect.platform} at {self.transport.endpoint.base_url}"
