"""A remote run's log as lines, sans-IO: split from bytes as they arrive, tailed, made safe to show.

Memory stays bounded whatever the log holds: a line keeps at most ``max_chars`` characters (the
rest is counted, not kept) and a tail keeps only its last ``n`` lines while the text streams by.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import accumulate

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def cut_note(more: int) -> str:
    """What ends a line that was cut: how many characters were left out."""
    return f" … [{more} more characters]"


class LineSplitter:
    """Bytes in, complete lines out (``\\n`` or ``\\r\\n`` ends a line; UTF-8, a bad byte is ``�``).

    Each line keeps at most ``max_chars`` characters; a longer one ends in :func:`cut_note`.
    """

    def __init__(self, max_chars: int) -> None:
        if max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        self.max_chars = max_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._kept: list[str] = []
        self._kept_chars = 0
        self._more = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The lines ``chunk`` completes."""
        return self._split(self._decoder.decode(chunk))

    def end(self) -> list[str]:
        """The last line when the text does not end in a newline (call once, at the end)."""
        lines = self._split(self._decoder.decode(b"", final=True))
        return [*lines, self._take("")] if self._kept or self._more else lines

    def _split(self, text: str) -> list[str]:
        *complete, rest = text.split("\n")
        lines = [self._take(part) for part in complete]
        self._add(rest)
        return lines

    def _add(self, part: str) -> None:
        room = max(self.max_chars - self._kept_chars, 0)
        self._more += max(len(part) - room, 0)
        if part := part[:room]:
            self._kept.append(part)
            self._kept_chars += len(part)

    def _take(self, last: str) -> str:
        """The line that ``last`` ends."""
        self._add(last)
        line = "".join(self._kept)
        if self._more:
            line += cut_note(self._more)
        elif line.endswith("\r"):
            line = line[:-1]
        self._kept, self._kept_chars, self._more = [], 0, 0
        return line


def iter_lines(chunks: Iterable[bytes], max_chars: int) -> Iterator[str]:
    """The lines of a byte stream, each as soon as it is complete."""
    splitter = LineSplitter(max_chars)
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.end()


def tail(chunks: Iterable[bytes], count: int, max_chars: int) -> list[str]:
    """The last ``count`` lines of a byte stream, holding no more than that many while it reads."""
    return list(deque(iter_lines(chunks, max_chars), maxlen=count)) if count > 0 else []


def safe_line(line: str, secrets: Iterable[str], max_chars: int) -> str:
    """``line`` fit for a task log: no terminal control sequences (colours, carriage returns that
    would overwrite what came before), each secret replaced with ``***`` (before it is cut, so no
    part of a secret is left at the cut), at most ``max_chars`` characters before the :func:`cut_note`."""
    line = _CONTROL.sub("", _ANSI.sub("", line)).expandtabs(4)
    for secret in filter(None, secrets):
        line = line.replace(secret, "***")
    if len(line) > max_chars:
        line = line[:max_chars] + cut_note(len(line) - max_chars)
    return line


def last_within(lines: list[str], max_total: int) -> tuple[list[str], int]:
    """The longest run of last ``lines`` whose characters add up to at most ``max_total`` (at least
    the last line), and how many earlier lines were left out."""
    totals = accumulate(len(line) for line in reversed(lines))
    left_out = len(lines) - max(sum(total <= max_total for total in totals), min(len(lines), 1))
    return lines[left_out:], left_out
