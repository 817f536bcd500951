"""Error types shared by every platform, and the one rule that says whether a failure is worth retrying."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, fields
from typing import Any

from airflow_provider_tasks.common.compat import AirflowException


class ProviderError(AirflowException):
    """Base class for every error this provider raises."""


class ConfigurationError(ProviderError, ValueError):
    """Bad input from a DAG author, caught before any API call. The message names the field."""


@dataclass(eq=False)
class ApiError(ProviderError):
    """The platform answered with an error status; the message names the method and path, never the query string
    or headers (no secret can leak through it)."""

    status: int
    error_type: str | None
    message: str | None
    _: KW_ONLY
    platform: str
    method: str
    path: str
    retry_after: float | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        kind = f" {self.error_type}" if self.error_type else ""
        text = f"{self.platform} API error {self.status}{kind} on {self.method} {self.path}: "
        text += self.message or "no message"
        super().__init__(f"{text} ({self.hint})" if self.hint else text)

    def __reduce__(self) -> tuple[Any, ...]:  # keyword arguments: rebuilt from them, e.g. across processes
        return (_rebuild_api_error, (type(self), {f.name: getattr(self, f.name) for f in fields(self)}))


def _rebuild_api_error(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    return cls(**state)


class AuthenticationError(ApiError):
    """401/403: the token is missing, invalid, revoked or lacks permission."""


class NotFoundError(ApiError):
    """404: the named resource does not exist (or is not visible to this token)."""


class RateLimitedError(ApiError):
    """429: the platform asks us to slow down; ``retry_after`` holds its hint when it sent one."""


class ServerError(ApiError):
    """5xx, or 408: the platform failed; the request may or may not have been applied."""


class TransportError(ProviderError):
    """No usable answer: the connection failed, timed out, or was dropped. ``request_sent`` is False only when the
    request provably never reached the server: only then may a non-idempotent call (a start) be repeated blindly."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transport_error, (type(self), str(self), self.request_sent))


def _rebuild_transport_error(cls: type[TransportError], message: str, request_sent: bool) -> TransportError:
    return cls(message, request_sent=request_sent)


class TlsError(ProviderError):
    """The TLS handshake failed (usually an untrusted certificate, maybe a proxy's): never sent, not retried."""


class ResponseTooLargeError(ProviderError):
    """The answer is larger than :attr:`ApiRequest.max_body`. Not retried: the same request brings the same body."""


class MalformedResponseError(ProviderError):
    """The platform answered 2xx with a body we cannot parse. Retried: it is usually a proxy hiccup."""


class RunFailedError(ProviderError):
    """A remote run ended in a status other than success."""


class AmbiguousStartError(ProviderError):
    """A start may have created a run, but none found is provably ours: raised instead of adopting a stranger's run
    or starting again blindly; the message names the candidates so a person can decide."""


class InputsRejectedError(ProviderError):
    """The platform did not take every input given for a run (an upload that failed, rows it
    found invalid, fewer tasks accounted for than sent). Raised before the run starts: a run over
    part of its inputs would look like success with data missing."""


class RunAlreadyActiveError(ProviderError):
    """The target already has an active run and the caller did not ask to reuse it."""


class CostLimitExceeded(ProviderError):
    """A run's cost passed the task's limit (``max_cost_usd``, ``max_credits``). Never retried: the run is aborted
    and the task fails, saying what was spent."""

    def __init__(self, message: str, console_url: str | None = None) -> None:
        super().__init__(message)
        self.console_url = console_url


class RunTimeoutError(ProviderError):
    """Our own deadline passed before the remote run ended (the run itself may still be going)."""


def error_class_for(status: int) -> type[ApiError]:
    """The :class:`ApiError` subclass that describes an HTTP error status."""
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500 or status == 408:
        return ServerError
    return ApiError


def is_retryable(error: BaseException) -> bool:
    """Whether repeating the request can succeed: 429, 5xx/408, transport failures, garbled bodies; never other 4xx."""
    return isinstance(error, (RateLimitedError, ServerError, TransportError, MalformedResponseError))


def may_have_been_applied(error: BaseException) -> bool:
    """Whether a failed request may still have taken effect: a 5xx or 408, a garbled answer, or a transport failure
    after sending; not another 4xx (429 included) nor a failure before sending."""
    if isinstance(error, TransportError):
        return error.request_sent
    return isinstance(error, (ServerError, MalformedResponseError))
