"""Query rules, error helpers and the pagination envelope of the Lobstr.io emulator (notes §4).

Every list answers the envelope ``{"total_results", "limit", "page", "total_pages", "result_from",
"result_to", "next", "previous", "data"}``: ``page`` starts at 1, ``limit`` defaults to 50 and is
capped at 100, ``next``/``previous`` are full URLs (null at the ends). Choices where the notes are
silent: an empty list has ``total_pages`` 1 and ``result_from``/``result_to`` 0 (Django's paginator);
a page past the last answers 200 with empty ``data``; ``page_size`` (what lobstrio-sdk sends to
``/results``) is ignored, only the documented ``limit`` counts. A bad ``page``/``limit`` is a 400.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.query import integer
from airflow_provider_tasks.testing.server import EmulatorError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def invalid(message: str, param: str | None = None) -> EmulatorError:
    """A 400 ``validation_error``."""
    return EmulatorError(400, "validation_error", message, param=param)


def not_found(message: str, param: str) -> EmulatorError:
    """A 404 ``not_found_error``, e.g. ``("Task not found", "task_hash")``."""
    return EmulatorError(404, "not_found_error", message, param=param)


def required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "").strip()
    if not value:
        raise invalid(f"The '{name}' parameter is required", name)
    return value


def positive(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = integer(query, name, minimum=1)
    except ValueError as exc:
        raise invalid(str(exc), name) from None
    return default if value is None else value


def paginate(
    request: web.Request,
    total: int,
    render: Callable[[int, int], list[Any]],
    *,
    max_limit: int = MAX_LIMIT,
    served: int | None = None,
) -> dict[str, Any]:
    """The envelope of one page of ``total`` items; ``render(start, stop)`` makes that page's items.

    ``max_limit`` lowers the page size the server grants (the envelope's ``limit`` says so);
    ``served`` is how many of the ``total`` rows the account may see (a free plan's export limit):
    rows past it are left out while ``total_results`` still counts them.
    """
    page = positive(request.query, "page", 1)
    limit = min(positive(request.query, "limit", DEFAULT_LIMIT), MAX_LIMIT, max_limit)
    start = min((page - 1) * limit, total)
    visible = total if served is None else min(total, served)
    data = render(min(start, visible), min(start + limit, visible))
    total_pages = max(1, math.ceil(total / limit))
    url = request.url
    return {
        "total_results": total,
        "limit": limit,
        "page": page,
        "total_pages": total_pages,
        "result_from": start + 1 if data else 0,
        "result_to": start + len(data) if data else 0,
        "next": str(url.update_query(page=page + 1)) if page < total_pages else None,
        "previous": str(url.update_query(page=page - 1)) if page > 1 else None,
        "data": data,
    }
