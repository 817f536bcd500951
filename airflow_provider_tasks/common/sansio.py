"""Sans-IO request and response values, and the contract a platform's ``api`` module fulfils.

Only the transports in ``http.py`` do I/O, so the sync and async paths and the unit tests share every platform fact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tasks.common.errors import ApiError, MalformedResponseError, error_class_for

DEFAULT_TIMEOUT = 30.0
"""Seconds a request may take when neither it nor the hook says otherwise."""

DEFAULT_MAX_BODY = 64 * 1024 * 1024
"""Default cap on an answer's bytes: far above any run or page, low enough that none can take a process down."""


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP call, described without performing it.

    :param params: query parameters; None values are left out.
    :param json_body: sent as the JSON body when not None.
    :param timeout: seconds to wait for the answer; None: the hook's default.
    :param server_wait: seconds the server may hold the request (a long-poll), added to the timeout.
    :param form: fields of a ``multipart/form-data`` body (with ``files``; instead of ``json_body``).
    :param files: its file parts, ``{field: (file name, content, content type)}``; sync transport only
        (uploads happen in workers, never in triggers).
    :param max_body: bytes the answer may have (None: :data:`DEFAULT_MAX_BODY`); more is a
        :class:`ResponseTooLargeError`, found without reading it all.
    """

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json_body: Any = None
    timeout: float | None = None
    server_wait: float = 0.0
    max_body: int | None = None
    form: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None

    def body_limit(self) -> int:
        return self.max_body if self.max_body is not None else DEFAULT_MAX_BODY

    def total_timeout(self, default: float) -> float:
        return (self.timeout if self.timeout is not None else default) + self.server_wait

    def query(self) -> dict[str, str]:
        """Query parameters as strings, booleans spelled the way the APIs expect (1/0)."""
        out: dict[str, str] = {}
        for key, value in self.params.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = int(value)
            out[key] = str(value)
        return out


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP answer: status, headers (lower-cased names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a :class:`MalformedResponseError`."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            preview = self.body[:80].decode("utf-8", "replace")
            raise MalformedResponseError(
                f"expected a JSON body (HTTP {self.status}), got {len(self.body)} bytes starting {preview!r}"
            ) from error

    def retry_after(self) -> float | None:
        """Seconds from a numeric ``Retry-After`` header, or None."""
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            return None


@dataclass(frozen=True)
class ApiObject:
    """A platform object as the API returns it (``raw``, what XCom and events carry); subclasses type
    the fields the provider uses."""

    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    def number(self, key: str) -> float | None:
        """``raw[key]`` as a float when it is a JSON number (not a boolean), else None."""
        value = self.raw.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ApiDialect:
    """What the transports and hooks need to know about a platform.

    :param auth_scheme: the token is sent as ``Authorization: <auth_scheme> <token>``.
    :param auth_check: the cheapest authenticated call (the connection form's Test button).
    :param error_for: the :class:`ApiError` for an error answer, from the platform's error body.
    """

    platform: str
    default_base_url: str
    auth_scheme: str
    auth_check: ApiRequest
    error_for: Callable[[ApiRequest, ApiResponse], ApiError]

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"{self.auth_scheme} {token}"}


def api_error(
    request: ApiRequest,
    response: ApiResponse,
    platform: str,
    error_type: str | None,
    message: str | None,
    hint: str | None,
) -> ApiError:
    """The :class:`ApiError` subclass for the response's status, naming the request and the platform's words."""
    return error_class_for(response.status)(
        response.status,
        error_type,
        message,
        platform=platform,
        method=request.method,
        path=request.path,
        retry_after=response.retry_after(),
        hint=hint,
    )
