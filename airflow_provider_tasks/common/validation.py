"""Checks on DAG-author input that run before any API call; each error names the field."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, cast

from airflow_provider_tasks.common.errors import ConfigurationError


def require_non_empty_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_id(name: str, value: Any) -> str:
    """An id, maybe templated: an XCom pull that found nothing renders as ``'None'``; say so before the API is asked."""
    if isinstance(value, str) and value.strip() == "None":
        raise ConfigurationError(
            f"{name} rendered as 'None': most likely the XCom pull in its template found nothing. "
            f"Check the task_ids and key the template of {name} pulls, and that the upstream task ran first"
        )
    return require_non_empty_str(name, value)


def require_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, got {value!r}")
    return value


def require_number_at_least(name: str, value: Any, minimum: float, *, integer: bool = False) -> float:
    kinds = "an integer" if integer else "a number"
    allowed = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed) or value < minimum:
        raise ConfigurationError(f"{name} must be {kinds} >= {minimum}, got {value!r}")
    return value


def require_power_of_two(name: str, value: Any, minimum: int, maximum: int) -> int:
    allowed = [minimum << n for n in range((maximum // minimum).bit_length())]  # minimum, 2 * minimum, … <= maximum
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ConfigurationError(
            f"{name} must be a power of 2 between {minimum} and {maximum} "
            f"({', '.join(map(str, allowed))}), got {value!r}"
        )
    return value


def require_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return cast(str, value)  # equal to one of the (str) choices


def require_json_object(name: str, value: Any) -> dict[str, Any]:
    """A mapping that survives a JSON round trip (what a run input must be)."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{name} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"{name} must be JSON-serialisable: {error}") from None
    require_finite_json(name, value)
    return dict(value)


def require_json_list_of_objects(name: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigurationError(f"{name} must be a list of JSON objects, got {value!r}")
    require_finite_json(name, value)  # first: names the path from ``name``, not from the wrapper below
    require_json_object(name, {"items": value})
    return value


def require_positive_seconds(name: str, value: Any) -> float:
    """A wait limit: a timedelta or finite seconds > 0 (0 would start a run and leave it unwatched)."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(
            f"{name} must be a positive number of seconds or a timedelta (> 0, finite), got {value!r}"
        )
    return float(seconds)


def optional_positive_finite(name: str, value: Any) -> float | None:
    """None (no limit) or a finite number > 0, e.g. a cost limit (0 would abort every run at its first look)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive finite number (> 0) or None, got {value!r}")
    return float(value)


def require_poll_interval(name: str, value: Any, minimum: float, why: str = "") -> float:
    """Seconds between status requests: a finite number >= ``minimum`` (``why`` says whose rule)."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        reason = f" ({why})" if why else ""
        raise ConfigurationError(f"{name} must be a number of seconds >= {minimum:g}{reason}, got {value!r}")
    return float(value)


def require_finite_json(name: str, value: Any) -> None:
    """No NaN or infinity inside ``value`` (JSON has neither); the error names the path, e.g. ``run_input.a[2].b``."""
    if (found := next(_non_finite(name, value), None)) is not None:
        path, number = found
        raise ConfigurationError(f"{path} must be a finite number (JSON has no NaN or Infinity), got {number!r}")


def _non_finite(path: str, value: Any) -> Iterator[tuple[str, float]]:
    """``(path, number)`` of each NaN or infinity inside ``value``, depth first."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(f"{path}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _non_finite(f"{path}[{index}]", item)


def has_template(value: Any) -> bool:
    """Whether ``value`` (as written in the DAG) still holds Jinja to render, or an XComArg: what is
    checked when the DAG is parsed only when it does not, else when it is rendered."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(has_template(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_template(item) for item in value)
    return not isinstance(value, (str, int, float, bool, type(None)))
