"""Deterministic dataset items for the Apify emulator, rendered as JSON, JSON lines or CSV.

Item ``i`` is a pure function of ``i`` (:func:`make_item`; an Actor that echoes its input adds the
run's input to every item), so a dataset is just a length: a 1,000,000-item dataset costs no
memory, and any page can be produced, in either order, on demand.
Pages are rendered in chunks (:func:`render_chunks`) so a large response streams with flat memory.

The plain JSON and JSON-lines paths (no ``fields``/``omit``) skip ``json.dumps`` and fill a text
template (:func:`item_json`), several times faster; a test pins it to ``json.dumps`` byte for byte.

The generated items have no hidden (``#``-prefixed) fields, so ``skipHidden`` changes nothing. A
dataset may make some items empty (``{}``, the ``empty`` predicate of :func:`render_chunks`); then
``clean`` and ``skipEmpty`` drop those from the page, which therefore holds fewer than ``limit``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

CHUNK_ITEMS = 1000

_TAGS = ("new", "sale", "popular", "limited", "eco")
_PRICES = [f"{(n / 100)!r}" for n in range(10_000)]
_TEMPLATE = (
    '{"id":%d,"url":"https://example.com/item/%d","title":"Item %d","price":%s,'
    '"tags":["%s","%s"],"details":{"rank":%d,"inStock":%s}}'
)

FORMATS = {
    "json": "application/json; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def make_item(i: int) -> dict[str, Any]:
    """The dataset item at index ``i`` (same for every dataset)."""
    return {
        "id": i,
        "url": f"https://example.com/item/{i}",
        "title": f"Item {i}",
        "price": (i * 37 % 10_000) / 100,
        "tags": [_TAGS[i % 5], _TAGS[(i + 2) % 5]],
        "details": {"rank": i % 100, "inStock": i % 3 != 0},
    }


def item_json(i: int) -> str:
    """``json.dumps(make_item(i), separators=(",", ":"))`` without building the dict."""
    return _TEMPLATE % (
        i,
        i,
        i,
        _PRICES[i * 37 % 10_000],
        _TAGS[i % 5],
        _TAGS[(i + 2) % 5],
        i % 100,
        "true" if i % 3 else "false",
    )


def with_extra(text: str, extra_json: str) -> str:
    """An item's compact JSON with the fields of ``extra_json`` (a compact JSON object) appended,
    as ``json.dumps({**item, **extra})`` writes it when ``extra`` has no key of the item."""
    return text if extra_json == "{}" else text[:-1] + "," + extra_json[1:]


def select(item: dict[str, Any], fields: Sequence[str] | None, omit: Sequence[str] | None) -> dict[str, Any]:
    """Apply ``fields`` (keep these, in this order) and ``omit`` (drop these) to one item."""
    if fields:
        item = {name: item[name] for name in fields if name in item}
    if omit:
        item = {name: value for name, value in item.items() if name not in omit}
    return item


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flatten nested objects and arrays into ``a/b/0`` keys, as Apify's CSV export does."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(inner, f"{prefix}/{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            flatten(inner, f"{prefix}/{index}" if prefix else str(index), out)
    else:
        out[prefix] = value
    return out


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def render_chunks(
    indices: Sequence[int],
    fmt: str,
    fields: Sequence[str] | None = None,
    omit: Sequence[str] | None = None,
    empty: Callable[[int], bool] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[bytes]:
    """Yield the response body for items at ``indices`` in ``fmt``, ``CHUNK_ITEMS`` at a time;
    items for which ``empty(i)`` holds are rendered as ``{}``; ``extra`` fields are added to every
    other item (before ``fields``/``omit`` apply)."""
    plain = not fields and not omit
    extra_json = json.dumps(dict(extra or {}), separators=(",", ":"))
    if fmt == "csv":
        yield from _csv_chunks(indices, fields, omit, empty, extra or {})
        return
    first = True
    if fmt == "json":
        yield b"["
    for start in range(0, len(indices), CHUNK_ITEMS):
        part = indices[start : start + CHUNK_ITEMS]
        if plain:
            texts = [with_extra(item_json(i), extra_json) for i in part]
        else:
            texts = [
                json.dumps(select({**make_item(i), **(extra or {})}, fields, omit), separators=(",", ":"))
                for i in part
            ]
        if empty is not None:
            texts = ["{}" if empty(i) else text for i, text in zip(part, texts)]
        if fmt == "json":
            yield (("" if first else ",") + ",".join(texts)).encode()
        else:
            yield ("\n".join(texts) + "\n").encode()
        first = False
    if fmt == "json":
        yield b"]"


def _csv_chunks(
    indices: Sequence[int],
    fields: Sequence[str] | None,
    omit: Sequence[str] | None,
    empty: Callable[[int], bool] | None,
    extra: Mapping[str, Any],
) -> Iterator[bytes]:
    if not indices:
        return
    # Every generated item has the same shape, so the union of columns is the first item's columns.
    header = list(flatten(select({**make_item(indices[0]), **extra}, fields, omit)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for start in range(0, len(indices), CHUNK_ITEMS):
        for i in indices[start : start + CHUNK_ITEMS]:
            row = {} if empty is not None and empty(i) else flatten(select({**make_item(i), **extra}, fields, omit))
            writer.writerow([_csv_cell(row.get(column)) for column in header])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
