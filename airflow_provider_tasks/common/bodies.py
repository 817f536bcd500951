"""Reading an answer's body in bounded memory and time, for both transports.

The sync path enforces the whole deadline while the body arrives: ``requests``' timeout is per socket read, so a
server dripping a byte at a time could hold a call far past it (aiohttp's total timeout covers body reads).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from airflow_provider_tasks.common.blobs import CappedBody, announced_length
from airflow_provider_tasks.common.errors import ResponseTooLargeError, TransportError
from airflow_provider_tasks.common.sansio import ApiRequest, ApiResponse

if TYPE_CHECKING:
    import aiohttp
    import requests

CHUNK = 64 * 1024


def response_of(status: int, headers: Mapping[str, str], body: bytes = b"") -> ApiResponse:
    """An HTTP client's answer as an :class:`ApiResponse` (header names lower-cased)."""
    return ApiResponse(status, {name.lower(): value for name, value in headers.items()}, body)


def streamed_head(
    raw: requests.Response,
    request: ApiRequest,
    deadline: float,
    total: float,
    check: Callable[[ApiRequest, ApiResponse], ApiResponse],
) -> ApiResponse:
    """The head of an answer whose body is read later, as it arrives; an error status raises here,
    through ``check``, with the first :data:`CHUNK` bytes of its body (the platform's error)."""
    head = response_of(raw.status_code, raw.headers)
    if not head.ok:
        first = next(sync_chunks(raw, request, deadline, total, CHUNK), b"")
        check(request, ApiResponse(head.status, head.headers, first))
    return head


def too_large(request: ApiRequest, limit: int, size: int | None, platform: str) -> ResponseTooLargeError:
    said = f"announces {_mib(size)}" if size is not None else f"passed {_mib(limit)} and was still going"
    return ResponseTooLargeError(
        f"{platform} answered {request.method} {request.path} with a body that {said}, over the "
        f"{_mib(limit)} cap for one API answer; not read (set ApiRequest.max_body for a larger answer)"
    )


def deadline_passed(request: ApiRequest, seconds: float) -> TransportError:
    return TransportError(
        f"{request.method} {request.path} timed out after the request was sent: no complete answer "
        f"within {seconds:g} s (a deadline for the whole request, body included)",
        request_sent=True,
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def read_sync(
    raw: requests.Response, request: ApiRequest, limit: int, deadline: float, total: float, platform: str
) -> bytes:
    """The body of a ``stream=True`` response within ``limit`` bytes and by ``deadline``; closed on failure."""
    try:
        announced = announced_length(raw.headers.get("content-length"))
        body = CappedBody(limit, announced, lambda size: too_large(request, limit, size, platform))
        for chunk in sync_chunks(raw, request, deadline, total, CHUNK):
            body.add(chunk)
        return body.joined()
    except BaseException:
        raw.close()
        raise


def sync_chunks(
    raw: requests.Response, request: ApiRequest, deadline: float, total: float, size: int
) -> Iterator[bytes]:
    """The body in chunks of up to ``size`` bytes as it arrives, failing once ``deadline`` has passed."""
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error

    stream = raw.raw
    sock = getattr(getattr(stream, "connection", None), "sock", None)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise deadline_passed(request, total)
        if sock is not None:
            sock.settimeout(remaining)  # one recv may not outlast the whole deadline
        try:
            chunk = stream.read1(size, decode_content=True)
        except (Urllib3Error, requests.RequestException, OSError) as error:
            if time.monotonic() >= deadline:
                raise deadline_passed(request, total) from None
            raise TransportError(
                f"{request.method} {request.path} failed while reading the answer: {type(error).__name__}",
                request_sent=True,
            ) from None
        if not chunk:
            return
        yield chunk


async def read_async(raw: aiohttp.ClientResponse, request: ApiRequest, limit: int, platform: str) -> bytes:
    """The body of an aiohttp response within ``limit`` bytes; the connection is dropped on failure."""
    try:
        body = CappedBody(limit, raw.content_length, lambda size: too_large(request, limit, size, platform))
        while chunk := await raw.content.read(CHUNK):
            body.add(chunk)
        return body.joined()
    except BaseException:
        raw.close()
        raise
