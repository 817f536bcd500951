"""An answer read as the server writes it, for as long as it writes (a followed run log), that
another thread can end: :meth:`OpenStream.abort` shuts the socket down, so a read waiting for the
server's next chunk returns at once instead of holding a thread until the server writes again.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.bodies import streamed_head, sync_chunks
from airflow_provider_tasks.common.errors import TransportError
from airflow_provider_tasks.common.log_lines import iter_lines
from airflow_provider_tasks.common.sansio import ApiRequest, ApiResponse

if TYPE_CHECKING:
    import requests

CHUNK = 16 * 1024
"""Bytes asked for at a time: a read returns what has arrived, so small writes come through at once."""


class OpenStream:
    """The head of an answer (an error status has raised already) and its body as it arrives.

    Call :meth:`close` when done with it; :meth:`abort` may be called from any thread.
    """

    def __init__(
        self,
        raw: requests.Response,
        request: ApiRequest,
        deadline: float,
        total: float,
        check: Callable[[ApiRequest, ApiResponse], ApiResponse],
    ) -> None:
        self._raw, self._request, self._deadline, self._total = raw, request, deadline, total
        self._lock = threading.Lock()
        self._aborted = False
        try:
            self.head = streamed_head(raw, request, deadline, total, check)
        except BaseException:
            raw.close()
            raise

    def chunks(self) -> Iterator[bytes]:
        """The body, a chunk as soon as it arrives, until the server ends it (or :meth:`abort`:
        then the iterator just ends). The request's whole timeout still bounds it."""
        try:
            yield from sync_chunks(self._raw, self._request, self._deadline, self._total, CHUNK)
        except TransportError:
            if not self._aborted:
                raise

    def abort(self) -> None:
        """End the answer from any thread: a read waiting for the next chunk returns at once."""
        with self._lock:
            if self._aborted:
                return
            self._aborted = True
        sock: Any = getattr(getattr(self._raw.raw, "connection", None), "sock", None)
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._raw.close()


class StreamedLines:
    """The lines of an :class:`OpenStream` (see :class:`~.log_lines.LineSplitter`), each as soon
    as it is complete; :meth:`abort` ends them from another thread. Closes the stream at the end of
    a ``with`` block."""

    def __init__(self, stream: OpenStream, max_line_chars: int) -> None:
        self.stream = stream
        self.max_line_chars = max_line_chars

    def __iter__(self) -> Iterator[str]:
        return iter_lines(self.stream.chunks(), self.max_line_chars)

    def abort(self) -> None:
        self.stream.abort()

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> StreamedLines:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
