"""Query-string values shared by the emulators: numbers, integers and booleans with clear errors.

Every function raises :class:`ValueError` with a human message; a platform's route layer turns it
into its own 400 answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def number(query: Mapping[str, str], name: str, *, minimum: float = 0) -> float | None:
    """A numeric parameter (``10`` and ``10.0`` both work), or None when absent or empty."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"Parameter '{name}' must be a number, got {raw!r}") from None
    if math.isnan(value) or value < minimum:
        raise ValueError(f"Parameter '{name}' must be >= {minimum:g}, got {raw!r}")
    return value


def integer(query: Mapping[str, str], name: str, *, minimum: int = 0) -> int | None:
    value = number(query, name, minimum=minimum)
    if value is None:
        return None
    if math.isinf(value):
        raise ValueError(f"Parameter '{name}' must be finite")
    return int(value)


def boolean(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise ValueError(f"Parameter '{name}' must be a boolean (true/false/1/0), got {raw!r}")
