"""Reading an Airflow connection safely, before any request: the token, the TLS setting and the scheme.

A token that cannot travel in a header is a :class:`ConfigurationError` naming the connection, never the token:
neither echoed by an HTTP library nor retried as a network failure.
"""

from __future__ import annotations

import ipaddress
import os
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_tasks.common.errors import ConfigurationError

Verify = bool | str
"""TLS verification: True (the default trust store), False (no verification) or a CA bundle path."""

_FALSE = {"false", "0", "no", "off"}
_TRUE = {"true", "1", "yes", "on", ""}


NO_TOKEN = " has no API token: put it in the connection's password field"
"""The message after the connection's name when it holds no token (the hook's Test-button hint keys on it)."""


def clean_token(conn_id: str, token: str | None) -> tuple[str, bool]:
    """The token stripped of surrounding whitespace, and whether anything was; a :class:`ConfigurationError` for
    anything else that cannot be sent in a header."""
    stripped = (token or "").strip()
    complaint = _token_complaint(token, stripped)
    if complaint is None:
        return stripped, stripped != token
    # Airflow 3.0's tracebacks show frame variables, where the secrets masker misses a token repr() escaped.
    del token, stripped
    raise ConfigurationError(f"connection {conn_id!r}{complaint}")


def _token_complaint(token: str | None, stripped: str) -> str | None:
    """What is wrong with the token (the rest of the error message), or None."""
    if not token:
        return NO_TOKEN
    if not stripped:
        return ": the API token is only whitespace"
    for position, char in enumerate(stripped, start=1):
        if problem := _header_problem(char):
            return (
                f": the API token contains {problem} (character {position} of {len(stripped)}), which cannot "
                "be sent in an HTTP header; paste the token again"
            )
    return None


def _header_problem(char: str) -> str | None:
    if char in "\r\n":
        return "a line break"
    if char.isspace():
        return "whitespace"
    if unicodedata.category(char) == "Cc":
        return "a control character"
    if ord(char) > 0xFF:
        return "a non-latin-1 character"
    return None


def verify_of(conn_id: str, extra: dict[str, Any], conn_type: str = "") -> Verify:
    """The extra ``verify`` (or the form's ``extra__<conn_type>__verify``): absent, empty or true → True;
    ``false`` → False; else an existing CA bundle file or directory."""
    value = extra.get("verify", extra.get(f"extra__{conn_type}__verify", True))
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(
            f"connection {conn_id!r}: extra 'verify' must be true, false or a CA bundle path, got {value!r}"
        )
    text = value.strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    path = os.path.expanduser(text)
    if not os.path.exists(path):
        raise ConfigurationError(
            f"connection {conn_id!r}: extra 'verify' names a CA bundle that does not exist: {path!r}"
        )
    return path


def extra_of(conn: Any) -> dict[str, Any]:
    """The connection's extra as a dict (empty when unset or not a JSON object)."""
    try:
        extra = conn.extra_dejson
    except Exception:  # a broken extra is reported by Airflow itself
        return {}
    return extra if isinstance(extra, dict) else {}


def is_plain_http_to_remote(base_url: str) -> bool:
    """True for ``http://`` to anything but a loopback address (the token would travel in clear)."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def base_url_of(conn: Any, default: str) -> str:
    """The base URL a connection points at: its host as a full URL, host+port, or the default."""
    host = (conn.host or "").strip()
    if not host:
        return default
    if "://" in host:
        return host.rstrip("/")
    scheme = conn.schema or "https"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}"
