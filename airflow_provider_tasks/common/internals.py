"""Every use of another project's private API, in one place, each guarded.

The provider reaches into other projects where no public API does the job. Each reach is here,
and each falls back to public behaviour with a warning (once per process) when the other project
changed it, instead of breaking or silently doing less. ``tests/unit/test_internals.py`` asserts
that every one of them is still there on the installed versions, so the CI matrix names the
Airflow line, Python or aiohttp release that drops one.

==========================================  ===============================  ========================
what                                          used for                         without it
==========================================  ===============================  ========================
aiohttp ``TCPConnector._create_connection``   pacing TLS handshakes, small     a plain ``TCPConnector``
                                              TLS read buffers (triggerer)
asyncio ``SSLProtocol._ssl_buffer``           the 4 KiB TLS read buffer        asyncio's 256 KiB buffer
aiohttp ``helpers.get_env_proxy_for_url``     the environment's proxy, read    the proxy rules of
                                              once per shared session          ``requests`` (sync path)
Airflow asset state store ``_by_name`` /      the watchers' watermark          no watermark is kept
``_by_uri`` (3.3)
Airflow task SDK ``SUPERVISOR_COMMS``         a cancelled trigger reads its    the run is left running
(3.0+)                                        task's state (before 3.3)
==========================================  ===============================  ========================
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

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


# -- aiohttp and asyncio: the triggerer's shared sessions --------------------------------------


def shrink_tls_read_buffer(transport: Any, size: int = TLS_READ_BUFFER) -> bool:
    """Cut the read buffer of asyncio's TLS protocol under ``transport`` to ``size`` bytes; False
    when there is none to cut (plain TCP, or a Python whose TLS layer has no preallocated buffer).

    From Python 3.11 asyncio's ``SSLProtocol`` gives every connection a 256 KiB zero-filled (so
    resident) read buffer: 10,000 waiting runs held 2.6 GB for buffers that each carry a 2 KB run
    object. Safe between reads: the protocol hands its buffer to the socket and takes the bytes
    back within one callback of the event loop, never across an ``await``."""
    protocol: Any = getattr(transport, "_ssl_protocol", None)
    buffer = getattr(protocol, "_ssl_buffer", None)
    if not isinstance(buffer, bytearray) or len(buffer) <= size or not hasattr(protocol, "_ssl_buffer_view"):
        return False
    protocol.max_size = size  # get_buffer() never grows it past this again
    protocol._ssl_buffer = bytearray(size)
    protocol._ssl_buffer_view = memoryview(protocol._ssl_buffer)
    return True


class LeanConnector(aiohttp.TCPConnector):
    """``aiohttp.TCPConnector`` that makes at most :data:`CONCURRENT_CONNECTS` connections at a
    time (a triggerer taking over thousands of triggers opens as many at once) and cuts each one's
    TLS read buffer (:func:`shrink_tls_read_buffer`)."""

    def __init__(self, *args: Any, concurrent_connects: int = CONCURRENT_CONNECTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connects = asyncio.Semaphore(concurrent_connects)

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        async with self._connects:
            protocol = await super()._create_connection(*args, **kwargs)
        shrink_tls_read_buffer(getattr(protocol, "transport", None))
        return protocol


def shared_connector(**kwargs: Any) -> aiohttp.TCPConnector:
    """The connector of a triggerer's shared session: a :class:`LeanConnector` where aiohttp's
    ``TCPConnector`` still makes its connections in ``_create_connection``, else aiohttp's own."""
    if callable(vars(aiohttp.TCPConnector).get("_create_connection")):
        return LeanConnector(**kwargs)
    _changed("aiohttp's TCPConnector._create_connection",
             "TLS handshakes are not paced and each connection keeps a 256 KiB read buffer")  # fmt: skip
    return aiohttp.TCPConnector(**kwargs)


def env_proxy_for_url(url: Any) -> tuple[Any, aiohttp.BasicAuth | None]:
    """The proxy URL and credentials the environment names for ``url`` (a ``yarl.URL``), as
    ``requests`` reads them on the sync path; raises LookupError when there is none (no proxy for
    the scheme, or ``NO_PROXY`` exempts the host). aiohttp's own function also reads ``~/.netrc``
    for the proxy's credentials; the fallback takes them from the proxy URL only."""
    try:
        from aiohttp.helpers import get_env_proxy_for_url
    except ImportError:
        _changed("aiohttp.helpers.get_env_proxy_for_url",
                 "the proxy is read with requests' rules, without ~/.netrc credentials")  # fmt: skip
        return _requests_proxy_for_url(url)
    found: tuple[Any, aiohttp.BasicAuth | None] = get_env_proxy_for_url(url)
    return found


def _requests_proxy_for_url(url: Any) -> tuple[Any, aiohttp.BasicAuth | None]:
    """The same answer from the rules ``requests`` applies on the sync path (``NO_PROXY``
    included), so both paths go through the same proxy."""
    from requests.utils import get_environ_proxies, select_proxy
    from yarl import URL

    proxy = select_proxy(str(url), get_environ_proxies(str(url)))
    if not proxy:
        raise LookupError(f"no proxy for {url.host}, or NO_PROXY exempts it")
    proxy_url = URL(proxy)
    auth = aiohttp.BasicAuth(proxy_url.user or "", proxy_url.password or "") if proxy_url.user else None
    return proxy_url.with_user(None), auth


# -- Airflow ----------------------------------------------------------------------------------


def asset_state_accessors(store: Any) -> Iterable[Any]:
    """Each watched asset's state accessor in an event trigger's asset state store (Airflow 3.3,
    AIP-103): a watcher's trigger may serve several assets with identical watchers, for which
    Airflow keeps one trigger. The store offers no public way to list them."""
    if not (hasattr(store, "_by_name") or hasattr(store, "_by_uri")):
        _changed("The asset state store's _by_name/_by_uri",
                 "watchers keep no watermark: runs that finish while no triggerer runs are not announced")  # fmt: skip
        return []
    by_name: Mapping[str, Any] = getattr(store, "_by_name", {})
    by_uri: Mapping[str, Any] = getattr(store, "_by_uri", {})
    return [*by_name.values(), *by_uri.values()]


def supervisor_comms() -> Any:
    """The channel from a trigger to its triggerer's supervisor (Airflow 3 task SDK), through
    which a trigger asks for its task instance's state; :class:`InternalsChangedError` when the
    task SDK has none (the caller then leaves the run as it is)."""
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
