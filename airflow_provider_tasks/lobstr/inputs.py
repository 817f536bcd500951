"""Task inputs for a Lobstr.io squid, sans-IO: what ``LobstrRunSquidOperator(tasks=[...])`` accepts,
checked before any API call, and the forms it is sent in (a JSON list, or a CSV file for bulk).

An input is a URL string (sent as ``{"url": ...}``) or a dict of the crawler's task params
(``{"keyword": "pizza", "location": "Paris"}``). Which keys a crawler takes is Lobstr.io's to say
(a 400 ``Invalid param`` names the one it rejects); what is checked here is the shape.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_tasks.common.errors import ConfigurationError

SCALARS = (str, int, float, bool)
ALLOWED = "a URL string (http:// or https://) or a dict of task params with string, number or boolean values"


def _fail(field: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{field} {problem}; each task must be {ALLOWED}")


def _check_url(field: str, value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(field, f"is not an http(s) URL: {value!r}")
    return url


def normalize_task(item: Any, field: str) -> dict[str, Any]:
    """One input as the params object Lobstr.io takes; a ConfigurationError naming ``field``."""
    if isinstance(item, str):
        return {"url": _check_url(field, item)}
    if not isinstance(item, dict):
        raise _fail(field, f"is {type(item).__name__} {item!r}")
    if not item:
        raise _fail(field, "is an empty dict")
    params: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{field}[{key!r}]"
        if not isinstance(key, str) or not key.strip():
            raise _fail(field, f"has the key {key!r}: keys must be non-empty strings")
        if not isinstance(value, SCALARS):
            raise _fail(name, f"is {type(value).__name__} {value!r}")
        if isinstance(value, str) and not value.strip():
            raise _fail(name, "is an empty string")
        params[key] = _check_url(name, value) if key == "url" and isinstance(value, str) else value
    return params


def normalize_tasks(value: Any, field: str = "tasks") -> list[dict[str, Any]]:
    """Every input of ``value`` (a list, or a string holding one) as params objects, in order."""
    if isinstance(value, str):  # a Jinja template renders to a string unless the DAG renders native objects
        text = value.strip()
        try:
            value = json.loads(text)
        except ValueError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ConfigurationError(
                    f"{field} must be a list of tasks (each {ALLOWED}); got the string {text[:120]!r}, "
                    "which is not a JSON or Python list"
                ) from None
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Sequence):
        raise ConfigurationError(f"{field} must be a list of tasks (each {ALLOWED}), not {type(value).__name__}")
    if not value:
        raise ConfigurationError(
            f"{field} is empty: give at least one task (each {ALLOWED}), or leave {field} unset to run "
            "the squid's own tasks"
        )
    return [normalize_task(item, f"{field}[{index}]") for index, item in enumerate(value)]


def params_key(params: dict[str, Any]) -> str:
    """A task's identity as Lobstr.io's duplicate check sees it: its params, key order aside, and
    values compared as text (a bulk upload sends every value as text: ``5`` comes back ``"5"``)."""
    return json.dumps({key: _cell(value) for key, value in params.items()}, sort_keys=True, separators=(",", ":"))


def fingerprint(squid: str, tasks: list[dict[str, Any]], replace: bool) -> str:
    """Names one "put these tasks on this squid" step, so a later try can tell it was done."""
    return hashlib.sha256(json.dumps([squid, replace, [params_key(p) for p in tasks]]).encode()).hexdigest()[:32]


def to_csv(tasks: list[dict[str, Any]]) -> bytes:
    """The tasks as the CSV file ``POST /v1/tasks/upload`` takes: a header row of every param name
    any task uses (in order of first use), then a row a task (empty where it lacks a key)."""
    columns = list(dict.fromkeys(key for params in tasks for key in params))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in params.items()} for params in tasks)
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
