"""HTTP handlers of the Lobstr.io emulator (the layer between :class:`~.server.EmulatorServer` and
:class:`~.lobstr_emulator.LobstrEmulator`).

Paths are under ``/v1`` and answer bare JSON objects (no ``data`` wrapper) or the pagination
envelope of :mod:`.lobstr_params`; every success is a 200, as the documentation labels them.
Errors are ``{"error": {"message", "type", "param"}}`` (``not_found_error``/``validation_error``).

The signed export URL of ``GET /v1/runs/{hash}/download`` points at this server's
``/_emulator/exports/<run>.csv?Expires=...`` -- outside the API, so, like S3, without auth (and
without faults); it answers S3-style XML errors: 404 ``NoSuchKey``, 403 ``AccessDenied`` once the
URL has expired (:data:`EXPORT_URL_SECS` on the emulator's clock).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.lobstr_models import Squid, Task, new_hash
from airflow_provider_tasks.testing.lobstr_params import MAX_LIMIT, invalid, not_found, paginate, required
from airflow_provider_tasks.testing.lobstr_results import export_chunks, rows, segments
from airflow_provider_tasks.testing.lobstr_runs import Run
from airflow_provider_tasks.testing.lobstr_state import LobstrState
from airflow_provider_tasks.testing.lobstr_uploads import IN_PROGRESS, MAX_UPLOAD_BYTES
from airflow_provider_tasks.testing.server import EmulatorError, EmulatorServer, stream_chunks

EXPORT_URL_SECS = 600
_S3_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'


class LobstrRoutes(EmulatorServer):
    """Route table and handlers over the emulator core; the emulator supplies ``state``."""

    state: LobstrState

    def api_routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/v1/me", self._get_me),
            web.get("/v1/user/balance", self._get_balance),
            web.get("/v1/squids", self._list_squids),
            web.get("/v1/squids/{squid_hash}", self._get_squid),
            web.get("/v1/tasks", self._list_tasks),
            web.post("/v1/tasks", self._add_tasks),
            web.post("/v1/tasks/upload", self._upload_tasks),
            web.get("/v1/tasks/upload/{upload_id}", self._get_upload),
            web.get("/v1/tasks/{task_hash}", self._get_task),
            web.delete("/v1/tasks/{task_hash}", self._delete_task),
            web.get("/v1/runs", self._list_runs),
            web.post("/v1/runs", self._start_run),
            web.get("/v1/runs/{run_hash}", self._get_run),
            web.post("/v1/runs/{run_hash}/abort", self._abort_run),
            web.get("/v1/runs/{run_hash}/stats", self._run_stats),
            web.get("/v1/runs/{run_hash}/download", self._run_download),
            web.get("/v1/runtasks", self._list_runtasks),
            web.get("/v1/results", self._list_results),
            web.get("/_emulator/exports/{file}", self._export_file),
        ]

    # -- lookups (under the lock) ----------------------------------------------------------
    def _squid(self, squid_hash: str, param: str) -> Squid:
        squid = self.state.squids.get(squid_hash)
        if squid is None:
            raise not_found("Squid not found", param)
        return squid

    def _task(self, request: web.Request) -> Task:
        task = self.state.tasks.get(request.match_info["task_hash"])
        if task is None:
            raise not_found("Task not found", "task_hash")
        return task

    def _run(self, run_hash: str, param: str = "run_hash", message: str = "Run not found") -> Run:
        run = self.state.runs.get(run_hash)
        if run is None:
            raise not_found(message, param)
        return run

    def export_url(self, request: web.Request, run: Run, t: float) -> str | None:
        """The signed URL of the run's CSV export, or None while the export is not ready."""
        if run.status_at(t) not in ("done", "aborted"):
            return None
        expires = int(self.clock.now().timestamp()) + EXPORT_URL_SECS
        stamp = run.wall(run.timeline.terminal_at()).strftime("%Y%m%d_%H%M")
        query = {
            "Expires": str(expires),
            "Signature": new_hash(f"signature:{run.hash}:{expires}"),
            "response-content-disposition": f'attachment; filename="{run.squid.name}_{stamp}.csv"',
        }
        return str(request.url.origin().with_path(f"/_emulator/exports/{run.hash}.csv").with_query(query))

    # -- account ---------------------------------------------------------------------------
    async def _get_me(self, request: web.Request) -> web.Response:
        return self.json_response(self.state.user_json())

    async def _get_balance(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response(self.state.balance_json(self.clock.monotonic()))

    # -- squids ----------------------------------------------------------------------------
    def squid_json(self, request: web.Request, squid: Squid, t: float) -> dict[str, Any]:
        return squid.to_json(t, self.export_url(request, squid.runs[-1], t) if squid.runs else None)

    async def _list_squids(self, request: web.Request) -> web.Response:
        name = request.query.get("name", "").lower()
        with self.lock:
            t = self.clock.monotonic()
            squids = [squid for squid in self.state.squids.values() if name in squid.name.lower()]
            body = paginate(request, len(squids), lambda a, b: [self.squid_json(request, s, t) for s in squids[a:b]])
        return self.json_response(body)

    async def _get_squid(self, request: web.Request) -> web.Response:
        with self.lock:
            self.state.settle(self.clock.monotonic())
            squid = self._squid(request.match_info["squid_hash"], "squid_hash")
            return self.json_response(self.squid_json(request, squid, self.clock.monotonic()))

    # -- tasks -----------------------------------------------------------------------------
    async def _list_tasks(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "")
        if kind not in ("", "url", "params"):
            raise invalid("'type' must be 'url' or 'params'", "type")
        with self.lock:
            self.state.settle(self.clock.monotonic())
            tasks = list(self._squid(required(request.query, "squid"), "squid").tasks.values())
            if kind:
                tasks = [task for task in tasks if ("url" in task.params) == (kind == "url")]
            body = paginate(request, len(tasks), lambda a, b: [task.list_item() for task in tasks[a:b]])
        return self.json_response(body)

    async def _get_task(self, request: web.Request) -> web.Response:
        with self.lock:
            self.state.settle(self.clock.monotonic())
            return self.json_response(self._task(request).to_json(self.clock.monotonic()))

    async def _add_tasks(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if not isinstance(body, dict):
            raise invalid("Expected a JSON object with 'squid' and 'tasks'")
        if not isinstance(body.get("squid"), str) or not body["squid"]:
            raise invalid("This field is required.", "squid")
        inputs = body.get("tasks")
        if not isinstance(inputs, list) or not inputs:
            raise invalid("A non-empty list of tasks is required.", "tasks")
        with self.lock:
            self.state.settle(self.clock.monotonic())
            squid = self._squid(body["squid"], "squid")
            try:
                self.state.check_task_params(inputs)
            except ValueError as exc:
                raise invalid(str(exc), "tasks") from None
            created, duplicates = self.state.add_tasks(squid, inputs)
        return self.json_response({"duplicated_count": duplicates, "tasks": [task.added_item() for task in created]})

    async def _delete_task(self, request: web.Request) -> web.Response:
        with self.lock:
            self.state.settle(self.clock.monotonic())
            task = self._task(request)
            self.state.delete_task(task)
        return self.json_response({"id": task.hash, "object": "task", "deleted": True})

    async def _upload_tasks(self, request: web.Request) -> web.Response:
        """``POST /v1/tasks/upload``: multipart ``squid`` + ``file`` (see :mod:`.lobstr_uploads`)."""
        if not request.content_type.startswith("multipart/form-data"):
            raise invalid("Expected a multipart/form-data body with 'squid' and 'file'")
        form = await request.post()
        squid_hash = form.get("squid")
        if not isinstance(squid_hash, str) or not squid_hash.strip():
            raise invalid("This field is required.", "squid")
        part = form.get("file")
        if not isinstance(part, web.FileField):
            raise invalid("A CSV or TSV file is required.", "file")
        content = part.file.read()
        if len(content) > MAX_UPLOAD_BYTES:
            raise EmulatorError(400, "FileSizeLimitExceeded", f"The file is larger than {MAX_UPLOAD_BYTES} bytes")
        with self.lock:
            squid = self._squid(squid_hash.strip(), "squid")
            t = self.clock.monotonic()
            upload = self.state.start_upload(squid, content, part.filename or "", part.content_type or "", t)
            return self.json_response(upload.to_json(t))

    async def _get_upload(self, request: web.Request) -> web.Response:
        """``GET /v1/tasks/upload/{id}``: 202 while PENDING or PROGRESS, 200 once it has ended."""
        with self.lock:
            t = self.clock.monotonic()
            self.state.settle(t)
            upload = self.state.uploads.get(request.match_info["upload_id"])
            if upload is None:
                raise not_found("Upload not found", "upload_task_id")
            body = upload.to_json(t)
        return self.json_response(body, status=202 if body["state"] in IN_PROGRESS else 200)

    # -- runs ------------------------------------------------------------------------------
    async def _start_run(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("squid"), str) or not body["squid"]:
            raise invalid("This field is required.", "squid")
        with self.lock:
            squid = self._squid(body["squid"], "squid")
            t = self.clock.monotonic()
            try:
                run = self.state.start_run(squid, t)
            except ValueError as exc:
                raise invalid(str(exc), "squid") from None
            return self.json_response(run.to_json(t))

    async def _list_runs(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self._squid(required(request.query, "squid"), "squid").runs[::-1]
            t = self.clock.monotonic()
            body = paginate(request, len(runs), lambda a, b: [run.to_json(t) for run in runs[a:b]])
        return self.json_response(body)

    async def _get_run(self, request: web.Request) -> web.Response:
        with self.lock:
            run = self._run(request.match_info["run_hash"])
            return self.json_response(run.to_json(self.clock.monotonic(), duration_text_form=True))

    async def _abort_run(self, request: web.Request) -> web.Response:
        message = "Run not found or already completed"
        with self.lock:
            run = self._run(request.match_info["run_hash"], message=message)
            t = self.clock.monotonic()
            if not run.abort(t):
                raise not_found(message, "run_hash")
            return self.json_response(run.to_json(t))

    async def _run_stats(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response(self._run(request.match_info["run_hash"]).stats_json(self.clock.monotonic()))

    async def _run_download(self, request: web.Request) -> web.Response:
        message = "Run not found or export not ready"
        with self.lock:
            run = self._run(request.match_info["run_hash"], message=message)
            url = self.export_url(request, run, self.clock.monotonic())
        if url is None:
            raise not_found(message, "run_hash")
        return self.json_response({"s3": url})

    async def _list_runtasks(self, request: web.Request) -> web.Response:
        with self.lock:
            run = self._run(required(request.query, "run"), "run")
            t = self.clock.monotonic()
            body = paginate(request, len(run.tasks), lambda a, b: [run.runtask_json(i, t) for i in range(a, b)])
        return self.json_response(body)

    # -- results ---------------------------------------------------------------------------
    async def _list_results(self, request: web.Request) -> web.Response:
        query = request.query
        squid_hash, run_hash, task_hash = query.get("squid"), query.get("run"), query.get("task") or None
        if bool(squid_hash) == bool(run_hash):
            raise invalid("Provide exactly one of 'squid' or 'run'", "squid,run")
        with self.lock:
            runs = [self._run(run_hash, "run")] if run_hash else self._squid(squid_hash or "", "squid").runs
            if task_hash and task_hash not in self.state.tasks and not any(r.includes(task_hash) for r in runs):
                raise not_found("Task not found", "task")
            found = segments(runs, self.clock.monotonic(), task_hash)
            total, cap, served = sum(s.count for s in found), self.state.results_page_cap, self.state.export_limit
            body = paginate(
                request, total, lambda a, b: list(rows(found, a, b)), max_limit=cap or MAX_LIMIT, served=served
            )
        if served is not None and total > served:
            body["warning"] = (
                f"Export limit reached - only {served} results returned. Upgrade your plan to export all results."
            )
        return self.json_response(body)

    # -- the signed export file ------------------------------------------------------------
    async def _export_file(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            run = self.state.runs.get(request.match_info["file"].removesuffix(".csv"))
            t = self.clock.monotonic()
            ready = run is not None and run.status_at(t) in ("done", "aborted")
        expires = request.query.get("Expires", "")
        if run is None or not ready or not expires.isdigit():
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if int(expires) < self.clock.now().timestamp():
            return _s3_error(403, "AccessDenied", "Request has expired")
        headers = {"Content-Type": "text/csv"}
        if "response-content-disposition" in request.query:
            headers["Content-Disposition"] = request.query["response-content-disposition"]
        return web.Response(body=stream_chunks(export_chunks(run, t)), headers=headers)


def _s3_error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        status=status, text=_S3_ERROR.format(code=code, message=message), content_type="application/xml"
    )
