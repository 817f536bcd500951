"""Query-string parsing for the Apify emulator, with the API's validation rules.

Every function raises :class:`ValueError` with a human message; the route layer turns it into a
400 ``invalid-input`` answer. The plain ``number``/``integer``/``boolean`` readers are the shared
ones of :mod:`.query`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_provider_tasks.testing.apify_models import STATUSES
from airflow_provider_tasks.testing.query import boolean, integer, number

LIST_LIMIT = 1000
MAX_WAIT_SECS = 60
NO_LIMIT = 999_999_999_999  # what the API reports as the limit of an unlimited items request


def csv_list(query: Mapping[str, str], name: str) -> list[str] | None:
    raw = query.get(name)
    if not raw:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def pagination(query: Mapping[str, str]) -> tuple[int, int, bool]:
    """``(offset, limit, desc)`` of a list endpoint: limit defaults to and is capped at 1000."""
    offset = integer(query, "offset") or 0
    limit = integer(query, "limit")
    limit = LIST_LIMIT if not limit else min(limit, LIST_LIMIT)
    return offset, limit, boolean(query, "desc")


def page(objects: list[Any], query: Mapping[str, str], to_json: Any) -> dict[str, Any]:
    """The API's list envelope for ``objects`` (already in ascending order)."""
    offset, limit, desc = pagination(query)
    ordered = objects[::-1] if desc else objects
    chunk = ordered[offset : offset + limit]
    return {
        "data": {
            "total": len(objects),
            "offset": offset,
            "limit": limit,
            "desc": desc,
            "count": len(chunk),
            "items": [to_json(obj) for obj in chunk],
        }
    }


def statuses(query: Mapping[str, str]) -> set[str] | None:
    names = csv_list(query, "status")
    if names is None:
        return None
    unknown = [name for name in names if name not in STATUSES]
    if unknown:
        raise ValueError(f"Unknown run status {unknown[0]!r}; expected one of {sorted(STATUSES)}")
    return set(names)


def timestamp(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Parameter '{name}' must be an ISO 8601 date, got {raw!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"Parameter '{name}' needs a time zone (e.g. a trailing Z)")
    return moment


def wait_secs(query: Mapping[str, str]) -> float:
    """``waitForFinish``: 0 by default, capped at 60 like the real server."""
    value = number(query, "waitForFinish")
    return 0.0 if value is None else min(value, MAX_WAIT_SECS)


def run_options(query: Mapping[str, str]) -> dict[str, Any]:
    """Run options from the start-run query; a missing option means "use the saved setting"."""
    memory = integer(query, "memory", minimum=1)
    if memory is not None and (memory < 128 or memory > 32768 or memory & (memory - 1)):
        raise ValueError(f"Memory must be a power of 2 between 128 and 32768 MB, got {memory}")
    boolean(query, "restartOnError")  # validated; restarts are not emulated
    build = query.get("build")
    return {
        "timeoutSecs": integer(query, "timeout"),
        "memoryMbytes": memory,
        "build": build or None,
        "maxItems": integer(query, "maxItems", minimum=1),
        "maxTotalChargeUsd": number(query, "maxTotalChargeUsd"),
    }


def webhooks(query: Mapping[str, str]) -> list[Any]:
    """Decode the base64 JSON array of ad-hoc webhooks (stored on the run, never dispatched)."""
    raw = query.get("webhooks")
    if not raw:
        return []
    try:
        decoded = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_" if "-" in raw else None))
    except (ValueError, binascii.Error):
        raise ValueError("Parameter 'webhooks' must be a base64-encoded JSON array") from None
    if not isinstance(decoded, list) or not all(isinstance(w, dict) and w.get("requestUrl") for w in decoded):
        raise ValueError("Parameter 'webhooks' must be a JSON array of objects with 'requestUrl'")
    return decoded
