"""Checks on DAG-author input that run before any API call; each error names the field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_tasks.common.errors import ConfigurationError


def require_non_empty_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, got {value!r}")
    return value


def require_number_at_least(name: str, value: Any, minimum: float, *, integer: bool = False) -> float:
    kinds = "an integer" if integer else "a number"
    allowed = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise ConfigurationError(f"{name} must be {kinds} >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be {kinds} >= {minimum}, got {value!r}")
    return value


def require_power_of_two(name: str, value: Any, minimum: int, maximum: int) -> int:
    allowed = []
    size = minimum
    while size <= maximum:
        allowed.append(size)
        size *= 2
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
    return value


def require_json_object(name: str, value: Any) -> dict[str, Any]:
    """A mapping that survives a JSON round trip (what a run input must be)."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{name} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"{name} must be JSON-serialisable: {error}") from None
    return dict(value)


def require_json_list_of_objects(name: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigurationError(f"{name} must be a list of JSON objects, got {value!r}")
    require_json_object(name, {"items": value})
    return value
