"""LobstrHook: authenticated access to the Lobstr.io API for operators, sensors and triggers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.connection_form import with_connection_form
from airflow_provider_tasks.common.errors import ApiError, InputsRejectedError, NotFoundError, RunAlreadyActiveError
from airflow_provider_tasks.common.hook import HookOptions, PlatformHook
from airflow_provider_tasks.common.pagination import Page, iterate_items, iterate_pages
from airflow_provider_tasks.common.sansio import ApiRequest
from airflow_provider_tasks.common.starting import start_once
from airflow_provider_tasks.common.times import parse_time
from airflow_provider_tasks.lobstr import api
from airflow_provider_tasks.lobstr.api import AddedTasks, LobstrRun, LobstrTask, TaskUpload
from airflow_provider_tasks.lobstr.inputs import to_csv

if TYPE_CHECKING:
    from typing_extensions import Unpack

RESULTS_MIN_INTERVAL = 0.5
"""Lobstr.io allows 2 requests per second on /v1/results; pacing the pages avoids 429s."""
UPLOAD_POLL_INTERVAL = 2.0
"""Seconds between upload status requests (/v1/tasks allows 90 requests a minute)."""
UPLOAD_TIMEOUT = 900.0
"""How long a bulk upload may take before the task gives up on it."""


@with_connection_form
class LobstrHook(PlatformHook[LobstrRun]):
    """Calls the Lobstr.io API with the key of a ``lobstr`` connection (its password, sent only as an
    ``Authorization: Token`` header); its optional host replaces ``https://api.lobstr.io``.
    A 429's ``Retry-After`` is honoured.

    :param lobstr_conn_id: the Airflow connection to use (kept as :attr:`conn_id`).
    :param options: ``retry_policy`` and ``timeout``, as for :class:`~airflow_provider_tasks.common.hook.PlatformHook`.
    """

    conn_name_attr = "lobstr_conn_id"
    default_conn_name = "lobstr_default"
    conn_type = "lobstr"
    hook_name = "Lobstr.io"

    dialect = api.DIALECT
    min_poll_interval = api.MIN_POLL_INTERVAL

    def __init__(self, lobstr_conn_id: str = default_conn_name, **options: Unpack[HookOptions]) -> None:
        super().__init__(lobstr_conn_id, **options)

    # -- tasks -----------------------------------------------------------------------------

    def get_task(self, task_hash: str) -> LobstrTask:
        """The task with its status object (status, started_at, ended_at, is_done, totals, errors)."""
        return self.send(api.get_task(task_hash), api.parse_task)

    def iter_tasks(self, squid_id: str, *, page_size: int = api.MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every task of a squid, a page at a time."""
        return iterate_items(self.pager(api.parse_page), api.list_tasks(squid_id, limit=page_size))

    def add_tasks(self, squid_id: str, tasks: list[dict[str, Any]]) -> AddedTasks:
        """Add tasks (params dicts such as ``{"url": ...}``): the tasks created, and how many
        Lobstr.io skipped as duplicates of the squid's tasks (``duplicated_count``). Retried like a
        read: a lost answer's tasks come back as duplicates, never as second copies."""
        return self.send(api.add_tasks(squid_id, tasks), api.parse_added_tasks)

    def delete_task(self, task_hash: str) -> bool:
        """Delete a task; False when Lobstr.io does not know it (already deleted)."""
        try:
            self.send(api.delete_task(task_hash))
        except NotFoundError:
            return False
        return True

    def upload_tasks(self, squid_id: str, tasks: list[dict[str, Any]]) -> TaskUpload:
        """Start a bulk upload of ``tasks`` as a CSV file (``POST /v1/tasks/upload``); Lobstr.io
        inserts them in the background: follow it with :meth:`wait_for_upload`. Every value
        travels as text in the file."""
        return self.send(api.upload_tasks(squid_id, to_csv(tasks)), api.parse_upload)

    def get_upload(self, upload_id: str) -> TaskUpload:
        return self.send(api.get_upload(upload_id), api.parse_upload)

    def wait_for_upload(
        self, upload_id: str, *, poll_interval: float = UPLOAD_POLL_INTERVAL, timeout: float = UPLOAD_TIMEOUT
    ) -> TaskUpload:
        """The upload once it has ended SUCCESS; FAILURE raises :class:`InputsRejectedError` with
        its counts, and so does an upload still going after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            upload = self.get_upload(upload_id)
            if upload.state is api.UploadState.SUCCESS:
                return upload
            if upload.state is api.UploadState.FAILURE:
                raise InputsRejectedError(f"Lobstr.io task upload {upload_id} ended {upload.summary()}")
            if time.monotonic() + poll_interval > deadline:
                raise InputsRejectedError(
                    f"Lobstr.io task upload {upload_id} had not ended after {timeout:g} s: {upload.summary()}"
                )
            time.sleep(poll_interval)

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, squid_id: str, *, reuse_active_run: bool = False) -> LobstrRun:
        """Start a run of the squid; a retried start never creates a second run (see
        :func:`~airflow_provider_tasks.lobstr.api.adoptable_run`). A squid has one active run at
        most: if one is going, :class:`RunAlreadyActiveError`, or that run with ``reuse_active_run``."""
        return self.start_or_reuse_run(squid_id, reuse_active_run=reuse_active_run)[0]

    def start_or_reuse_run(self, squid_id: str, *, reuse_active_run: bool = False) -> tuple[LobstrRun, bool]:
        """:meth:`start_run`, and whether the run was reused. No list request is spent up front: the
        API's refusal of a second active run is what reveals the one to reuse."""
        reused: list[str] = []

        def send_start() -> LobstrRun:
            try:
                return self.send(api.start_run(squid_id), api.parse_run, retry=False)
            except ApiError as error:
                if not api.is_already_active(error):
                    raise
                active = self.active_run(squid_id)
                if reuse_active_run and active is not None:
                    self.log.info("Squid %s already has active run %s: waiting for it", squid_id, active.id)
                    reused.append(active.id)
                    return active
                which = f" ({active.id}, {active.raw.get('status')})" if active is not None else ""
                raise RunAlreadyActiveError(
                    f"Lobstr.io squid {squid_id} already has an active run{which}; pass "
                    "reuse_active_run=True to wait for it instead of failing"
                ) from None

        newest_before = self._newest_run_id(squid_id)

        def find_started(since: float) -> LobstrRun | None:
            fresh = []
            for run in islice(self.iter_runs(squid_id, page_size=10), 10):
                created = parse_time(run.get("created_at") or run.get("started_at"))
                if run.get("id") == newest_before or (created is not None and created.timestamp() < since):
                    break
                fresh.append(run)
            return api.adoptable_run(fresh, squid_id)

        run = start_once(send_start, find_started, self.retry_policy, what=f"squid {squid_id}")
        return run, run.id in reused

    def _newest_run_id(self, squid_id: str) -> str | None:
        """The id of the squid's newest run: what "runs created since" is measured against."""
        newest = next(iter(self.pager(api.parse_page)(api.list_runs(squid_id, limit=1)).items), None)
        return newest.get("id") if newest else None

    def iter_runs(self, squid_id: str, *, page_size: int = api.MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Runs of a squid, newest first, a page at a time."""
        return iterate_items(self.pager(api.parse_page), api.list_runs(squid_id, limit=page_size))

    def active_run(self, squid_id: str) -> LobstrRun | None:
        """The squid's newest run that has not reached a terminal status, if any."""
        for run in self.iter_runs(squid_id, page_size=10):
            if not api.RunStatus(run.get("status") or "unknown").is_terminal:
                return LobstrRun(run)
        return None

    def get_run(self, run_id: str) -> LobstrRun:
        return self.send(api.get_run(run_id), api.parse_run)

    def wrap_run(self, raw: dict[str, Any]) -> LobstrRun:
        return LobstrRun(raw)

    def poll_run(self, run_id: str, wait: float = 0) -> LobstrRun:
        return self.get_run(run_id)

    async def apoll_run(self, run_id: str, wait: float = 0) -> LobstrRun:
        return await self.asend(api.get_run(run_id), api.parse_run)

    async def aget_task(self, task_hash: str) -> LobstrTask:
        return await self.asend(api.get_task(task_hash), api.parse_task)

    def run_stats(self, run_id: str) -> dict[str, Any]:
        """Progress of a run (percent done, tasks done and left, results so far)."""
        return self.send(api.run_stats(run_id), api.object_of)

    def abort_run(self, run_id: str) -> LobstrRun | None:
        """Abort the run; a run that is unknown or already finished (404) is left as it is."""
        try:
            return self.send(api.abort_run(run_id), api.parse_run)
        except NotFoundError:
            self.log.info("Run %s was not running any more; nothing to abort", run_id)
            return None

    async def aabort_run(self, run_id: str) -> LobstrRun | None:
        try:
            return await self.asend(api.abort_run(run_id), api.parse_run)
        except NotFoundError:
            return None

    # -- results ---------------------------------------------------------------------------

    def iter_result_pages(
        self,
        *,
        run_id: str | None = None,
        squid_id: str | None = None,
        task_hash: str | None = None,
        page_size: int = api.MAX_PAGE_SIZE,
        min_interval: float = RESULTS_MIN_INTERVAL,
    ) -> Iterator[Page[dict[str, Any]]]:
        """Results of a run or of a squid, a page at a time, paced to the documented 2 requests per
        second; fewer rows than ``total_results`` raise :class:`IncompleteDataError`."""
        first = api.results(run=run_id, squid=squid_id, task=task_hash, limit=page_size)
        fetch = self.pager(api.parse_results_page)
        last = [0.0]

        def paced(request: ApiRequest) -> Page[dict[str, Any]]:
            pause = last[0] + min_interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            last[0] = time.monotonic()
            return fetch(request)

        source = f"run {run_id}" if run_id else f"squid {squid_id}"
        return iterate_pages(paced, first, what=f"Lobstr.io results of {source}")
