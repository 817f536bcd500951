"""Error types shared by every platform, and the one rule that says whether a failure is worth retrying.

Platforms parse their own error bodies (see each ``api.py``) into these types, so retry logic,
operators and triggers can reason about failures without knowing which API produced them.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.compat import AirflowException


class ProviderError(AirflowException):
    """Base class for every error this provider raises."""


class ConfigurationError(ProviderError, ValueError):
    """Bad input from a DAG author, caught before any API call. The message names the field."""


class ApiError(ProviderError):
    """The platform answered with an error status.

    Carries the HTTP ``status``, the platform's error ``type`` and ``message``, and the request
    line (method and path, never the query string or headers, so no secret can leak through it).
    """

    def __init__(
        self,
        status: int,
        error_type: str | None,
        message: str | None,
        *,
        platform: str,
        method: str,
        path: str,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.message = message
        self.platform = platform
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.hint = hint
        kind = f" {error_type}" if error_type else ""
        text = f"{platform} API error {status}{kind} on {method} {path}: {message or 'no message'}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.status, self.error_type, self.message, self.__dict__),
        )


def _rebuild_api_error(
    cls: type[ApiError], status: int, error_type: str | None, message: str | None, state: dict[str, Any]
) -> ApiError:
    error = cls.__new__(cls)
    ApiError.__init__(
        error,
        status,
        error_type,
        message,
        platform=state["platform"],
        method=state["method"],
        path=state["path"],
        retry_after=state.get("retry_after"),
        hint=state.get("hint"),
    )
    return error


class AuthenticationError(ApiError):
    """401/403: the token is missing, invalid, revoked or lacks permission."""


class NotFoundError(ApiError):
    """404: the named resource does not exist (or is not visible to this token)."""


class RateLimitedError(ApiError):
    """429: the platform asks us to slow down; ``retry_after`` holds its hint when it sent one."""


class ServerError(ApiError):
    """5xx, or 408: the platform failed; the request may or may not have been applied."""


class TransportError(ProviderError):
    """No usable answer: the connection failed, timed out, or was dropped.

    ``request_sent`` is False only when the request provably never reached the server
    (connection refused, DNS failure, connect timeout); it decides whether a non-idempotent
    call such as starting a run can be repeated blindly.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transport_error, (type(self), str(self), self.request_sent))


def _rebuild_transport_error(cls: type[TransportError], message: str, request_sent: bool) -> TransportError:
    return cls(message, request_sent=request_sent)


class TlsError(ProviderError):
    """The TLS handshake with the platform (or a proxy) failed, usually an untrusted certificate.

    Not retried: a certificate does not become trusted by asking again. The request was never sent.
    """


class ResponseTooLargeError(ProviderError):
    """The answer is larger than the request's cap (:attr:`ApiRequest.max_body`). Not retried: the
    same request would bring the same body; reading it would put the whole process at risk."""


class MalformedResponseError(ProviderError):
    """The platform answered 2xx with a body we cannot parse. Retried: it is usually a proxy hiccup."""


class RunFailedError(ProviderError):
    """A remote run ended in a status other than success."""


class AmbiguousStartError(ProviderError):
    """A start request may have created a run, but no run found can be proven to be ours.

    Raised instead of adopting a stranger's run or starting again blindly; the message names the
    candidate runs and where to see them, so a person can decide.
    """


class InputsRejectedError(ProviderError):
    """The platform did not take every input given for a run (an upload that failed, rows it
    found invalid, fewer tasks accounted for than sent). Raised before the run starts: a run over
    part of its inputs would look like success with data missing."""


class RunAlreadyActiveError(ProviderError):
    """The target already has an active run and the caller did not ask to reuse it."""


class CostLimitExceeded(ProviderError):
    """A run's cost passed the task's limit (``max_cost_usd``, ``max_credits``) while it was going.

    Never retried: the caller aborts the run and fails the task with this message, which says
    how much was spent and the limit.
    """

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
    """Whether repeating the same request can reasonably succeed.

    Retry: 429, 5xx/408, transport failures and garbled bodies. Never retry other 4xx: they
    describe a problem with the request or the credentials that repetition cannot fix.
    """
    if isinstance(error, (RateLimitedError, ServerError, TransportError, MalformedResponseError)):
        return True
    return False


def may_have_been_applied(error: BaseException) -> bool:
    """Whether a failed request might still have taken effect on the server.

    True for a 5xx or a transport failure after the request was sent; False for 429 (the
    platform rejected it), other 4xx, and connection failures before sending.
    """
    if isinstance(error, ServerError):
        return True
    if isinstance(error, TransportError):
        return error.request_sent
    if isinstance(error, MalformedResponseError):
        return True
    return False
