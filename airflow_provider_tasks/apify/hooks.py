"""ApifyHook: authenticated access to the Apify API for operators, sensors and triggers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.apify.api import ApifyRecord, ApifyRun, RecordHead, RunOptions, Target
from airflow_provider_tasks.common.blobs import BodyHead
from airflow_provider_tasks.common.connection_form import with_connection_form
from airflow_provider_tasks.common.errors import NotFoundError
from airflow_provider_tasks.common.hook import HookOptions, PlatformHook
from airflow_provider_tasks.common.http import USER_AGENT
from airflow_provider_tasks.common.jsonl import jsonl_items
from airflow_provider_tasks.common.log_lines import tail
from airflow_provider_tasks.common.pagination import Page, iterate_items, iterate_pages
from airflow_provider_tasks.common.run_log import DEFAULT_TAIL_LINES, FOLLOW_SECONDS_WITHOUT_DEADLINE
from airflow_provider_tasks.common.sansio import ApiRequest, ApiResponse
from airflow_provider_tasks.common.starting import new_start_marker, start_once
from airflow_provider_tasks.common.streams import StreamedLines
from airflow_provider_tasks.common.times import parse_time

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")
LOG_LINE_CHARS = 10_000
"""Characters of one log line the log methods keep by default (the rest is counted)."""


@with_connection_form
class ApifyHook(PlatformHook[ApifyRun]):
    """Calls the Apify API with the token of an ``apify`` connection (its password, sent only as an
    ``Authorization: Bearer`` header); its optional host replaces ``https://api.apify.com``.

    :param apify_conn_id: the Airflow connection to use (kept as :attr:`conn_id`).
    :param options: ``retry_policy`` and ``timeout``, as for :class:`~airflow_provider_tasks.common.hook.PlatformHook`.
    """

    conn_name_attr = "apify_conn_id"
    default_conn_name = "apify_default"
    conn_type = "apify"
    hook_name = "Apify"

    dialect = api.DIALECT

    def __init__(self, apify_conn_id: str = default_conn_name, **options: Unpack[HookOptions]) -> None:
        super().__init__(apify_conn_id, **options)

    # -- tasks -----------------------------------------------------------------------------

    def get_task(self, task_id: str) -> dict[str, Any]:
        """The task object; ``task_id`` is an id or ``username~task-name``."""
        return self.send(api.get_task(task_id), api.data_of)

    def iter_tasks(self, *, desc: bool = False, page_size: int = api.MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every task of the account, fetched a page at a time as the caller iterates."""
        return iterate_items(self.pager(api.parse_list_page), api.list_tasks(limit=page_size, desc=desc))

    # -- runs ------------------------------------------------------------------------------

    def iter_runs(
        self,
        target: Target,
        *,
        status: str | list[str] | None = None,
        desc: bool = False,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Runs of a task or Actor (list shape), optionally filtered by status, lazily paged."""
        first = api.list_runs(target, status=status, desc=desc, limit=page_size)
        return iterate_items(self.pager(api.parse_list_page), first)

    def iter_task_runs(self, task_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self.iter_runs(Target("task", task_id), **kwargs)

    def start_run(
        self,
        target: Target,
        options: RunOptions | None = None,
        run_input: Mapping[str, Any] | None = None,
        *,
        wait_for_finish: int | None = None,
        identity: str | None = None,
    ) -> ApifyRun:
        """Start one run of a task or Actor; a retried start never creates a second run.

        Every attempt carries the same marker in its ``User-Agent`` (Apify keeps it in the run's
        ``meta.userAgent``): after a failure that may have reached the server, the run bearing it is
        adopted, never another caller's. ``identity`` (see :func:`task_instance_marker`) rides along
        so that :meth:`find_unfinished_run` finds the run from a later try.
        """
        options = options or RunOptions()
        marker = new_start_marker()
        request = api.start_run(target, options, run_input, wait_for_finish=wait_for_finish)
        tag = f"start {marker}" if identity is None else f"start {marker}; {identity}"
        headers = {"User-Agent": f"{USER_AGENT} ({tag})"}

        def send_start() -> ApifyRun:
            return self.send(request, api.parse_run, headers=headers, retry=False)

        def find_started(since: float) -> ApifyRun | None:
            return self._find_run_with_marker(target, marker, since)

        return start_once(send_start, find_started, self.retry_policy, what=target.describe())

    def _find_run_with_marker(self, target: Target, marker: str, since: float) -> ApifyRun | None:
        page = self.pager(api.parse_list_page)(api.list_runs(target, desc=True, limit=20))
        for item in page.items:
            started = parse_time(item.get("startedAt"))
            if started is not None and started.timestamp() < since:
                break
            run = self.get_run(item["id"])
            if marker in (run.user_agent or ""):
                return run
        return None

    def find_unfinished_run(self, target: Target, identity: str, *, limit: int = 20) -> ApifyRun | None:
        """The newest READY or RUNNING run of ``target`` whose start carried ``identity``, or None."""
        request = api.list_runs(target, status=list(api.ACTIVE_STATUSES), desc=True, limit=limit)
        for item in self.pager(api.parse_list_page)(request).items:
            run = self.get_run(item["id"])
            if identity in (run.user_agent or "") and run.snapshot().resumable:
                return run
        return None

    def start_or_reuse_run(
        self,
        target: Target,
        options: RunOptions | None = None,
        run_input: Mapping[str, Any] | None = None,
        *,
        reuse_active_run: bool = False,
        identity: str | None = None,
    ) -> tuple[ApifyRun, bool]:
        """With ``reuse_active_run``, the target's newest READY or RUNNING run, whoever started it
        (one list request; the wait that follows reads the full run), else :meth:`start_run`; and
        whether the run was reused."""
        if reuse_active_run:
            request = api.list_runs(target, status=list(api.ACTIVE_STATUSES), desc=True, limit=1)
            items = self.pager(api.parse_list_page)(request).items
            if items:
                return ApifyRun(items[0]), True
        return self.start_run(target, options, run_input, identity=identity), False

    def run_task(
        self, task_id: str, options: RunOptions | None = None, run_input: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> ApifyRun:
        """Start a run of an Actor task (``run_input`` overrides the task's saved input)."""
        return self.start_run(Target("task", task_id), options, run_input, **kwargs)

    def run_actor(
        self,
        actor_id: str,
        options: RunOptions | None = None,
        run_input: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ApifyRun:
        """Start a run of an Actor (``run_input`` is its input)."""
        return self.start_run(Target("actor", actor_id), options, run_input, **kwargs)

    long_poll = True
    long_poll_window = float(api.MAX_WAIT_FOR_FINISH)

    def poll_run(self, run_id: str, wait: float = 0) -> ApifyRun:
        return self.get_run(run_id, wait_for_finish=_whole_seconds(wait))

    async def apoll_run(self, run_id: str, wait: float = 0) -> ApifyRun:
        return await self.aget_run(run_id, wait_for_finish=_whole_seconds(wait))

    def wrap_run(self, raw: dict[str, Any]) -> ApifyRun:
        return ApifyRun(raw)

    def get_run(self, run_id: str, *, wait_for_finish: int | None = None) -> ApifyRun:
        """The run; with ``wait_for_finish`` (≤ 60 s) the server answers as soon as it ends."""
        return self.send(api.get_run(run_id, wait_for_finish=wait_for_finish), api.parse_run)

    def last_run(self, target: Target, *, status: str | None = None) -> ApifyRun | None:
        """The newest run of a task or Actor (optionally with that status), or None."""
        try:
            return self.send(api.last_run(target, status=status), api.parse_run)
        except NotFoundError:
            return None

    def abort_run(self, run_id: str, *, gracefully: bool = False) -> ApifyRun:
        """Abort the run; on a run that already ended this changes nothing."""
        return self.send(api.abort_run(run_id, gracefully=gracefully), api.parse_run)

    # -- run logs --------------------------------------------------------------------------

    def get_run_log(self, run_id: str) -> str:
        """The run's whole log as text (what Apify keeps of it: the trailing 5M characters)."""
        return self.send(api.get_run_log(run_id), api.parse_log)

    def get_run_log_tail(
        self, run_id: str, lines: int = DEFAULT_TAIL_LINES, *, max_line_chars: int = LOG_LINE_CHARS
    ) -> list[str]:
        """The last ``lines`` lines of the run's log. The log is read as it arrives, holding only
        the last ``lines`` lines, each cut to ``max_line_chars`` characters (then ending in
        ``… [N more characters]``): memory stays small however long the log. Retried as a whole."""

        def last(head: ApiResponse, chunks: Iterator[bytes]) -> list[str]:
            api.check_log(head)
            return tail(chunks, lines, max_line_chars)

        return self.transport.send_streamed(api.get_run_log(run_id), last)

    def open_run_log_stream(
        self, run_id: str, *, follow_secs: float = FOLLOW_SECONDS_WITHOUT_DEADLINE, max_line_chars: int = LOG_LINE_CHARS
    ) -> StreamedLines:
        """The run's log from its start, then each line as the run writes it, until the run ends
        (or ``follow_secs`` pass); ``abort()`` ends it from another thread. Iterate it, then
        ``close()`` it (or use it as a context manager). Not retried: a second request would send
        the lines again."""
        stream = self.transport.open_stream(api.get_run_log(run_id, stream=True, follow_secs=follow_secs))
        try:
            api.check_log(stream.head)
        except Exception:
            stream.close()
            raise
        return StreamedLines(stream, max_line_chars)

    def stream_run_log(
        self, run_id: str, *, follow_secs: float = FOLLOW_SECONDS_WITHOUT_DEADLINE, max_line_chars: int = LOG_LINE_CHARS
    ) -> Iterator[str]:
        """The run's log line by line as the run writes it (a generator), ending when the run ends;
        see :meth:`open_run_log_stream`."""
        with self.open_run_log_stream(run_id, follow_secs=follow_secs, max_line_chars=max_line_chars) as lines:
            yield from lines

    # -- datasets --------------------------------------------------------------------------

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        return self.send(api.get_dataset(dataset_id), api.data_of)

    def iter_dataset_jsonl(
        self,
        dataset_id: str,
        *,
        page_size: int = api.MAX_PAGE_SIZE,
        clean: bool = False,
        fields: list[str] | None = None,
        omit: list[str] | None = None,
    ) -> Iterator[bytes]:
        """The dataset as JSON Lines bytes, never parsed (the fast path to a ``.jsonl`` file). Each
        page is spooled, checked (a bad page is retried) and only then yielded, in blocks (a block
        may end mid-line, a page ends with a newline); memory stays bounded. Fewer items than the
        dataset's total (``clean`` aside) end in :class:`IncompleteDataError`."""
        first = api.dataset_items(dataset_id, limit=page_size, clean=clean, fields=fields, omit=omit, fmt="jsonl")

        def fetch(request: ApiRequest) -> Page[Any]:
            return self.transport.send_streamed(
                request, lambda head, chunks: api.parse_jsonl_page(request, head, chunks)
            )

        for page in iterate_pages(fetch, first, what=f"Apify dataset {dataset_id}"):
            for spooled in page.items:
                yield from spooled.blocks()

    def iter_dataset_items(self, dataset_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The dataset's items one at a time, parsed line by line from :meth:`iter_dataset_jsonl`."""
        return jsonl_items(self.iter_dataset_jsonl(dataset_id, **kwargs), f"Apify dataset {dataset_id}")

    # -- key-value stores ------------------------------------------------------------------

    def iter_keys(
        self,
        store_id: str,
        *,
        prefix: str | None = None,
        exclusive_start_key: str | None = None,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """The store's keys (``{"key", "size", …}``) in key order, after ``exclusive_start_key``,
        optionally only those starting with ``prefix``; fetched a page at a time (paged by key with
        ``exclusiveStartKey``, as the API does) while the caller iterates."""
        first = api.list_keys(store_id, exclusive_start_key=exclusive_start_key, limit=page_size, prefix=prefix)
        return iterate_items(self.pager(api.parse_keys_page), first)

    def stream_record(self, store_id: str, key: str, consume: Callable[[RecordHead, Iterator[bytes]], T]) -> T:
        """Read one record without holding it: ``consume`` gets the record's head (its
        ``Content-Type`` and announced length) and its body as it arrives, bytes exactly as stored,
        and its result is returned. A failure of the request, the body or ``consume`` (a body
        shorter than its ``Content-Length``, see ``common/blobs.py``) is retried as a whole by the
        retry policy, so ``consume`` must start afresh on each call (stage a new file). A missing
        store or record is a :class:`NotFoundError` naming both."""
        request = api.get_record(store_id, key)
        return self.transport.send_streamed(
            request, lambda head, chunks: consume(RecordHead(store_id, key, BodyHead.of(head.headers)), chunks)
        )

    def get_record(self, store_id: str, key: str, *, max_bytes: int | None = None) -> ApifyRecord:
        """One record read whole into memory (bytes exactly as stored, and its ``Content-Type``):
        for small records; larger than ``max_bytes`` (default: the 64 MiB cap on any answer) is a
        :class:`ResponseTooLargeError` found before it is read. :meth:`stream_record` for any size."""
        request = api.get_record(store_id, key, max_body=max_bytes)
        return self.send(request, lambda response: api.parse_record(store_id, key, response))

    # -- async, for triggers ---------------------------------------------------------------

    async def aget_run(self, run_id: str, *, wait_for_finish: int | None = None) -> ApifyRun:
        return await self.asend(api.get_run(run_id, wait_for_finish=wait_for_finish), api.parse_run)

    async def aabort_run(self, run_id: str, *, gracefully: bool = False) -> ApifyRun:
        return await self.asend(api.abort_run(run_id, gracefully=gracefully), api.parse_run)


def _whole_seconds(wait: float) -> int:
    """``waitForFinish`` takes whole seconds: round up, so 0.5 s never becomes "do not wait"."""
    return math.ceil(wait) if wait > 0 else 0
