"""Bulk task uploads of the Lobstr.io emulator: ``POST /v1/tasks/upload`` and its state.

The documentation (notes §2.3, the "Check Upload Status" page) gives the request (multipart:
``squid`` plus a CSV/TSV ``file``), the status path ``GET /v1/tasks/upload/{upload_task_id}`` and
its answer ``{"id", "object": "task_upload", "state", "meta": {"valid", "inserted",
"duplicates", "invalid"}}`` with ``state`` PENDING, PROGRESS, SUCCESS or FAILURE, answered 202
while the upload is still in progress (notes §2). Choices where the documentation is silent:

* The upload answer is 200 with the same object as the status endpoint (``state`` PENDING); the
  CLI reads only its ``id``.
* The file's first row names the task params (``url``, or ``keyword``/``location`` for the demo
  crawler); each later row is one task, empty cells left out. Tab-separated when the part's
  content type is ``text/tab-separated-values`` or its name ends ``.tsv``, else comma-separated.
* A row whose params the crawler rejects counts in ``meta.invalid`` and is skipped; the others
  are ``valid``, and on SUCCESS split into ``inserted`` and ``duplicates`` (as ``POST /v1/tasks``
  skips duplicates). Tasks appear on the squid only when the upload reaches SUCCESS: the
  documentation warns not to start a run before then.
* FAILURE when the file is not UTF-8, has no row below its header, or no column names a task param; also when the
  emulator is told to fail uploads (:meth:`~.lobstr_emulator.LobstrEmulator.set_uploads`). A
  failed upload inserts nothing and its ``meta`` carries an ``error`` string (undocumented: the
  real API's failure detail is not shown).
* The state moves on the emulator's clock: PENDING for ``pending_secs``, PROGRESS for
  ``progress_secs``, then SUCCESS or FAILURE.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from airflow_provider_tasks.testing.lobstr_models import Squid

IN_PROGRESS = ("PENDING", "PROGRESS")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Files larger than this are refused (``FileSizeLimitExceeded``); the real limit is not documented."""


@dataclass(frozen=True)
class UploadTiming:
    """How long uploads stay PENDING and PROGRESS, and whether they are made to fail."""

    pending_secs: float = 0.5
    progress_secs: float = 1.0
    failure: str | None = None


@dataclass(eq=False)
class Upload:
    hash: str
    squid: Squid
    rows: list[dict[str, Any]]
    invalid: int
    failure: str | None
    created_mono: float
    timing: UploadTiming
    applied: bool = False
    inserted: int = 0
    duplicates: int = 0

    def state_at(self, t: float) -> str:
        elapsed = t - self.created_mono
        if elapsed < self.timing.pending_secs:
            return "PENDING"
        if elapsed < self.timing.pending_secs + self.timing.progress_secs:
            return "PROGRESS"
        return "FAILURE" if self.failure else "SUCCESS"

    def to_json(self, t: float) -> dict[str, Any]:
        state = self.state_at(t)
        meta: dict[str, Any] = {
            "valid": len(self.rows) if state != "PENDING" and not self.failure else 0,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "invalid": self.invalid if state != "PENDING" else 0,
        }
        if state == "FAILURE":
            meta["error"] = self.failure
        return {"id": self.hash, "object": "task_upload", "state": state, "meta": meta}


def parse_task_file(content: bytes, filename: str, content_type: str, task_keys: tuple[str, ...]) -> tuple[
    list[dict[str, Any]], int, str | None
]:
    """``(rows of params, invalid row count, failure)`` of an uploaded CSV/TSV file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], 0, "The file is not UTF-8 text"
    tab = content_type.startswith("text/tab-separated-values") or filename.lower().endswith(".tsv")
    reader = csv.reader(io.StringIO(text), delimiter="\t" if tab else ",")
    lines = [line for line in reader if any(cell.strip() for cell in line)]
    if len(lines) < 2:
        return [], 0, "The file has no rows (the first row names the columns)"
    header = [name.strip() for name in lines[0]]
    if not any(name in task_keys for name in header):
        return [], 0, f"No column names a task parameter ({', '.join(task_keys)})"
    rows: list[dict[str, Any]] = []
    invalid = 0
    for line in lines[1:]:
        params = {name: cell.strip() for name, cell in zip(header, line) if name and cell.strip()}
        if not params or any(name not in task_keys for name in params) or len(line) > len(header):
            invalid += 1
            continue
        rows.append(params)
    return rows, invalid, None
