"""TLS for both transports: one meaning of the extra ``verify`` (``connection.Verify``), one TLS error message."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_tasks.common.errors import TlsError


def aiohttp_ssl(verify: bool | str) -> ssl.SSLContext | bool:
    """What ``aiohttp.TCPConnector(ssl=...)`` needs for ``verify``."""
    return verify if isinstance(verify, bool) else _context_for(verify)


@lru_cache(maxsize=32)
def _context_for(path: str) -> ssl.SSLContext:
    return ssl.create_default_context(capath=path) if os.path.isdir(path) else ssl.create_default_context(cafile=path)


def causes(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and every exception behind it (causes, contexts, ``reason`` and ``args`` of library errors)."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        pending.extend(getattr(current, "args", ()))


def find_ssl_error(error: BaseException | None) -> ssl.SSLError | None:
    """The :class:`ssl.SSLError` behind a library's exception, if any."""
    return next((cause for cause in causes(error) if isinstance(cause, ssl.SSLError)), None)


def tls_error(method: str, path: str, base_url: str, error: BaseException) -> TlsError:
    """A :class:`TlsError` naming the host and the TLS reason (never the URL's query or headers)."""
    host = urlsplit(base_url).netloc or base_url
    cause = find_ssl_error(error)
    said = cause and (getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause))
    reason = str(said or type(error).__name__)[:200]
    certificate = "certificate" in reason.lower() or isinstance(cause, ssl.SSLCertVerificationError)
    kind = "TLS certificate problem" if certificate else "TLS problem"
    return TlsError(
        f"{method} {path} failed: {kind} with {host}: {reason}. If a proxy re-signs TLS, set the "
        "connection extra 'verify' to its CA bundle path (or 'false' to skip verification, not "
        "recommended)"
    )
