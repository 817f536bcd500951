"""Key-value stores of the Apify emulator: records with their own bytes and ``Content-Type``.

A store is a run's default one (``defaultKeyValueStoreId``) or a standalone one. Its records are

* ``INPUT``: the run's input, there from the start (JSON, or text for a non-JSON input);
* what the Actor writes when its run reaches its own outcome (not when the run is aborted through
  the API): by default one ``OUTPUT`` record, ``{"status", "itemCount"}`` as JSON; an Actor or task
  made with ``records={...}`` writes exactly those instead (``records={}``: nothing);
* whatever was put with ``PUT /v2/key-value-stores/{storeId}/records/{key}`` (as Apify's API
  takes it: any bytes, any ``Content-Type``) or the emulator's Python API; a put record replaces
  one of the same key.

Keys are listed in key order and paged by key (``exclusiveStartKey``), as the API does.
No HTTP here (see :mod:`.apify_store_routes`); callers hold the emulator's lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.testing.apify_models import TERMINAL, iso

if TYPE_CHECKING:
    from airflow_provider_tasks.testing.apify_models import Run

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"
KEYS_LIMIT = 1000
"""Default and largest ``limit`` of a keys page."""


@dataclass(frozen=True)
class Record:
    """One record: its key, its bytes exactly as stored, and its ``Content-Type``."""

    key: str
    value: bytes
    content_type: str

    @classmethod
    def of(cls, key: str, value: Any, content_type: str | None = None) -> Record:
        """A record from a Python value: bytes as they are (``application/octet-stream`` unless
        told), a str as UTF-8 text (``text/plain``), anything else as JSON (``application/json``).
        A ``(value, content_type)`` tuple names the type. A :class:`Record` keeps its own bytes."""
        if not key or "/" in key or len(key) > 256:
            raise ValueError(f"invalid record key {key!r}: 1-256 characters, no '/'")
        if isinstance(value, Record):
            return cls(key, value.value, content_type or value.content_type)
        if isinstance(value, tuple):
            if len(value) != 2:
                raise ValueError("a record given as a tuple is (value, content_type)")
            return cls.of(key, value[0], value[1])
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls(key, bytes(value), content_type or BINARY_TYPE)
        if isinstance(value, str):
            return cls(key, value.encode(), content_type or TEXT_TYPE)
        return cls(key, json.dumps(value, indent=2, allow_nan=False).encode(), content_type or JSON_TYPE)


def records_of(values: Mapping[str, Any] | None) -> tuple[Record, ...] | None:
    """``records=`` of an Actor or task as records (None stays None: the default ``OUTPUT``)."""
    if values is None:
        return None
    if not isinstance(values, Mapping):
        raise ValueError("records must be a mapping of key to value")
    return tuple(Record.of(key, value) for key, value in values.items())


@dataclass
class KeyValueStore:
    """A store: a run's default one (``run`` set) or a standalone one."""

    id: str
    name: str | None
    username: str
    user_id: str
    created_at: datetime
    run: Run | None = None
    put: dict[str, Record] = field(default_factory=dict)
    """Records put through the API or the Python API (they win over the run's own)."""

    def records_at(self, t: float) -> dict[str, Record]:
        """Every record the store holds at monotonic time ``t``, by key."""
        found: dict[str, Record] = {}
        run = self.run
        if run is not None:
            found["INPUT"] = Record.of("INPUT", run.input)
            if run.timeline.abort_started is None and run.status_at(t) in TERMINAL:
                written = run.behaviour.records
                if written is None:
                    summary = {"status": run.status_at(t), "itemCount": run.item_count_at(t)}
                    written = (Record.of("OUTPUT", summary),)
                found.update((record.key, record) for record in written)
        found.update(self.put)
        return found

    def keys_page(
        self, t: float, *, exclusive_start_key: str | None, limit: int | None, prefix: str | None, base_url: str
    ) -> dict[str, Any]:
        """``GET …/keys`` data: keys in order after ``exclusive_start_key``, at most ``limit``."""
        limit = KEYS_LIMIT if not limit else min(limit, KEYS_LIMIT)
        records = self.records_at(t)
        keys = sorted(key for key in records if (not prefix or key.startswith(prefix)))
        after = [key for key in keys if exclusive_start_key is None or key > exclusive_start_key]
        chunk = after[:limit]
        truncated = len(after) > limit
        return {
            "items": [
                {
                    "key": key,
                    "size": len(records[key].value),
                    "recordPublicUrl": f"{base_url}/v2/key-value-stores/{self.id}/records/{key}",
                }
                for key in chunk
            ],
            "count": len(chunk),
            "limit": limit,
            "exclusiveStartKey": exclusive_start_key,
            "isTruncated": truncated,
            "nextExclusiveStartKey": chunk[-1] if truncated else None,
        }

    def to_json(self, t: float) -> dict[str, Any]:
        run = self.run
        modified = run.wall(min(t, run.terminal_at())) if run is not None else self.created_at
        records = self.records_at(t)
        return {
            "id": self.id,
            "name": self.name,
            "userId": self.user_id,
            "username": self.username,
            "createdAt": iso(self.created_at),
            "modifiedAt": iso(modified),
            "accessedAt": iso(modified),
            "actId": run.actor.id if run is not None else None,
            "actRunId": run.id if run is not None else None,
            "consoleUrl": f"https://console.apify.com/storage/key-value-stores/{self.id}",
            "generalAccess": "FOLLOW_USER_SETTING",
            "stats": {
                "readCount": 0,
                "writeCount": len(records),
                "deleteCount": 0,
                "listCount": 0,
                "storageBytes": sum(len(record.value) for record in records.values()),
            },
        }
