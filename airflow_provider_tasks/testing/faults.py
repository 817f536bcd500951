"""Fault switches and request accounting for the local API emulators.

Both pieces are platform-agnostic and thread-safe: a test thread arms a fault while the emulator's
event loop (another thread) consumes it, and a test in another process can do the same over the
``/_emulator/faults`` control endpoint, which takes the JSON form of :class:`FaultRule`.

A rule JSON looks like::

    {"kind": "status", "status": 503, "retry_after": 2,
     "method": "POST", "path": "/actor-tasks/[^/]+/runs$", "count": 1}

``kind`` is one of :data:`FAULT_KINDS`; ``method`` (case-insensitive) and ``path`` (a regular
expression searched in the request path, query string excluded) are optional filters; ``count``
is how many matching requests the rule hits before it retires (``null``/``None``: until cleared).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: What a rule does to a matching request.
#:
#: * ``status``      -- answer ``status`` (429, 500, 503 ...) with the platform's error body, without
#:   running the handler; ``retry_after`` adds a ``Retry-After`` header; ``error_type`` and
#:   ``message`` override the body's type and message (e.g. ``actor-memory-limit-exceeded``).
#: * ``latency``     -- sleep ``seconds`` (without blocking the loop) before handling. A latency rule
#:   combines with one rule of another kind on the same request.
#: * ``drop_before`` -- reset the TCP connection before the handler runs: no state change.
#: * ``drop_after``  -- run the handler (state changes happen, e.g. the run IS created), then reset
#:   the connection without sending any response.
#: * ``malformed``   -- run the handler, then answer 200 with a body that is not valid JSON.
#: * ``html``        -- run the handler, then answer ``200 text/html`` with a proxy's HTML page
#:   instead (a captive portal or a misconfigured gateway); the handler's headers are kept.
#: * ``truncated``   -- run the handler, then send its answer (status, headers) with the body's
#:   tail cut in the middle of its last line, as a well-formed shorter response.
#: * ``drip``        -- run the handler, then send its body one byte every ``seconds`` (default
#:   0.1), with its Content-Length: a server (or proxy) that keeps a request alive but never done.
#: * ``oversized``   -- run the handler, then send its JSON object padded to ``size`` bytes, with
#:   a Content-Length, or chunked without one when ``chunked`` is true.
#: * ``cut``         -- run the handler, then send its status, headers and full Content-Length but
#:   only the first half of its body, and reset the connection: a connection lost mid-body.
FAULT_KINDS = (
    "status", "latency", "drop_before", "drop_after", "malformed", "html", "truncated", "drip", "oversized", "cut",
)  # fmt: skip


@dataclass
class FaultRule:
    """One armed fault; see the module docstring for the JSON form."""

    kind: str
    method: str | None = None
    path: str | None = None
    count: int | None = 1
    status: int | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    error_type: str | None = None
    message: str | None = None
    size: int | None = None
    chunked: bool = False
    id: int = 0
    hits: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.kind == "status" and not (self.status and 100 <= int(self.status) <= 599):
            raise ValueError("a 'status' fault needs an HTTP status code in 'status'")
        if self.kind == "latency" and not float(self.seconds) >= 0:
            raise ValueError("a 'latency' fault needs 'seconds' >= 0")
        if self.kind == "oversized" and not (self.size and int(self.size) > 0):
            raise ValueError("an 'oversized' fault needs 'size' (bytes) > 0")
        if self.kind == "drip" and float(self.seconds) < 0:
            raise ValueError("a 'drip' fault needs 'seconds' (per byte) >= 0")
        if self.count is not None and int(self.count) < 1:
            raise ValueError("'count' must be >= 1, or null for 'until cleared'")
        self.method = self.method.upper() if self.method else None
        self._regex = re.compile(self.path) if self.path else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from its JSON form, rejecting unknown keys (typos must not arm a no-op)."""
        allowed = {
            "kind",
            "method",
            "path",
            "count",
            "status",
            "retry_after",
            "seconds",
            "error_type",
            "message",
            "size",
            "chunked",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault rule needs a 'kind'")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "count": self.count,
            "status": self.status,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "error_type": self.error_type,
            "message": self.message,
            "size": self.size,
            "chunked": self.chunked,
            "hits": self.hits,
        }

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return self._regex is None or self._regex.search(path) is not None


class Faults:
    """Thread-safe set of armed fault rules, consumed by the emulator's middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, kind: str, **options: Any) -> FaultRule:
        """Arm a rule, e.g. ``faults.add("status", status=429, retry_after=1, count=2)``."""
        return self.add_rule(FaultRule(kind=kind, **options))

    def add_dict(self, data: dict[str, Any]) -> FaultRule:
        """Arm a rule from its JSON form (what ``POST /_emulator/faults`` receives)."""
        return self.add_rule(FaultRule.from_dict(data))

    def add_rule(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def clear(self) -> int:
        """Disarm every rule; returns how many were armed."""
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
        return count

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def take(self, method: str, path: str) -> tuple[FaultRule | None, FaultRule | None]:
        """Consume the rules that apply to one request: ``(latency_rule, other_rule)``.

        The first armed matching rule of each of the two groups is used (arming order), and its
        remaining count drops by one; exhausted rules retire.
        """
        latency: FaultRule | None = None
        action: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if (latency if rule.kind == "latency" else action) is not None:
                    continue
                if not rule.matches(method, path):
                    continue
                if rule.kind == "latency":
                    latency = rule
                else:
                    action = rule
                if latency is not None and action is not None:
                    break
            for rule in (latency, action):
                if rule is None:
                    continue
                rule.hits += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
        return latency, action


class Stats:
    """Thread-safe request counters: total, by ``"METHOD /route/{template}"``, by answer status.

    Control requests (``/_emulator/...``) are not counted. A dropped connection counts under the
    status ``"dropped"``. ``in_flight`` / ``max_in_flight`` show how many requests were being held
    at once (long-polls), which is what the waiting benchmarks care about.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters; requests still in flight stay counted in ``in_flight``."""
        with self._lock:
            self._total = 0
            self._by_route: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._max_in_flight = self._in_flight

    def begin(self, route_key: str) -> None:
        with self._lock:
            self._total += 1
            self._by_route[route_key] += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self, status: int | str) -> None:
        with self._lock:
            self._in_flight -= 1
            self._by_status[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_route": dict(self._by_route),
                "by_status": dict(self._by_status),
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
            }
