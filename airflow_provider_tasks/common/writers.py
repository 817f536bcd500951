"""Streaming writers of item pages to a JSON Lines, JSON or CSV file (local or ``ObjectStoragePath``), one page in
memory. The file gets its name only once complete, so a failed download never looks finished."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.validation import require_choice

FORMATS = ("jsonl", "json", "csv")


@dataclass(frozen=True)
class WriteResult:
    path: str
    item_count: int
    format: str


def write_pages(pages: Iterable[list[dict[str, Any]]], output_path: Any, fmt: str) -> WriteResult:
    """Write every item of ``pages`` to ``output_path`` (str, os.PathLike or ObjectStoragePath)."""
    require_choice("format", fmt, FORMATS)
    with staged(output_path) as binary:
        stream = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)
        count = _WRITERS[fmt](pages, stream)
        stream.detach()
    return WriteResult(str(output_path), count, fmt)


def write_jsonl_chunks(chunks: Iterable[bytes], output_path: Any) -> WriteResult:
    """Write JSON Lines the platform already serialised (and the source checked), unparsed; the chunks are pieces of
    one stream (a line may span two). A missing final newline is added."""
    count = 0
    last = b"\n"
    with staged(output_path) as stream:
        for chunk in chunks:
            if not chunk:
                continue
            stream.write(chunk)
            count += chunk.count(b"\n")
            last = chunk
        if not last.endswith(b"\n"):
            stream.write(b"\n")
            count += 1
    return WriteResult(str(output_path), count, "jsonl")


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _write_jsonl(pages: Iterable[list[dict[str, Any]]], stream: IO[str]) -> int:
    count = 0
    for items in pages:
        if items:
            stream.write("\n".join(map(_dumps, items)) + "\n")
            count += len(items)
    return count


def _write_json(pages: Iterable[list[dict[str, Any]]], stream: IO[str]) -> int:
    count = 0
    stream.write("[")
    for items in pages:
        if items:
            stream.write(("," if count else "") + ",".join(map(_dumps, items)))
            count += len(items)
    stream.write("]\n")
    return count


def flatten(item: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects and lists become ``a/b`` and ``a/0`` columns, as Apify's own CSV export does."""
    if not isinstance(item, (dict, list)):
        return {prefix: item}
    flat: dict[str, Any] = {}
    for key, value in item.items() if isinstance(item, dict) else enumerate(item):
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, (dict, list)) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def _write_csv(pages: Iterable[list[dict[str, Any]]], stream: IO[str]) -> int:
    """CSV needs every column up front: rows are spooled to a temporary file while the columns are collected.
    An empty object or list is written as its JSON (``{}``, ``[]``), a null as an empty cell."""
    columns: dict[str, None] = {}
    count = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for items in pages:
            for item in items:
                row = flatten(item)
                columns.update(dict.fromkeys(row))
                spool.write(_dumps(row) + "\n")
                count += 1
        spool.seek(0)
        writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for line in spool:
            writer.writerow({k: _dumps(v) if isinstance(v, (dict, list)) else v for k, v in json.loads(line).items()})
    return count


_WRITERS = {"jsonl": _write_jsonl, "json": _write_json, "csv": _write_csv}


def check_output_path(output_path: Any) -> None:
    """Refuse an ``output_path`` naming a directory (a trailing ``/``, or an existing one) before any download."""
    text = str(output_path or "")
    if not text.strip():
        raise ConfigurationError("output_path must name a file, got an empty value")
    target = _as_target(output_path)
    try:
        is_dir = os.path.isdir(target) if isinstance(target, str) else bool(target.is_dir())
    except Exception:  # an object store that cannot answer now: the write will tell
        is_dir = False
    if text.endswith(("/", os.sep)) or is_dir:
        raise ConfigurationError(
            f"output_path {text!r} is a directory; give the file to write, e.g. {text.rstrip('/' + os.sep)}/items.jsonl"
        )


def _as_target(output_path: Any) -> Any:
    if isinstance(output_path, (str, os.PathLike)) and "://" not in str(output_path):
        return os.fspath(output_path)
    if isinstance(output_path, str):
        from airflow_provider_tasks.common.compat import object_storage_path_class

        return object_storage_path_class()(output_path)
    return output_path


@contextlib.contextmanager
def staged(output_path: Any) -> Iterator[IO[bytes]]:
    """``output_path`` (str, os.PathLike or ObjectStoragePath) open for writing bytes, under a sibling temporary
    name that takes the final one only when the block ends without error; on any failure, closing and moving
    included, the temporary file is removed and nothing appears under that name."""
    target = _as_target(output_path)
    local = isinstance(target, str)
    tmp: Any
    if local:
        directory = os.path.dirname(os.path.abspath(target))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=directory)
        stream: IO[bytes] = open(fd, "wb", buffering=1 << 20)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".partial-{target.name}"
        stream = tmp.open("wb")
    try:
        with contextlib.closing(stream):
            yield stream
        if local:
            os.replace(tmp, target)
        else:
            tmp.rename(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError if local else Exception):
            if local:
                os.unlink(tmp)
            else:
                tmp.unlink(missing_ok=True)
        raise
