"""HTTP handlers of the Apify emulator (the layer between :class:`~.server.EmulatorServer` and
:class:`~.apify_emulator.ApifyEmulator`).

Paths, parameters, status codes and bodies follow the API seeds: success bodies are wrapped in
``{"data": ...}``, lists in the pagination envelope, errors are ``{"error": {"type", "message"}}``;
dataset items are the bare items with ``X-Apify-Pagination-*`` headers. Key-value stores are in
:mod:`.apify_store_routes`.

Run logs are ``text/plain`` (:mod:`.apify_logs`), followed with ``stream=1``.

Long-polls (``waitForFinish`` on the get-run, start-run and last-run endpoints) compute the moment
the run turns terminal and sleep until then or the deadline, woken early by an abort, a clock
advance or a reset: one future and one timer per held request, no polling.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing import apify_params as params
from airflow_provider_tasks.testing.apify_items import FORMATS, render_chunks
from airflow_provider_tasks.testing.apify_logs import LogFollower
from airflow_provider_tasks.testing.apify_models import Dataset, Run
from airflow_provider_tasks.testing.apify_state import ApifyState
from airflow_provider_tasks.testing.apify_store_routes import StoreRoutes, not_found
from airflow_provider_tasks.testing.server import EmulatorServer, stream_chunks

_STREAM_OVER_ITEMS = 5000  # larger item responses are streamed chunk by chunk


class ApifyRoutes(EmulatorServer, StoreRoutes):
    """Route table and handlers over the emulator core; the emulator supplies what is declared here."""

    state: ApifyState

    @abstractmethod
    def limits_json(self) -> dict[str, Any]:
        """``GET /v2/users/me/limits`` data (call under the lock)."""

    def api_routes(self) -> list[web.AbstractRouteDef]:
        routes = [
            web.get("/v2/users/me", self._get_me),
            web.get("/v2/users/me/limits", self._get_limits),
            web.get("/v2/actor-tasks", self._list_tasks),
            web.get("/v2/actor-tasks/{taskId}", self._get_task),
            web.get("/v2/actor-tasks/{taskId}/input", self._get_task_input),
            web.get("/v2/actor-tasks/{taskId}/runs", self._list_task_runs),
            web.post("/v2/actor-tasks/{taskId}/runs", self._run_task),
            web.get("/v2/actor-tasks/{taskId}/runs/last", self._last_task_run),
            web.get("/v2/actor-runs", self._list_all_runs),
            web.get("/v2/actor-runs/{runId}", self._get_run),
            web.post("/v2/actor-runs/{runId}/abort", self._abort_run),
            web.get("/v2/actor-runs/{runId}/dataset", self._get_run_dataset),
            web.get("/v2/actor-runs/{runId}/dataset/items", self._get_run_dataset_items),
            web.get("/v2/actor-runs/{runId}/log", self._get_log),
            web.get("/v2/logs/{runId}", self._get_log),
            web.get("/v2/datasets/{datasetId}", self._get_dataset),
            web.get("/v2/datasets/{datasetId}/items", self._get_dataset_items),
        ]
        routes += self.store_routes()
        for prefix in ("/v2/actors", "/v2/acts"):  # current and older spelling of the same API
            routes += [
                web.get(prefix, self._list_actors),
                web.get(prefix + "/{actorId}", self._get_actor),
                web.get(prefix + "/{actorId}/runs", self._list_actor_runs),
                web.post(prefix + "/{actorId}/runs", self._run_actor),
                web.get(prefix + "/{actorId}/runs/last", self._last_actor_run),
            ]
        return routes

    # -- helpers -----------------------------------------------------------------------------
    def _task(self, request: web.Request) -> Any:
        task = self.state.find_task(request.match_info["taskId"])
        if task is None:
            raise not_found("Actor task")
        return task

    def _actor(self, request: web.Request) -> Any:
        actor = self.state.find_actor(request.match_info["actorId"])
        if actor is None:
            raise not_found("Actor")
        return actor

    def _run(self, request: web.Request) -> Run:
        run = self.state.runs.get(request.match_info["runId"])
        if run is None:
            raise not_found("Actor run")
        return run

    async def wait_run(self, run: Run, wait: float) -> dict[str, Any]:
        """The run's JSON once it is terminal or ``wait`` seconds have passed, whichever first."""
        deadline = self.clock.monotonic() + wait
        while True:
            t = self.clock.monotonic()
            with self.lock:
                terminal_at = run.terminal_at()
                if t >= terminal_at or t >= deadline or self.closing:
                    return run.to_json(t)
            await self.wait_for_change(run.id, min(terminal_at, deadline) - t)

    # -- user --------------------------------------------------------------------------------
    async def _get_me(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self.state.user_json()})

    async def _get_limits(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self.limits_json()})

    # -- Actors and tasks --------------------------------------------------------------------
    async def _list_actors(self, request: web.Request) -> web.Response:
        with self.lock:
            actors = sorted(self.state.actors.values(), key=lambda a: a.created_at)
            body = self._query(params.page, actors, request.query, lambda a: _actor_list_item(a))
        return self.json_response(body)

    async def _get_actor(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self._actor(request).to_json()})

    async def _list_tasks(self, request: web.Request) -> web.Response:
        with self.lock:
            tasks = sorted(self.state.tasks.values(), key=lambda task: task.created_at)
            body = self._query(params.page, tasks, request.query, lambda task: task.list_item())
        return self.json_response(body)

    async def _get_task(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self._task(request).to_json()})

    async def _get_task_input(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response(dict(self._task(request).input))

    # -- starting runs -----------------------------------------------------------------------
    async def _run_task(self, request: web.Request) -> web.Response:
        with self.lock:
            task = self._task(request)
        return await self._start(request, task.actor, task)

    async def _run_actor(self, request: web.Request) -> web.Response:
        with self.lock:
            actor = self._actor(request)
        return await self._start(request, actor, None)

    async def _start(self, request: web.Request, actor: Any, task: Any) -> web.Response:
        query = request.query
        options = self._query(params.run_options, query)
        wait = self._query(params.wait_secs, query)
        hooks = self._query(params.webhooks, query)
        raw = await request.read()
        body = self._body(raw, request.content_type)
        if task is not None:
            if body is not None and not isinstance(body, dict):
                raise self.invalid_input("The input of a task run must be a JSON object")
            run_input: Any = {**task.input, **(body or {})}
        else:
            run_input = body if body is not None else dict(actor.default_input)
        with self.lock:
            run = self.state.start_run(
                self.clock.monotonic(),
                actor=actor,
                task=task,
                options=options,
                run_input=run_input,
                input_bytes=len(raw),
                user_agent=request.headers.get("User-Agent"),
                client_ip=request.remote,
                webhooks=hooks,
            )
        data = await self.wait_run(run, wait)
        location = f"{request.url.origin()}/v2/actor-runs/{run.id}"
        return self.json_response({"data": data}, status=201, headers={"Location": location})

    def _body(self, raw: bytes, content_type: str) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            if "json" in content_type or content_type == "application/octet-stream":
                raise self.invalid_input("Input is not valid JSON") from None
            return raw.decode("utf-8", "replace")  # a non-JSON Actor input is stored as it came

    # -- reading runs ------------------------------------------------------------------------
    def _filtered_runs(self, request: web.Request, runs: list[Run]) -> list[Run]:
        query = request.query
        wanted = self._query(params.statuses, query)
        after = self._query(params.timestamp, query, "startedAfter")
        before = self._query(params.timestamp, query, "startedBefore")
        origin = query.get("origin")
        t = self.clock.monotonic()
        return [
            run
            for run in runs
            if (wanted is None or run.status_at(t) in wanted)
            and (after is None or run.started_at >= after)
            and (before is None or run.started_at <= before)
            and (not origin or run.origin == origin)
        ]

    def _run_list(self, request: web.Request, runs: list[Run]) -> web.Response:
        with self.lock:
            t = self.clock.monotonic()
            selected = self._filtered_runs(request, runs)
            body = self._query(params.page, selected, request.query, lambda run: run.list_item(t))
        return self.json_response(body)

    async def _list_task_runs(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self.state.runs_of(task=self._task(request))
        return self._run_list(request, runs)

    async def _list_actor_runs(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self.state.runs_of(actor=self._actor(request))
        return self._run_list(request, runs)

    async def _list_all_runs(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self.state.runs_of()
        return self._run_list(request, runs)

    async def _last(self, request: web.Request, runs: list[Run]) -> web.Response:
        wait = self._query(params.wait_secs, request.query)
        with self.lock:
            selected = self._filtered_runs(request, runs)
        if not selected:
            raise not_found("Actor run")
        return self.json_response({"data": await self.wait_run(selected[-1], wait)})

    async def _last_task_run(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self.state.runs_of(task=self._task(request))
        return await self._last(request, runs)

    async def _last_actor_run(self, request: web.Request) -> web.Response:
        with self.lock:
            runs = self.state.runs_of(actor=self._actor(request))
        return await self._last(request, runs)

    async def _get_run(self, request: web.Request) -> web.Response:
        wait = self._query(params.wait_secs, request.query)
        with self.lock:
            run = self._run(request)
        return self.json_response({"data": await self.wait_run(run, wait)})

    async def _abort_run(self, request: web.Request) -> web.Response:
        gracefully = self._query(params.boolean, request.query, "gracefully")
        with self.lock:
            run = self._run(request)
            t = self.clock.monotonic()
            changed = run.abort(t, gracefully)
            data = run.to_json(t)
        if changed:
            self.notify(run.id)
        return self.json_response({"data": data})

    # -- run logs ----------------------------------------------------------------------------
    log_max_chars: int

    async def _get_log(self, request: web.Request) -> web.StreamResponse:
        """The run's log as ``text/plain`` (see :mod:`.apify_logs`); ``stream=1`` follows it."""
        query = request.query
        stream = self._query(params.boolean, query, "stream")
        self._query(params.boolean, query, "raw")  # accepted; the emulated log has nothing to process
        download = self._query(params.boolean, query, "download")
        with self.lock:
            run = self._run(request)
        follower = LogFollower(self, lambda r: self.state.runs.get(r.id) is r)
        if stream:
            return await follower.stream(request, run, max_chars=self.log_max_chars)
        response = web.Response(text=follower.whole(run, max_chars=self.log_max_chars), charset="utf-8")
        response.content_type = "text/plain"
        if download:
            response.headers["Content-Disposition"] = f'attachment; filename="{run.id}.log"'
        return response

    # -- datasets ----------------------------------------------------------------------------
    def _dataset(self, request: web.Request) -> Dataset:
        if "runId" in request.match_info:
            found = self.state.datasets.get(self._run(request).dataset_id)
        else:
            found = self.state.find_dataset(request.match_info["datasetId"])
        if found is None:
            raise not_found("Dataset")
        return found

    async def _get_dataset(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self._dataset(request).to_json(self.clock.monotonic())})

    _get_run_dataset = _get_dataset

    async def _get_dataset_items(self, request: web.Request) -> web.Response:
        query = request.query
        fmt = query.get("format", "json").lower()
        if fmt not in FORMATS:
            raise self.invalid_input(f"Format {fmt!r} is not supported by the emulator: use json, jsonl or csv")
        offset = self._query(params.integer, query, "offset") or 0
        limit = self._query(params.integer, query, "limit")
        desc = self._query(params.boolean, query, "desc")
        skip_empty = self._query(params.boolean, query, "clean") or self._query(params.boolean, query, "skipEmpty")
        fields = params.csv_list(query, "fields")
        omit = params.csv_list(query, "omit")
        with self.lock:
            dataset = self._dataset(request)
            total = dataset.item_count_at(self.clock.monotonic())
        if dataset.page_cap:  # the server's own cap wins, and the header says so
            limit = min(limit or dataset.page_cap, dataset.page_cap)
        start = min(offset, total)
        end = total if not limit else min(total, offset + limit)
        indices: Any = range(total - 1 - start, total - 1 - end, -1) if desc else range(start, end)
        empty = dataset.is_empty if dataset.empty_every else None
        if skip_empty and empty is not None:  # empty items leave the window: a short page, not the end
            indices = [i for i in indices if not empty(i)]
        headers = {
            "X-Apify-Pagination-Offset": str(offset),
            "X-Apify-Pagination-Limit": str(limit or params.NO_LIMIT),
            "X-Apify-Pagination-Count": str(len(indices)),
            "X-Apify-Pagination-Total": str(total),
            "X-Apify-Pagination-Desc": "true" if desc else "false",
        }
        chunks = render_chunks(indices, fmt, fields, omit, empty, dataset.item_extra())
        body: Any = b"".join(chunks) if len(indices) <= _STREAM_OVER_ITEMS else stream_chunks(chunks)
        response = web.Response(body=body, headers=headers)
        response.headers["Content-Type"] = FORMATS[fmt]
        return response

    _get_run_dataset_items = _get_dataset_items


def _actor_list_item(actor: Any) -> dict[str, Any]:
    data = actor.to_json()
    return {key: data[key] for key in ("id", "createdAt", "modifiedAt", "name", "username", "title", "stats")}
