"""Every use of another project's private API, in one place, each guarded.

Each falls back to public behaviour with a warning (once per process) when the other project changed it, and
``tests/unit/test_internals.py`` asserts each is still there, so the CI matrix names the release that drops one:

* aiohttp ``TCPConnector._create_connection`` and asyncio ``SSLProtocol._ssl_buffer``: paced TLS handshakes and
  4 KiB TLS read buffers in the triggerer's shared sessions (else a plain connector, 256 KiB buffers);
* aiohttp ``helpers.get_env_proxy_for_url``: the environment's proxy, read once per session (else ``requests``' rules);
* the asset state store's ``_by_name`` / ``_by_uri`` (3.3): the watchers' watermark (else none is kept);
* the task SDK's ``SUPERVISOR_COMMS``: a cancelled trigger reads its task's state before 3.3 (else the run goes on).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, cast

import aiohttp

log = logging.getLogger(__name__)

TLS_READ_BUFFER = 4096
"""Bytes of the per-connection TLS read buffer once connected (asyncio's default: 256 KiB)."""

CONCURRENT_CONNECTS = 128
"""New connections (TCP connect plus TLS handshake) made at the same time, per session."""

_warned: set[str] = set()


def _changed(what: str, consequence: str) -> None:
    """Warn once per process that a private API the provider uses is gone."""
    if what not in _warned:
        _warned.add(what)
        log.warning("%s is not there any more (an upgrade changed it): %s", what, consequence)


class InternalsChangedError(RuntimeError):
    """A private API the provider needs is gone, and the caller has a public fallback."""


def shrink_tls_read_buffer(transport: Any, size: int = TLS_READ_BUFFER) -> bool:
    """Cut asyncio's TLS read buffer under ``transport`` to ``size`` bytes; False when there is none to cut.

    From Python 3.11 each connection gets a 256 KiB zero-filled (resident) buffer: 2.6 GB for 10,000 waiting runs.
    Safe between reads: the protocol lends the buffer to the socket only within one event-loop callback."""
    protocol: Any = getattr(transport, "_ssl_protocol", None)
    buffer = getattr(protocol, "_ssl_buffer", None)
    if not isinstance(buffer, bytearray) or len(buffer) <= size or not hasattr(protocol, "_ssl_buffer_view"):
        return False
    protocol.max_size = size  # get_buffer() never grows it past this again
    protocol._ssl_buffer = bytearray(size)
    protocol._ssl_buffer_view = memoryview(protocol._ssl_buffer)
    return True


class LeanConnector(aiohttp.TCPConnector):
    """``TCPConnector`` making at most ``concurrent_connects`` connections at a time (a triggerer taking over
    thousands of triggers opens as many at once), each with a small TLS read buffer."""

    def __init__(self, *args: Any, concurrent_connects: int = CONCURRENT_CONNECTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connects = asyncio.Semaphore(concurrent_connects)

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        async with self._connects:
            protocol = await super()._create_connection(*args, **kwargs)
        shrink_tls_read_buffer(getattr(protocol, "transport", None))
        return protocol


def shared_connector(**kwargs: Any) -> aiohttp.TCPConnector:
    """A :class:`LeanConnector` while aiohttp still connects in ``_create_connection``, else aiohttp's own."""
    if callable(vars(aiohttp.TCPConnector).get("_create_connection")):
        return LeanConnector(**kwargs)
    _changed("aiohttp's TCPConnector._create_connection",
             "TLS handshakes are not paced and each connection keeps a 256 KiB read buffer")  # fmt: skip
    return aiohttp.TCPConnector(**kwargs)


def env_proxy_for_url(url: Any) -> tuple[Any, aiohttp.BasicAuth | None]:
    """The environment's proxy URL and credentials for ``url`` (a ``yarl.URL``); LookupError when none applies.
    The fallback does not read the proxy's credentials from ``~/.netrc``, only from its URL."""
    try:
        from aiohttp.helpers import get_env_proxy_for_url
    except ImportError:
        _changed("aiohttp.helpers.get_env_proxy_for_url",
                 "the proxy is read with requests' rules, without ~/.netrc credentials")  # fmt: skip
        return _requests_proxy_for_url(url)
    return cast(tuple[Any, aiohttp.BasicAuth | None], get_env_proxy_for_url(url))


def _requests_proxy_for_url(url: Any) -> tuple[Any, aiohttp.BasicAuth | None]:
    """The same from ``requests``' rules (``NO_PROXY`` included), so the sync and async paths use one proxy."""
    from requests.utils import get_environ_proxies, select_proxy
    from yarl import URL

    proxy = select_proxy(str(url), get_environ_proxies(str(url)))
    if not proxy:
        raise LookupError(f"no proxy for {url.host}, or NO_PROXY exempts it")
    proxy_url = URL(proxy)
    auth = aiohttp.BasicAuth(proxy_url.user or "", proxy_url.password or "") if proxy_url.user else None
    return proxy_url.with_user(None), auth


def asset_state_accessors(store: Any) -> Iterable[Any]:
    """Each watched asset's state accessor in an event trigger's store (3.3, AIP-103), which has no public listing."""
    if not (hasattr(store, "_by_name") or hasattr(store, "_by_uri")):
        _changed("The asset state store's _by_name/_by_uri",
                 "watchers keep no watermark: runs that finish while no triggerer runs are not announced")  # fmt: skip
        return []
    return [accessor for by in ("_by_name", "_by_uri") for accessor in getattr(store, by, {}).values()]


def supervisor_comms() -> Any:
    """A trigger's channel to the triggerer's supervisor (task SDK), to ask its task's state;
    :class:`InternalsChangedError` when there is none (the caller then leaves the run as it is)."""
    from airflow.sdk.execution_time import task_runner

    declared = hasattr(task_runner, "SUPERVISOR_COMMS") or "SUPERVISOR_COMMS" in vars(task_runner).get(
        "__annotations__", {}
    )
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if comms is None and declared:
        raise InternalsChangedError("no triggerer supervisor in this process")  # the triggerer sets it
    if not callable(getattr(comms, "asend", None)):
        _changed("The task SDK's SUPERVISOR_COMMS.asend",
                 "a trigger cancelled before Airflow 3.3 cannot tell a killed task from a stopping triggerer, "
                 "so it never aborts the run")  # fmt: skip
        raise InternalsChangedError("the task SDK offers no SUPERVISOR_COMMS.asend")
    return comms
