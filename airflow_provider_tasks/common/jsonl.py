"""JSON Lines pages: spooled off the heap as they arrive, checked, then copied or parsed.

A ``200`` is not proof of data: a proxy may answer with its own HTML page, and a middlebox may cut
a body short. Each check raises :class:`MalformedResponseError`, retried like a 5xx; a page reaches
the file only after it passed, and a failed download never renames its partial file into place.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import IO, Any

from airflow_provider_tasks.common.errors import MalformedResponseError

SPOOL_MEMORY = 8 * 1024 * 1024
"""Bytes of a JSON Lines page kept in memory before the spool moves to a temporary file."""

BLOCK = 1024 * 1024
"""Bytes per block when a spooled page is copied to the output."""


class SpooledPage:
    """A JSON Lines page in memory up to :data:`SPOOL_MEMORY`, in a temporary file beyond."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._file: IO[bytes] | None = None
        self.size = 0
        self.lines = 0

    def write(self, chunk: bytes) -> None:
        if self._file is None and self.size + len(chunk) > SPOOL_MEMORY:
            self._file = tempfile.TemporaryFile()
            self._file.writelines(self._parts)
            self._parts = []
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._parts.append(chunk)
        self.size += len(chunk)

    def blocks(self, size: int = BLOCK) -> Iterator[bytes]:
        """The page's bytes from the start; the page is released when done or abandoned."""
        try:
            if self._file is None:
                yield from self._parts
            else:
                self._file.seek(0)
                while block := self._file.read(size):
                    yield block
        finally:
            self.close()

    def close(self) -> None:
        self._parts = []
        if self._file is not None:
            self._file.close()


def spool_jsonl(
    headers: Mapping[str, str], chunks: Iterable[bytes], *, expected_lines: int | None, what: str
) -> SpooledPage:
    """Spool a JSON Lines body while counting its lines, then check it: refused are a non-JSON
    ``Content-Type`` (typically a proxy's HTML page), a last line cut mid-document, and a count
    other than ``expected_lines``."""
    media = headers.get("content-type", "")
    if "json" not in media.split(";", 1)[0].lower():
        raise MalformedResponseError(
            f"{what}: expected a JSON answer, got Content-Type {media or 'none'!r} "
            "(a proxy or gateway page instead of the platform's data?)"
        )
    page = SpooledPage()
    try:
        last_line: list[bytes] = []  # the bytes after the last newline seen
        for chunk in chunks:
            if not chunk:
                continue
            page.write(chunk)
            if newlines := chunk.count(b"\n"):
                page.lines += newlines
                last_line = [chunk[chunk.rindex(b"\n") + 1 :]]
            else:
                last_line.append(chunk)
        if unterminated := b"".join(last_line):
            _require_complete_line(unterminated, what)
            page.write(b"\n")
            page.lines += 1
        if expected_lines is not None and page.lines != expected_lines:
            raise MalformedResponseError(
                f"{what}: the page holds {page.lines} lines but the platform counted {expected_lines} items "
                "(a cut or padded body)"
            )
        return page
    except BaseException:
        page.close()
        raise


def _require_complete_line(tail: bytes, what: str) -> None:
    try:
        json.loads(tail)
    except ValueError:
        preview = tail[-60:].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"{what}: the body ends in the middle of a line (…{preview!r}): the page was cut short"
        ) from None


def jsonl_items(blocks: Iterable[bytes], what: str) -> Iterator[Any]:
    """The items of checked JSON Lines blocks (a line may span blocks); a line that is not JSON is
    a :class:`MalformedResponseError` naming its position."""
    rest = b""
    number = 0
    for block in blocks:
        lines = (rest + block).split(b"\n") if rest else block.split(b"\n")
        rest = lines.pop()
        yield from _parse_lines(lines, number, what)
        number += len(lines)
    if rest.strip():
        yield _parse_line(rest, number + 1, what)


def _parse_lines(lines: list[bytes], before: int, what: str) -> list[Any]:
    """The block's lines parsed as one JSON array (one C call); line by line only to name a bad one."""
    present = [line for line in lines if line.strip()]
    if not present:
        return []
    try:
        items: list[Any] = json.loads(b"[" + b",".join(present) + b"]")
        if len(items) == len(present):
            return items
    except ValueError:
        pass
    return [_parse_line(line, before + n, what) for n, line in enumerate(lines, start=1) if line.strip()]


def _parse_line(line: bytes, number: int, what: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        preview = line[:60].decode("utf-8", "replace")
        raise MalformedResponseError(f"{what}: line {number} is not JSON ({preview!r}…)") from None


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items (``itertools.batched`` is Python 3.12+)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
