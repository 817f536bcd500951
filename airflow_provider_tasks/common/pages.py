"""Cheap checks on a page of items before it reaches a file, and JSON Lines pages kept off the heap.

A ``200`` is not proof of data: a proxy may answer with its own HTML page, and a connection cut
by a middlebox can leave a well-formed but shorter body. Each check here raises
:class:`MalformedResponseError`, which the hook's retry policy retries like a 5xx; when retries run
out the task fails and the partial file is never renamed into place.

JSON Lines pages are written to the output unparsed (the fast path), so they are spooled while they
arrive: counted newline by newline into a :class:`tempfile.SpooledTemporaryFile` that stays in
memory up to :data:`SPOOL_MEMORY` and moves to disk beyond it. Memory is bounded whatever the
page's byte size, and a page reaches the file only after it passed its checks.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping

from airflow_provider_tasks.common.errors import MalformedResponseError

SPOOL_MEMORY = 8 * 1024 * 1024
"""Bytes of a JSON Lines page kept in memory before the spool moves to a temporary file."""

BLOCK = 1024 * 1024
"""Bytes per block when a spooled page is copied to the output."""


def require_json_media(headers: Mapping[str, str], what: str) -> None:
    """Refuse a body whose ``Content-Type`` is not a JSON type (``application/json``, ``…jsonl``,
    ``…x-ndjson``): typically a proxy's or captive portal's HTML page answered with ``200``."""
    media = headers.get("content-type", "")
    if "json" not in media.split(";", 1)[0].lower():
        raise MalformedResponseError(
            f"{what}: expected a JSON answer, got Content-Type {media or 'none'!r} "
            "(a proxy or gateway page instead of the platform's data?)"
        )


class SpooledPage:
    """A checked JSON Lines page: ``lines`` complete lines, the last one ending in a newline."""

    def __init__(self, spool: tempfile.SpooledTemporaryFile[bytes], lines: int) -> None:
        self._spool = spool
        self.lines = lines

    def blocks(self, size: int = BLOCK) -> Iterator[bytes]:
        """The page's bytes from the start, ``size`` at a time; closes the spool when done."""
        with self._spool:
            self._spool.seek(0)
            while block := self._spool.read(size):
                yield block

    def close(self) -> None:
        self._spool.close()


def spool_jsonl(
    headers: Mapping[str, str], chunks: Iterable[bytes], *, expected_lines: int | None, what: str
) -> SpooledPage:
    """Spool a JSON Lines body while counting its lines, then check it.

    Refused (:class:`MalformedResponseError`): a non-JSON ``Content-Type``; a last line without
    its newline that is not a complete JSON document (a tail cut mid-line; a complete one gets its
    newline added); a line count other than ``expected_lines`` (the platform's own count of the
    page, when it sends one).
    """
    require_json_media(headers, what)
    spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(SPOOL_MEMORY)
    try:
        size = lines = 0
        line_start = 0  # offset of the first byte after the last newline seen
        last = b""
        for chunk in chunks:
            if not chunk:
                continue
            spool.write(chunk)
            newlines = chunk.count(b"\n")
            if newlines:
                lines += newlines
                line_start = size + chunk.rindex(b"\n") + 1
            size += len(chunk)
            last = chunk
        if size and not last.endswith(b"\n"):
            spool.seek(line_start)
            _require_complete_line(spool.read(), what)
            spool.seek(0, 2)
            spool.write(b"\n")
            lines += 1
        if expected_lines is not None and lines != expected_lines:
            raise MalformedResponseError(
                f"{what}: the page holds {lines} lines but the platform counted {expected_lines} items "
                "(a cut or padded body)"
            )
        return SpooledPage(spool, lines)
    except BaseException:
        spool.close()
        raise


def _require_complete_line(tail: bytes, what: str) -> None:
    try:
        json.loads(tail)
    except ValueError:
        preview = tail[-60:].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"{what}: the body ends in the middle of a line (…{preview!r}): the page was cut short"
        ) from None
