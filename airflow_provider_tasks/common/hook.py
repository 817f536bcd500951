"""What every platform hook shares: connection → endpoint, and the sync and async transports.

A platform hook subclasses :class:`PlatformHook`, names its dialect and default base URL, and
adds methods that pair an ``api`` request builder with a parser. It holds no HTTP code itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol, TypeVar

from airflow_provider_tasks.common.compat import BaseHook, get_async_connection
from airflow_provider_tasks.common.errors import ConfigurationError, ProviderError
from airflow_provider_tasks.common.http import AsyncTransport, Endpoint, SyncTransport, _as_is
from airflow_provider_tasks.common.messages import DEFAULT_TIMEOUT, ApiDialect, ApiRequest, ApiResponse
from airflow_provider_tasks.common.pagination import Page
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.waiting import Deadline, RunSnapshot, await_terminal, wait_for_terminal

T = TypeVar("T")


class RemoteRun(Protocol):
    """A platform's run object: the API's own dict, and its reduction for waiting code."""

    raw: dict[str, Any]

    def snapshot(self) -> RunSnapshot: ...


class PlatformHook(BaseHook):
    """Base for platform hooks: the token comes from the connection's password field and the
    optional host is a full base URL (scheme, host, port) overriding the platform's default."""

    dialect: ClassVar[ApiDialect]
    default_base_url: ClassVar[str]
    conn_id_param: ClassVar[str]

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

    # -- connection ------------------------------------------------------------------------

    def _endpoint_from(self, conn: Any) -> Endpoint:
        token = conn.password
        if not token:
            raise ConfigurationError(
                f"connection {self.conn_id!r} has no API token: put it in the connection's password field"
            )
        return Endpoint(base_url_of(conn, self.default_base_url), token, self.dialect)

    @property
    def transport(self) -> SyncTransport:
        if self._transport is None:
            endpoint = self._endpoint_from(self.get_connection(self.conn_id))
            self._transport = SyncTransport(endpoint, self.retry_policy, self.timeout)
        return self._transport

    async def async_transport(self) -> AsyncTransport:
        if self._async_transport is None:
            conn = await get_async_connection(self.conn_id, hook=self)
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
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Release this hook's share of the triggerer's HTTP session (cleanup, never on_kill)."""
        if self._async_transport is not None:
            await self._async_transport.close()
            self._async_transport = None

    # -- runs: what each platform supplies, and the waiting built on it ----------------------

    long_poll: ClassVar[bool] = False
    """Whether :meth:`poll_run` can make the server hold the answer until the run ends."""

    def poll_run(self, run_id: str, wait: float = 0) -> RemoteRun:
        """The run's current state; with long-polling, wait up to ``wait`` seconds for its end."""
        raise NotImplementedError

    async def apoll_run(self, run_id: str, wait: float = 0) -> RemoteRun:
        raise NotImplementedError

    def abort_run(self, run_id: str) -> RemoteRun:
        raise NotImplementedError

    def wrap_run(self, raw: dict[str, Any]) -> RemoteRun:
        """Turn a run dict (as carried by a trigger event) back into the platform's run object."""
        raise NotImplementedError

    async def aabort_run(self, run_id: str) -> RemoteRun:
        raise NotImplementedError

    def wait_for_run(self, run_id: str, deadline: Deadline, *, poll_interval: float = 60) -> RemoteRun:
        """Block until the run is terminal; :class:`RunTimeoutError` when the deadline passes first.

        Returns the run whatever its terminal status: callers decide what a failure means.
        """
        return self.wait_until_terminal(lambda wait: self.poll_run(run_id, wait), deadline, poll_interval)

    async def await_run(self, run_id: str, deadline: Deadline, *, poll_interval: float = 60) -> RemoteRun:
        """The coroutine twin of :meth:`wait_for_run`, for triggers."""
        return await self.await_until_terminal(lambda wait: self.apoll_run(run_id, wait), deadline, poll_interval)

    def wait_until_terminal(
        self, poll: Callable[[float], RemoteRun], deadline: Deadline, poll_interval: float
    ) -> RemoteRun:
        """Poll anything that reduces to a :class:`RunSnapshot` (a run, a task) until it ends."""
        latest: list[RemoteRun] = []

        def step(wait: float) -> RunSnapshot:
            latest.clear()  # let the previous answer go while the next one is awaited
            latest.append(poll(wait))
            return latest[0].snapshot()

        wait_for_terminal(step, deadline, platform=self.dialect.platform, interval=poll_interval, long_poll=self.long_poll)
        return latest[0]

    async def await_until_terminal(
        self, poll: Callable[[float], Awaitable[RemoteRun]], deadline: Deadline, poll_interval: float
    ) -> RemoteRun:
        latest: list[RemoteRun] = []

        async def step(wait: float) -> RunSnapshot:
            latest.clear()  # let the previous answer go while the next one is awaited
            latest.append(await poll(wait))
            return latest[0].snapshot()

        await await_terminal(step, deadline, platform=self.dialect.platform, interval=poll_interval, long_poll=self.long_poll)
        return latest[0]

    # -- Airflow UI ------------------------------------------------------------------------

    def auth_check_request(self) -> ApiRequest:
        """The cheapest authenticated call of the platform."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str]:
        """Used by the "Test" button of the connection form."""
        try:
            self.send(self.auth_check_request(), retry=False)
        except ProviderError as error:
            return False, str(error)
        return True, f"Connected to {self.dialect.platform} at {self.transport.endpoint.base_url}"


def ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """The connection form of ``conn_type`` in the hook-method shape, built from the provider-info
    dict (one source). Airflow before 3.2 reads only ``get_ui_field_behaviour()`` defined on the
    hook class itself, so each platform hook defines that method and returns this."""
    from airflow_provider_tasks import get_provider_info

    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == conn_type:
            form = entry.get("ui-field-behaviour", {})
            return {
                "hidden_fields": list(form.get("hidden-fields", [])),
                "relabeling": dict(form.get("relabeling", {})),
                "placeholders": dict(form.get("placeholders", {})),
            }
    return {}


def base_url_of(conn: Any, default: str) -> str:
    """The base URL a connection points at: its host as a full URL, host+port, or the default."""
    host = (conn.host or "").strip()
    if not host:
        return default
    if "://" in host:
        return host.rstrip("/")
    scheme = conn.schema or "https"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}"
