"""Opaque bodies (a key-value store record, a file): copied chunk by chunk, checked against what the
server announced, never parsed. Sans-IO: the transport hands over the head and the chunks.

A body is whole only if the bytes that arrived are as many as its ``Content-Length`` announced.
A connection cut mid-body usually surfaces as a read error in the HTTP client; this check is the
second line that makes a short body a :class:`MalformedResponseError` (retried like a 5xx) instead
of a file that looks complete. With a ``Content-Encoding`` (gzip …) the announced length is that of
the encoded body, which the client inflates as it reads, so it cannot be compared and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_tasks.common.errors import MalformedResponseError


@dataclass(frozen=True)
class BodyHead:
    """What a body's headers say of it: its media type and the length it must have."""

    content_type: str | None
    content_length: int | None
    """Bytes the body must have as the client delivers it; None when not announced or encoded."""

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> BodyHead:
        """From response headers with lower-cased names."""
        encoding = headers.get("content-encoding", "").strip().lower()
        length = announced_length(headers.get("content-length")) if encoding in ("", "identity") else None
        return cls(headers.get("content-type") or None, length)

    @property
    def is_json(self) -> bool:
        """``application/json`` or any ``…+json`` type (parameters such as ``charset`` aside)."""
        media = (self.content_type or "").split(";", 1)[0].strip().lower()
        return media == "application/json" or media.endswith("+json")


class CappedBody:
    """A body kept in memory, refused as soon as it passes ``limit`` bytes, at once when its announced
    length already does: ``too_large`` makes the error from that length (None: still arriving)."""

    def __init__(self, limit: int, announced: int | None, too_large: Callable[[int | None], Exception]) -> None:
        self.limit, self.too_large = limit, too_large
        self.chunks: list[bytes] = []
        self.size = 0
        if announced is not None and announced > limit:
            raise too_large(announced)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.too_large(None)
        self.chunks.append(chunk)

    def joined(self) -> bytes:
        return b"".join(self.chunks)


def copy_body(head: BodyHead, chunks: Iterable[bytes], write: Callable[[bytes], Any], *, what: str) -> int:
    """Hand every chunk to ``write`` and return the byte count; :class:`MalformedResponseError` when it
    differs from the announced ``Content-Length`` (``what`` names the body in the message)."""
    size = 0
    for chunk in chunks:
        if chunk:
            write(chunk)
            size += len(chunk)
    return check_length(head, size, what=what)


def check_length(head: BodyHead, size: int, *, what: str) -> int:
    """``size``, the bytes that arrived, unless it differs from the announced ``Content-Length``:
    then a :class:`MalformedResponseError` (``what`` names the body in the message)."""
    if head.content_length is not None and size != head.content_length:
        raise MalformedResponseError(
            f"{what}: received {size} bytes but Content-Length announced {head.content_length} "
            "(the body was cut or padded on the way)"
        )
    return size


def announced_length(value: str | None) -> int | None:
    """A ``Content-Length`` header's value as a number of bytes; None when absent or not one."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number >= 0 else None
