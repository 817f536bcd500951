"""Apify API v2, sans-IO: every path, parameter, status and error body the provider relies on.

The contract is the Apify reference pages kept in ``shared/seeds`` (get task, list tasks, list task
runs, run task); no socket here, so the sync hook, the async hook and the unit tests share it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote, unquote

from airflow_provider_tasks.apify import PLATFORM as PLATFORM
from airflow_provider_tasks.common.blobs import BodyHead, check_length
from airflow_provider_tasks.common.errors import ApiError, ConfigurationError, MalformedResponseError
from airflow_provider_tasks.common.jsonl import SpooledPage, spool_jsonl
from airflow_provider_tasks.common.pagination import Page
from airflow_provider_tasks.common.sansio import ApiDialect, ApiObject, ApiRequest, ApiResponse, api_error
from airflow_provider_tasks.common.snapshot import Snapshot
from airflow_provider_tasks.common.validation import (
    require_bool,
    require_json_list_of_objects,
    require_non_empty_str,
    require_number_at_least,
    require_power_of_two,
)

DEFAULT_BASE_URL = "https://api.apify.com"
CONSOLE_URL = "https://console.apify.com"
MAX_PAGE_SIZE = 1000
MAX_WAIT_FOR_FINISH = 60
MEMORY_MIN, MEMORY_MAX = 128, 32768
OUTPUT_KEY = "OUTPUT"
"""The record many Actors put their result in (in the run's default key-value store)."""
RECORD_KEY_CHARS = "a-z A-Z 0-9 ! - _ . ' ( )"
_RECORD_KEY = re.compile(r"^[a-zA-Z0-9!\-_.'()]{1,256}$")


class RunStatus(str, Enum):
    """Lifecycle of an Apify run. A status Apify may add later becomes :attr:`UNKNOWN`: not
    terminal, so waiting goes on (logged once) until a known end or the deadline."""

    READY = "READY"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMING_OUT = "TIMING-OUT"
    TIMED_OUT = "TIMED-OUT"
    ABORTING = "ABORTING"
    ABORTED = "ABORTED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def _missing_(cls, value: object) -> RunStatus | None:
        return cls.UNKNOWN if isinstance(value, str) and value else None

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        return self is RunStatus.SUCCEEDED


_COLLECTIONS = {"task": "actor-tasks", "actor": "actors"}
ACTIVE_STATUSES = (RunStatus.READY.value, RunStatus.RUNNING.value)  # going, not winding down
_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABORTED})


class ApifyRun(ApiObject):
    """An Actor run as the API returns it (``raw``), with the fields the provider uses typed."""

    @property
    def status(self) -> RunStatus:
        return RunStatus(self.raw["status"])

    @property
    def status_message(self) -> str | None:
        return self.raw.get("statusMessage")

    @property
    def default_dataset_id(self) -> str | None:
        return self.raw.get("defaultDatasetId")

    @property
    def default_key_value_store_id(self) -> str | None:
        return self.raw.get("defaultKeyValueStoreId")

    @property
    def user_agent(self) -> str | None:
        return (self.raw.get("meta") or {}).get("userAgent")

    @property
    def item_count(self) -> int | None:
        """Items so far: ``stats.itemCount`` or ``stats.resultCount``, else ``usage.DATASET_WRITES``."""
        stats = self.raw.get("stats") or {}
        for value in (
            stats.get("itemCount"),
            stats.get("resultCount"),
            (self.raw.get("usage") or {}).get("DATASET_WRITES"),
        ):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    @property
    def cost_usd(self) -> float | None:
        """``usageTotalUsd``: what the run has cost so far."""
        return self.number("usageTotalUsd")

    def snapshot(self) -> Snapshot:
        status = self.status
        items = self.item_count
        progress = "; ".join(
            part for part in (self.status_message, None if items is None else f"{items} items") if part
        )
        return Snapshot(
            id=self.id,
            status=self.raw["status"],
            terminal=status.is_terminal,
            succeeded=status.is_success,
            message=self.status_message,
            console_url=run_console_url(self.id),
            winding_down=status in (RunStatus.ABORTING, RunStatus.TIMING_OUT),
            unknown=status is RunStatus.UNKNOWN,
            progress=progress or None,
            aborted=status is RunStatus.ABORTED,
            cost=self.cost_usd,
            cost_unit="USD",
        )


@dataclass(frozen=True)
class RunOptions:
    """Options of a task or Actor run; a field left as None keeps the task's or Actor's setting."""

    build: str | None = None
    memory_mbytes: int | None = None
    timeout_secs: int | None = None
    max_items: int | None = None
    max_total_charge_usd: float | None = None
    restart_on_error: bool | None = None
    webhooks: list[dict[str, Any]] | None = None

    def validate(self) -> RunOptions:
        """Raise a ConfigurationError naming the first bad field; else return self."""
        if self.build is not None:
            require_non_empty_str("build", self.build)
        if self.memory_mbytes is not None:
            require_power_of_two("memory_mbytes", self.memory_mbytes, MEMORY_MIN, MEMORY_MAX)
        if self.timeout_secs is not None:
            require_number_at_least("timeout_secs", self.timeout_secs, 0)
        if self.max_items is not None:
            require_number_at_least("max_items", self.max_items, 1, integer=True)
        if self.max_total_charge_usd is not None:
            require_number_at_least("max_total_charge_usd", self.max_total_charge_usd, 0)
        if self.restart_on_error is not None:
            require_bool("restart_on_error", self.restart_on_error)
        if self.webhooks is not None:
            require_json_list_of_objects("webhooks", self.webhooks)
        return self

    def query(self) -> dict[str, Any]:
        """The run options as query parameters."""
        params: dict[str, Any] = {
            "build": self.build,
            "memory": self.memory_mbytes,
            "timeout": self.timeout_secs,
            "maxItems": self.max_items,
            "maxTotalChargeUsd": self.max_total_charge_usd,
            "restartOnError": self.restart_on_error,
        }
        if self.webhooks is not None:
            params["webhooks"] = base64.b64encode(json.dumps(self.webhooks).encode()).decode()
        return params


@dataclass(frozen=True)
class Target:
    """What a run starts from: an Actor task (``kind="task"``) or an Actor (``kind="actor"``)."""

    kind: str
    id: str

    @property
    def path(self) -> str:
        return f"/v2/{_COLLECTIONS[self.kind]}/{encode_id(self.id)}"

    def describe(self) -> str:
        return f"Actor task {self.id!r}" if self.kind == "task" else f"Actor {self.id!r}"


# -- Dialect: auth and errors


def error_for(request: ApiRequest, response: ApiResponse) -> ApiError:
    """From Apify's ``{"error": {"type", "message"}}`` error body, or the start of whatever came instead."""
    error_type, message = None, None
    try:
        error = response.json().get("error") or {}
        error_type, message = error.get("type"), error.get("message")
    except (MalformedResponseError, AttributeError):
        message = response.body[:200].decode("utf-8", "replace") or None
    return api_error(request, response, PLATFORM, error_type, message, _hint(response.status, request.path))


def _hint(status: int, path: str) -> str | None:
    if status == 401:
        return "the API token is missing or invalid: check the password field of the Apify connection"
    if status == 403:
        return "the API token lacks permission for this resource"
    if status == 404:
        return f"not found: {_resource_named_by(path)}"
    return None


def _resource_named_by(path: str) -> str:
    parts = path.strip("/").split("/")
    names = {
        "actor-tasks": "Actor task",
        "actors": "Actor",
        "acts": "Actor",
        "actor-runs": "run",
        "datasets": "dataset",
        "key-value-stores": "key-value store",
        "logs": "log of run",
    }
    if len(parts) >= 5 and parts[1] == "key-value-stores" and parts[3] == "records":
        return f"record {unquote(parts[4])!r} of key-value store {unquote(parts[2])!r}"
    if len(parts) >= 3 and parts[1] in names:
        return f"{names[parts[1]]} {parts[2]!r}"
    return path


DIALECT = ApiDialect(PLATFORM, DEFAULT_BASE_URL, "Bearer", ApiRequest("GET", "/v2/users/me"), error_for)


# -- Requests


def encode_id(resource_id: str) -> str:
    """Quote an id or ``username~name`` for a path segment."""
    return quote(resource_id, safe="~")


def get_task(task_id: str) -> ApiRequest:
    return ApiRequest("GET", Target("task", task_id).path)


def list_tasks(*, offset: int = 0, limit: int = MAX_PAGE_SIZE, desc: bool = False) -> ApiRequest:
    return ApiRequest("GET", "/v2/actor-tasks", {"offset": offset, "limit": limit, "desc": desc or None})


def list_runs(
    target: Target,
    *,
    status: str | list[str] | None = None,
    desc: bool = False,
    offset: int = 0,
    limit: int = MAX_PAGE_SIZE,
) -> ApiRequest:
    if isinstance(status, (list, tuple)):
        status = ",".join(status)
    params = {"offset": offset, "limit": limit, "desc": desc or None, "status": status}
    return ApiRequest("GET", f"{target.path}/runs", params)


def start_run(
    target: Target,
    options: RunOptions,
    run_input: Mapping[str, Any] | None = None,
    *,
    wait_for_finish: int | None = None,
) -> ApiRequest:
    """``POST …/runs``: for a task the body overrides its saved input, for an Actor it *is* the input."""
    params = options.query()
    params["waitForFinish"] = wait_for_finish
    body = dict(run_input) if run_input is not None else ({} if target.kind == "task" else None)
    return ApiRequest("POST", f"{target.path}/runs", params, json_body=body, server_wait=wait_for_finish or 0)


def last_run(target: Target, *, status: str | None = None) -> ApiRequest:
    return ApiRequest("GET", f"{target.path}/runs/last", {"status": status})


def get_run(run_id: str, *, wait_for_finish: int | None = None) -> ApiRequest:
    """``GET /v2/actor-runs/{id}``; ``wait_for_finish`` (≤ 60 s) makes the server hold the answer."""
    if wait_for_finish is not None:
        wait_for_finish = max(0, min(int(wait_for_finish), MAX_WAIT_FOR_FINISH))
    params = {"waitForFinish": wait_for_finish or None}
    return ApiRequest("GET", f"/v2/actor-runs/{encode_id(run_id)}", params, server_wait=wait_for_finish or 0)


def abort_run(run_id: str, *, gracefully: bool = False) -> ApiRequest:
    return ApiRequest("POST", f"/v2/actor-runs/{encode_id(run_id)}/abort", {"gracefully": gracefully or None})


def get_dataset(dataset_id: str) -> ApiRequest:
    return ApiRequest("GET", f"/v2/datasets/{encode_id(dataset_id)}")


def dataset_items(
    dataset_id: str,
    *,
    offset: int = 0,
    limit: int = MAX_PAGE_SIZE,
    clean: bool = False,
    fields: list[str] | None = None,
    omit: list[str] | None = None,
    fmt: str = "json",
) -> ApiRequest:
    """A page of dataset items as a JSON array (``fmt="json"``) or JSON Lines (``"jsonl"``)."""
    params = {
        "format": fmt,
        "offset": offset,
        "limit": limit,
        "clean": clean or None,
        "fields": ",".join(fields) if fields else None,
        "omit": ",".join(omit) if omit else None,
    }
    return ApiRequest("GET", f"/v2/datasets/{encode_id(dataset_id)}/items", params, timeout=120.0)


def require_record_key(name: str, value: Any) -> str:
    """A record key as Apify allows it: 1–256 characters of ``a-z A-Z 0-9 ! - _ . ' ( )``."""
    if not isinstance(value, str) or not _RECORD_KEY.match(value):
        raise ConfigurationError(
            f"{name} must be an Apify record key: 1-256 characters of {RECORD_KEY_CHARS}, got {value!r}"
        )
    return value


def list_keys(
    store_id: str, *, exclusive_start_key: str | None = None, limit: int = MAX_PAGE_SIZE, prefix: str | None = None
) -> ApiRequest:
    """A page of a key-value store's keys, in key order after ``exclusive_start_key``."""
    params = {"exclusiveStartKey": exclusive_start_key, "limit": limit, "prefix": prefix}
    return ApiRequest("GET", f"/v2/key-value-stores/{encode_id(store_id)}/keys", params)


def get_record(store_id: str, key: str, *, max_body: int | None = None) -> ApiRequest:
    """One record: the answer is its own bytes under its own ``Content-Type`` (no envelope).
    ``attachment`` asks for the stored record as a download, as the official clients do."""
    path = f"/v2/key-value-stores/{encode_id(store_id)}/records/{quote(key, safe='')}"
    return ApiRequest("GET", path, {"attachment": True}, timeout=120.0, max_body=max_body)



def get_run_log(run_id: str, *, stream: bool = False, follow_secs: float = 0.0) -> ApiRequest:
    """``GET /v2/logs/{runId}``: the run's log as ``text/plain`` (Apify keeps its trailing 5M
    characters), each line ``<ISO timestamp> <message>``. With ``stream`` the server keeps the
    answer open and sends each line as the run writes it, until the run ends: ``follow_secs`` is
    how long the request may last (it ends sooner when the run does)."""
    params = {"stream": True if stream else None}
    return ApiRequest("GET", f"/v2/logs/{encode_id(run_id)}", params, timeout=60.0, server_wait=follow_secs)


# -- Responses


def check_log(response: ApiResponse) -> ApiResponse:
    """A log answer must be text: an HTML page (a proxy's) or JSON is a :class:`MalformedResponseError`."""
    content_type = response.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    if content_type != "text/plain":
        raise MalformedResponseError(f"expected the run log as text/plain, got {content_type or 'no content type'}")
    return response


def parse_log(response: ApiResponse) -> str:
    """The log's text (UTF-8; a byte that is not becomes ``\ufffd``)."""
    return check_log(response).body.decode("utf-8", "replace")


def data_of(response: ApiResponse) -> dict[str, Any]:
    """The ``data`` object of a success body."""
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise MalformedResponseError(f"expected a {{'data': {{...}}}} body, got {str(body)[:120]!r}")
    data: dict[str, Any] = body["data"]
    return data


def parse_run(response: ApiResponse) -> ApifyRun:
    data = data_of(response)
    if "id" not in data or not isinstance(data.get("status"), str) or not data["status"]:
        raise MalformedResponseError("run object without id or status")
    return ApifyRun(data)  # a status this code does not know is RunStatus.UNKNOWN: still going


def parse_list_page(request: ApiRequest, response: ApiResponse) -> Page[dict[str, Any]]:
    """A page of the ``{"data": {"total", "offset", "limit", "count", "items"}}`` envelope."""
    data = data_of(response)
    items = data.get("items")
    if not isinstance(items, list):
        raise MalformedResponseError("list envelope without items")
    offset = int(data.get("offset", request.params.get("offset", 0)))
    total = int(data.get("total", 0))
    next_offset = offset + len(items)
    more = bool(items) and next_offset < total
    return Page(items, _with_params(request, offset=next_offset) if more else None)


def parse_jsonl_page(request: ApiRequest, response: ApiResponse, chunks: Iterable[bytes]) -> Page[SpooledPage]:
    """A JSON Lines page, never parsed: spooled and checked against ``X-Apify-Pagination-Count``
    before anything reaches the file (:func:`spool_jsonl`)."""
    page = spool_jsonl(
        response.headers, chunks, expected_lines=_pagination(response, "count"), what=_page_name(request)
    )
    if not page.lines:
        page.close()
        return _next_items_page(request, response, [], 0)
    return _next_items_page(request, response, [page], page.lines)


def parse_keys_page(request: ApiRequest, response: ApiResponse) -> Page[dict[str, Any]]:
    """A page of keys (``{"data": {"items": [{key, size}], "isTruncated", "nextExclusiveStartKey"}}``);
    the next page starts after ``nextExclusiveStartKey``. A truncated page whose next key does not
    move past this page's start would page forever: refused."""
    data = data_of(response)
    items = data.get("items")
    if not isinstance(items, list):
        raise MalformedResponseError("keys page without items")
    if not data.get("isTruncated"):
        return Page(items, None)
    start = request.params.get("exclusiveStartKey")
    following = data.get("nextExclusiveStartKey")
    if not isinstance(following, str) or not following or (start is not None and following <= start):
        raise MalformedResponseError(
            f"keys page after {start!r} is truncated but its nextExclusiveStartKey {following!r} does not move on"
        )
    return Page(items, _with_params(request, exclusiveStartKey=following))


@dataclass(frozen=True)
class RecordHead:
    """A record's answer before its body: which record, and what its headers say of the body."""

    store_id: str
    key: str
    body: BodyHead

    @property
    def content_type(self) -> str | None:
        return self.body.content_type

    def describe(self) -> str:
        return f"Apify record {self.key!r} of key-value store {self.store_id!r}"


@dataclass(frozen=True)
class ApifyRecord:
    """A record read whole: its bytes exactly as stored and its ``Content-Type``."""

    store_id: str
    key: str
    content_type: str | None
    value: bytes


def parse_record(store_id: str, key: str, response: ApiResponse) -> ApifyRecord:
    """A record read whole (see :func:`get_record`); a body shorter or longer than its
    ``Content-Length`` is a :class:`MalformedResponseError`."""
    head = RecordHead(store_id, key, BodyHead.of(response.headers))
    check_length(head.body, len(response.body), what=head.describe())
    return ApifyRecord(store_id, key, head.content_type, response.body)


def _next_items_page(request: ApiRequest, response: ApiResponse, items: list[Any], count: int) -> Page[Any]:
    """Where a dataset walk goes after this page, and how many items it must deliver in all.

    A short page is not the end: ``clean`` drops empty items inside the window and a server cap
    answers fewer (its limit in ``X-Apify-Pagination-Limit``), so the offset advances by the
    effective limit, not by the items received. ``Total`` lags right after a run and grows while
    a dataset is written, so the walk ends only at an empty page at or past it. Without ``clean``
    the walk must deliver ``Total`` items.
    """
    offset = int(request.params.get("offset", 0))
    limit = _pagination(response, "limit") or int(request.params.get("limit", MAX_PAGE_SIZE))
    total = _pagination(response, "total")
    if total is None:
        raise MalformedResponseError(f"{_page_name(request)}: no X-Apify-Pagination-Total header")
    done = count == 0 and offset >= total
    skips_items = bool(request.params.get("clean") or request.params.get("skipEmpty"))
    return Page(
        items,
        None if done else _with_params(request, offset=offset + limit),
        expected_total=None if skips_items else total,
        count=count,
    )


def _pagination(response: ApiResponse, name: str) -> int | None:
    """The ``X-Apify-Pagination-<name>`` header as a number, None when absent."""
    value = response.headers.get(f"x-apify-pagination-{name}")
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise MalformedResponseError(f"X-Apify-Pagination-{name.title()} is not a number: {value[:40]!r}") from None
    if number < 0:
        raise MalformedResponseError(f"X-Apify-Pagination-{name.title()} is negative: {number}")
    return number


def _page_name(request: ApiRequest) -> str:
    return f"Apify {request.path} page at offset {request.params.get('offset', 0)}"


def _with_params(request: ApiRequest, **changes: Any) -> ApiRequest:
    params = dict(request.params)
    params.update(changes)
    return dataclasses.replace(request, params=params)


# -- Links


def run_console_url(run_id: str) -> str:
    return f"{CONSOLE_URL}/actors/runs/{quote(run_id, safe='')}"
