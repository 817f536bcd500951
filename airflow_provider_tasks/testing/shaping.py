"""Fault switches that reshape how a handler's answer travels: ``drip``, ``oversized`` and ``cut``.

Both write the answer themselves (a prepared ``StreamResponse``), so the middleware returns it
as is. A client that gives up half-way (a deadline, a size cap) just ends the write.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

from aiohttp import web

from airflow_provider_tasks.testing.faults import FaultRule

_PAD_CHUNK = 1024 * 1024
_SKIPPED_HEADERS = ("content-length", "transfer-encoding", "content-encoding")


async def _collected(response: web.StreamResponse) -> bytes:
    """The handler's body, a streamed one collected first."""
    body = response.body if isinstance(response, web.Response) else None
    if body is not None and not isinstance(body, (bytes, bytearray)):
        collected = bytearray()
        async for chunk in body._iter:  # aiohttp's AsyncIterablePayload
            collected += chunk
        return bytes(collected)
    return bytes(body) if isinstance(body, (bytes, bytearray)) else b""


def _copy_head(response: web.StreamResponse) -> web.StreamResponse:
    out = web.StreamResponse(status=response.status, reason=response.reason)
    for key, value in response.headers.items():
        if key.lower() not in _SKIPPED_HEADERS:
            out.headers[key] = value
    return out


async def shaped(request: web.Request, response: web.StreamResponse, rule: FaultRule) -> web.StreamResponse:
    """Send ``response`` as ``rule`` says (``drip``, ``oversized`` or ``cut``)."""
    body = await _collected(response)
    out = _copy_head(response)
    with suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
        if rule.kind == "cut":
            out.content_length = len(body)
            await out.prepare(request)
            await out.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.close()  # what was written is flushed, the rest never comes
            return out
        if rule.kind == "drip":
            out.content_length = len(body)
            await out.prepare(request)
            interval = rule.seconds or 0.1
            for index in range(len(body)):
                await out.write(body[index : index + 1])
                await asyncio.sleep(interval)
        else:
            await _send_padded(request, out, body, int(rule.size or 0), rule.chunked)
        await out.write_eof()
    return out


async def _send_padded(request: web.Request, out: web.StreamResponse, body: bytes, size: int, chunked: bool) -> None:
    """``{"padding": "xxx…", <the original object's fields>}`` of about ``size`` bytes, written a
    MiB at a time (the emulator never holds it whole)."""
    head = b'{"padding":"'
    tail = b'",' + body[1:] if body.startswith(b"{") and len(body) > 2 else b'"}'
    pad = max(0, size - len(head) - len(tail))
    if chunked:
        out.enable_chunked_encoding()
    else:
        out.content_length = len(head) + pad + len(tail)
    await out.prepare(request)
    await out.write(head)
    block = b"x" * _PAD_CHUNK
    while pad > 0:
        piece = block if pad >= _PAD_CHUNK else block[:pad]
        await out.write(piece)
        pad -= len(piece)
    await out.write(tail)
