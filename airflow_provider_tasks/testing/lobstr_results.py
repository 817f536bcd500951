"""Result rows of the Lobstr.io emulator, generated on demand, and the CSV export of a run.

Row ``j`` of a run's ``i``-th task is a pure function of ``(run, i, j)``, so a run of 100,000
results costs no memory: a query is a list of :class:`Segment` (a run's task and how many rows it
has collected by now), and a page renders only its own rows.

Every row carries ``id, object:"result", squid, run, scraping_time`` (the notes §2.10) plus the
demo crawler's own fields. The export file (``GET /v1/runs/{hash}/download``) is a CSV of the
run's rows without ``id``/``object``/``squid``/``run`` -- the columns the CLI keeps too; the real
export's columns are not documented.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from airflow_provider_tasks.testing.lobstr_models import naive_iso, new_hash
from airflow_provider_tasks.testing.lobstr_runs import Run

CATEGORIES = ("Restaurant", "Cafe", "Bakery", "Bar", "Bookshop")
EXPORT_COLUMNS = ("scraping_time", "position", "name", "category", "rating", "reviews_count", "address", "url")
_CHUNK_ROWS = 1000


class Segment(NamedTuple):
    """The rows a run's ``index``-th task has collected: ``count`` of them."""

    run: Run
    index: int
    count: int


def segments(runs: Iterable[Run], t: float, task_hash: str | None = None) -> list[Segment]:
    """The rows of ``runs`` (in order) at ``t``, optionally of one task only."""
    found = []
    for run in runs:
        for index, progress in enumerate(run.all_progress(t)):
            if progress.collected and (task_hash is None or run.tasks[index].hash == task_hash):
                found.append(Segment(run, index, progress.collected))
    return found


def row(run: Run, index: int, j: int) -> dict[str, Any]:
    """The ``j``-th result (0-based) of the run's ``index``-th task."""
    task = run.tasks[index]
    rank = j + 1
    number = index * 7919 + j
    return {
        "id": new_hash(f"result:{run.hash}:{task.hash}:{j}"),
        "object": "result",
        "squid": run.squid.hash,
        "run": run.hash,
        "scraping_time": naive_iso(run.wall(run.collected_at(index, j))),
        "position": rank,
        "name": f"Place {index + 1}-{rank}",
        "category": CATEGORIES[number % len(CATEGORIES)],
        "rating": round(3.0 + (number * 7 % 21) / 10, 1),
        "reviews_count": number * 37 % 1000,
        "address": f"{rank} Example Street, {index + 1:02d} Demo City",
        "url": f"https://example.com/place/{task.hash[:8]}/{rank}",
    }


def rows(found: list[Segment], start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Rows ``start`` (inclusive) to ``stop`` (exclusive) of the concatenated segments."""
    offset = 0
    for run, index, count in found:
        if offset >= stop:
            return
        for j in range(max(start - offset, 0), min(stop - offset, count)):
            yield row(run, index, j)
        offset += count


def export_chunks(run: Run, t: float) -> Iterator[bytes]:
    """The run's CSV export, :data:`_CHUNK_ROWS` rows at a time."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    found = segments([run], t)
    for n, item in enumerate(rows(found, 0, sum(s.count for s in found)), start=1):
        writer.writerow(item)
        if n % _CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
