"""The connector of the triggerer's shared aiohttp sessions: lean TLS connections, paced handshakes.

Loaded with the first shared session (never when a DAG file is parsed). Two things a triggerer that
holds thousands of HTTPS long-polls open needs, and aiohttp's ``TCPConnector`` does not do:

* **Memory.** From Python 3.11 asyncio's TLS layer (``asyncio.sslproto.SSLProtocol``) gives every
  connection a 256 KiB read buffer, zero-filled, so resident: 10,000 waiting runs held 2.6 GB for
  buffers that each carry a 2 KB run object. Once a connection is made its buffer is cut to
  :data:`TLS_READ_BUFFER` (reads of larger answers simply take more turns). Where the running
  Python's TLS layer has no such buffer (3.10), nothing is changed.
* **Bursts.** A triggerer that starts (or takes over) thousands of triggers opens as many
  connections at once; at most :data:`CONCURRENT_CONNECTS` TLS handshakes run at a time, which
  bounds the memory of the buffers not yet cut and keeps the event loop responsive.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

TLS_READ_BUFFER = 4096
"""Bytes of the per-connection TLS read buffer once connected (asyncio's default: 256 KiB)."""

CONCURRENT_CONNECTS = 128
"""New connections (TCP connect plus TLS handshake) made at the same time, per session."""


def shrink_tls_read_buffer(transport: Any, size: int = TLS_READ_BUFFER) -> bool:
    """Cut the read buffer of asyncio's TLS protocol under ``transport`` to ``size`` bytes; False
    when there is none to cut (plain TCP, or a Python whose TLS layer has no preallocated buffer).

    Safe between reads: the protocol hands its buffer to the socket and takes the bytes back within
    one callback of the event loop, never across an ``await``."""
    protocol: Any = getattr(transport, "_ssl_protocol", None)
    buffer = getattr(protocol, "_ssl_buffer", None)
    if not isinstance(buffer, bytearray) or len(buffer) <= size or not hasattr(protocol, "_ssl_buffer_view"):
        return False
    protocol.max_size = size  # get_buffer() never grows it past this again
    protocol._ssl_buffer = bytearray(size)
    protocol._ssl_buffer_view = memoryview(protocol._ssl_buffer)
    return True


class LeanConnector(aiohttp.TCPConnector):
    """``aiohttp.TCPConnector`` that paces new connections and cuts their TLS read buffers."""

    def __init__(self, *args: Any, concurrent_connects: int = CONCURRENT_CONNECTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connects = asyncio.Semaphore(concurrent_connects)

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        async with self._connects:
            protocol = await super()._create_connection(*args, **kwargs)
        shrink_tls_read_buffer(getattr(protocol, "transport", None))
        return protocol
