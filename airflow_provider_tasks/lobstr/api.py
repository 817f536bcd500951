"""Lobstr.io API v1, sans-IO: paths, parameters, statuses and error bodies the provider relies on.

Tasks follow ``shared/seeds/lobstr-get-task.md``, the rest Lobstr.io's public documentation; where
that disagrees with itself, the choice is written next to the code that makes it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from airflow_provider_tasks.common.errors import AmbiguousStartError, ApiError, MalformedResponseError
from airflow_provider_tasks.common.pagination import Page
from airflow_provider_tasks.common.sansio import ApiDialect, ApiObject, ApiRequest, ApiResponse, api_error
from airflow_provider_tasks.common.snapshot import Snapshot
from airflow_provider_tasks.lobstr import MAX_PAGE_SIZE as MAX_PAGE_SIZE
from airflow_provider_tasks.lobstr import MIN_POLL_INTERVAL as MIN_POLL_INTERVAL
from airflow_provider_tasks.lobstr import PLATFORM as PLATFORM

DEFAULT_BASE_URL = "https://api.lobstr.io"
DASHBOARD_URL = "https://app.lobstr.io"
ALREADY_ACTIVE = "already active"


class _LowerCaseEnum(str, Enum):
    """Statuses arrive in lower case in responses and upper case in some documentation tables."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            lowered = value.lower()
            for member in cls:
                if member.value == lowered:
                    return member
        return cls.UNKNOWN  # type: ignore[attr-defined]


class RunStatus(_LowerCaseEnum):
    """Lifecycle of a squid run; ``paused``, ``uploading`` and unlisted statuses are still going."""

    PENDING = "pending"
    RUNNING = "running"
    UPLOADING = "uploading"
    PAUSED = "paused"
    DONE = "done"
    ABORTED = "aborted"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.DONE, RunStatus.ABORTED, RunStatus.ERROR)

    @property
    def is_success(self) -> bool:
        return self is RunStatus.DONE


class TaskStatus(_LowerCaseEnum):
    """Status of a task (seed: pending, running, completed, aborted, failed; run tasks: error)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.ABORTED, TaskStatus.FAILED, TaskStatus.ERROR)

    @property
    def is_success(self) -> bool:
        return self is TaskStatus.COMPLETED


class LobstrRun(ApiObject):
    """A squid run as the API returns it, with the fields the provider uses typed."""

    @property
    def squid(self) -> str | None:
        return self.raw.get("squid")

    @property
    def status(self) -> RunStatus:
        return RunStatus(self.raw.get("status") or "unknown")

    @property
    def total_results(self) -> int | None:
        return self.raw.get("total_results")

    @property
    def credits_used(self) -> float | None:
        """``credit_used``: the credits the run has cost so far."""
        return self.number("credit_used")

    @property
    def reason(self) -> str | None:
        """``done_reason_desc`` when there is one, else ``done_reason``."""
        return self.raw.get("done_reason_desc") or self.raw.get("done_reason")

    def snapshot(self) -> Snapshot:
        status = self.status
        return Snapshot(
            id=self.id,
            status=self.raw.get("status") or "unknown",
            terminal=status.is_terminal,
            succeeded=status.is_success,
            message=self.reason,
            console_url=run_dashboard_url(self.squid, self.id),
            winding_down=self.raw.get("done_reason") == "aborted",
            unknown=status is RunStatus.UNKNOWN,
            progress=None if self.total_results is None else f"{self.total_results} results",
            aborted=status is RunStatus.ABORTED,
            cost=self.credits_used,
            cost_unit="credits",
        )


API_ORIGIN = "user"
"""``origin`` of a run started through the API (or the console); schedules and chains differ."""


def adoptable_run(fresh_runs: list[dict[str, Any]], squid: str) -> LobstrRun | None:
    """Which of ``fresh_runs`` (the squid's runs created since our first attempt), if any, a start
    whose answer was lost created.

    Lobstr.io has no idempotency key, so ownership rests on its one-active-run-per-squid rule: a
    single fresh run, launched through the API and still going, is ours (anyone else's start
    would have been refused). None fresh: no attempt landed. Anything else may be somebody else's:
    :class:`AmbiguousStartError` names them rather than adopting or starting again.
    """
    if not fresh_runs:
        return None
    runs = [LobstrRun(raw) for raw in fresh_runs]
    if len(runs) == 1:
        [run] = runs
        going = not run.status.is_terminal and not run.raw.get("is_done")
        if going and run.raw.get("origin", API_ORIGIN) == API_ORIGIN:
            return run
    listed = "; ".join(
        f"{run.id} (status {run.raw.get('status')}, origin {run.raw.get('origin')}, created "
        f"{run.raw.get('created_at')}): {run_dashboard_url(run.squid or squid, run.id)}"
        for run in runs
    )
    raise AmbiguousStartError(
        f"Starting a run of Lobstr.io squid {squid} may have reached the server, but the run(s) "
        f"created since cannot be proven to be ours: {listed}. Not adopted, and no new run was "
        "started (that could run the squid twice); check the dashboard, then clear the task to try again"
    )


class LobstrTask(ApiObject):
    """A task (``GET /v1/tasks/{hash}``, the seed's shape); its ``status`` object says how it ended."""

    @property
    def hash(self) -> str:
        return str(self.raw.get("hash_value") or self.raw["id"])

    @property
    def status_object(self) -> dict[str, Any]:
        return self.raw.get("status") or {}

    @property
    def status(self) -> TaskStatus:
        return TaskStatus(self.status_object.get("status") or "unknown")

    def snapshot(self) -> Snapshot:
        status = self.status
        detail = self.status_object
        message = detail.get("errors") or detail.get("done_reason")
        return Snapshot(
            id=self.hash,
            status=status.value if status is not TaskStatus.UNKNOWN else str(detail.get("status")),
            terminal=status.is_terminal,
            succeeded=status.is_success,
            message=str(message) if message is not None else None,
            console_url=None,
            unknown=status is TaskStatus.UNKNOWN,
            aborted=status is TaskStatus.ABORTED,
            progress=None if detail.get("total_results") is None else f"{detail['total_results']} results",
        )


# -- Dialect: auth and errors


def error_for(request: ApiRequest, response: ApiResponse) -> ApiError:
    """From an error body in any of the documented shapes."""
    error_type, message, param = parse_error_body(response)
    return api_error(request, response, PLATFORM, error_type, message, _hint(response.status, request, param))


def parse_error_body(response: ApiResponse) -> tuple[str | None, str | None, str | None]:
    """(type, message, param) from any documented error body shape, else the raw text."""
    try:
        body = response.json()
    except MalformedResponseError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return body.get("type"), body["detail"], None
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("type"), error.get("message"), error.get("param")
        if isinstance(error, str):
            return body.get("type"), error, None
        errors = body.get("errors")
        if isinstance(errors, dict):
            return errors.get("type"), errors.get("message"), None
    text = response.body[:200].decode("utf-8", "replace").strip()
    return None, text or None, None


def _hint(status: int, request: ApiRequest, param: str | None) -> str | None:
    if status == 401:
        return "the API key is missing or invalid: check the password field of the Lobstr.io connection"
    if status == 403:
        return "the API key is not allowed to do this"
    if status == 404:
        parts = request.path.strip("/").split("/")
        if len(parts) >= 3:
            return f"not found: {parts[1].rstrip('s')} {parts[2]!r}"
    return None


DIALECT = ApiDialect(PLATFORM, DEFAULT_BASE_URL, "Token", ApiRequest("GET", "/v1/me"), error_for)


def is_already_active(error: ApiError) -> bool:
    """The 400 Lobstr.io answers when the squid already has an active run (``RunInProgress``)."""
    return error.status == 400 and ALREADY_ACTIVE in (error.message or "").lower()


# -- Requests


def _hash(value: str) -> str:
    return quote(value, safe="")


def get_task(task_hash: str) -> ApiRequest:
    return ApiRequest("GET", f"/v1/tasks/{_hash(task_hash)}")


def list_tasks(squid: str, *, page: int = 1, limit: int = MAX_PAGE_SIZE) -> ApiRequest:
    return ApiRequest("GET", "/v1/tasks", {"squid": squid, "page": page, "limit": limit})


def add_tasks(squid: str, tasks: list[dict[str, Any]]) -> ApiRequest:
    """``POST /v1/tasks``: tasks are params objects (``{"url": ...}``); duplicates are skipped."""
    return ApiRequest("POST", "/v1/tasks", json_body={"squid": squid, "tasks": tasks})


def delete_task(task_hash: str) -> ApiRequest:
    return ApiRequest("DELETE", f"/v1/tasks/{_hash(task_hash)}")


def upload_tasks(squid: str, content: bytes, *, filename: str = "tasks.csv") -> ApiRequest:
    """``POST /v1/tasks/upload``: a multipart body with ``squid`` and a CSV ``file`` (its header
    row names the task params, one task a row). Lobstr.io answers with the upload's ``id``."""
    return ApiRequest(
        "POST",
        "/v1/tasks/upload",
        form={"squid": squid},
        files={"file": (filename, content, "text/csv")},
        timeout=120.0,
    )


def get_upload(upload_id: str) -> ApiRequest:
    """``GET /v1/tasks/upload/{upload_task_id}``: 202 while in progress, 200 once ended."""
    return ApiRequest("GET", f"/v1/tasks/upload/{_hash(upload_id)}")


def start_run(squid: str) -> ApiRequest:
    return ApiRequest("POST", "/v1/runs", json_body={"squid": squid})


def get_run(run_hash: str) -> ApiRequest:
    return ApiRequest("GET", f"/v1/runs/{_hash(run_hash)}")


def list_runs(squid: str, *, page: int = 1, limit: int = MAX_PAGE_SIZE) -> ApiRequest:
    """Runs of a squid, newest first."""
    return ApiRequest("GET", "/v1/runs", {"squid": squid, "page": page, "limit": limit})


def abort_run(run_hash: str) -> ApiRequest:
    return ApiRequest("POST", f"/v1/runs/{_hash(run_hash)}/abort")


def run_stats(run_hash: str) -> ApiRequest:
    return ApiRequest("GET", f"/v1/runs/{_hash(run_hash)}/stats")


def results(
    *,
    run: str | None = None,
    squid: str | None = None,
    task: str | None = None,
    page: int = 1,
    limit: int = MAX_PAGE_SIZE,
) -> ApiRequest:
    """``GET /v1/results`` for exactly one of ``run`` or ``squid`` (the API rejects both or neither)."""
    if (run is None) == (squid is None):
        from airflow_provider_tasks.common.errors import ConfigurationError

        raise ConfigurationError("results need exactly one of run_id or squid_id")
    params = {"run": run, "squid": squid, "task": task, "page": page, "limit": limit}
    return ApiRequest("GET", "/v1/results", params, timeout=60.0)


# -- Responses


def object_of(response: ApiResponse) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise MalformedResponseError(f"expected a JSON object, got {str(body)[:120]!r}")
    return body


def parse_run(response: ApiResponse) -> LobstrRun:
    body = object_of(response)
    if "id" not in body or "status" not in body:
        raise MalformedResponseError("run object without id or status")
    return LobstrRun(body)


def parse_task(response: ApiResponse) -> LobstrTask:
    body = object_of(response)
    if not (body.get("hash_value") or body.get("id")):
        raise MalformedResponseError("task object without hash_value")
    return LobstrTask(body)


@dataclass(frozen=True)
class AddedTasks:
    """What ``POST /v1/tasks`` did: the tasks it created and how many it skipped as duplicates."""

    created: list[dict[str, Any]]
    duplicates: int


def parse_added_tasks(response: ApiResponse) -> AddedTasks:
    body = object_of(response)
    created, duplicates = body.get("tasks"), body.get("duplicated_count")
    if not isinstance(created, list) or not isinstance(duplicates, int) or isinstance(duplicates, bool):
        raise MalformedResponseError("add-tasks answer without a tasks list or duplicated_count")
    return AddedTasks(created, duplicates)


class UploadState(_LowerCaseEnum):
    """State of a bulk task upload (Lobstr.io writes them in upper case: ``SUCCESS``)."""

    PENDING = "pending"
    PROGRESS = "progress"
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (UploadState.SUCCESS, UploadState.FAILURE)


class TaskUpload(ApiObject):
    """A bulk upload (``{"id", "object": "task_upload", "state", "meta": {"valid", "inserted",
    "duplicates", "invalid"}}``)."""

    @property
    def state(self) -> UploadState:
        return UploadState(self.raw.get("state") or "unknown")

    def count(self, name: str) -> int:
        """A ``meta`` count (``valid``, ``inserted``, ``duplicates``, ``invalid``); 0 when absent."""
        value = (self.raw.get("meta") or {}).get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def summary(self) -> str:
        meta = self.raw.get("meta") or {}
        counts = ", ".join(f"{name} {self.count(name)}" for name in ("valid", "inserted", "duplicates", "invalid"))
        error = meta.get("error") or meta.get("message") or self.raw.get("error")
        return f"{self.raw.get('state')} ({counts})" + (f": {error}" if error else "")


def parse_upload(response: ApiResponse) -> TaskUpload:
    body = object_of(response)
    if not body.get("id"):
        raise MalformedResponseError("task upload answer without id")
    return TaskUpload(body)


def parse_page(request: ApiRequest, response: ApiResponse) -> Page[dict[str, Any]]:
    """A page of the ``{"page", "total_pages", "data": [...]}`` envelope; the walk ends on the last
    page, an empty page, or a null ``next``."""
    body = object_of(response)
    items = body.get("data")
    if not isinstance(items, list):
        raise MalformedResponseError("list envelope without data")
    page = int(body.get("page") or request.params.get("page") or 1)
    total_pages = body.get("total_pages")
    last = (total_pages is not None and page >= int(total_pages)) or ("next" in body and body["next"] is None)
    if last or not items:
        return Page(items, None)
    params = dict(request.params)
    params["page"] = page + 1
    return Page(items, dataclasses.replace(request, params=params))


def parse_results_page(request: ApiRequest, response: ApiResponse) -> Page[dict[str, Any]]:
    """A page of ``/v1/results``, holding the walk to ``total_results``. A free plan's ``warning``
    ("Export limit reached…") comes with fewer rows: the walk then fails, quoting it."""
    parsed = parse_page(request, response)
    body = object_of(response)
    total = body.get("total_results")
    warning = body.get("warning")
    return dataclasses.replace(
        parsed,
        expected_total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        warning=str(warning) if warning else None,
    )


# -- Links


def run_dashboard_url(squid: str | None, run_hash: str) -> str:
    """The run's page in the Lobstr.io dashboard."""
    if squid:
        return f"{DASHBOARD_URL}/squids/{_hash(squid)}/runs/{_hash(run_hash)}"
    return f"{DASHBOARD_URL}/runs/{_hash(run_hash)}"
