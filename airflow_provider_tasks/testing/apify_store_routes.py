"""HTTP handlers of the Apify emulator's key-value stores (mixed into :class:`~.apify_routes.ApifyRoutes`).

=====================================================================  ===============================
``GET /v2/key-value-stores/{storeId}``                                 the store object
``GET /v2/key-value-stores/{storeId}/keys``                            ``exclusiveStartKey``, ``limit``
                                                                       (≤ 1000), ``prefix``
``GET /v2/key-value-stores/{storeId}/records/{recordKey}``             the record's own bytes and
                                                                       ``Content-Type``
``PUT /v2/key-value-stores/{storeId}/records/{recordKey}``             store the body under its
                                                                       ``Content-Type``: 201
``GET /v2/actor-runs/{runId}/key-value-store[/keys|/records/{key}]``   the same, for a run's default
=====================================================================  ===============================

A store is named by id or ``username~name``. A missing store or record is a 404 ``record-not-found``
whose message says which (``Key-value store was not found`` / ``Record was not found``). A record
answers 200 with its bytes exactly as stored, ``Content-Type`` as stored and a ``Content-Length``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing import apify_params as params
from airflow_provider_tasks.testing.apify_models import Run
from airflow_provider_tasks.testing.apify_state import ApifyState
from airflow_provider_tasks.testing.apify_stores import BINARY_TYPE, KeyValueStore, Record
from airflow_provider_tasks.testing.clock import Clock
from airflow_provider_tasks.testing.server import EmulatorError

MAX_RECORD_BYTES = 64 * 1024 * 1024


def not_found(what: str) -> EmulatorError:
    return EmulatorError(404, "record-not-found", f"{what} was not found")


class StoreRoutes:
    """Key-value store routes; what they need from the server is declared here."""

    state: ApifyState
    clock: Clock
    lock: Any

    @abstractmethod
    def json_response(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response: ...

    @abstractmethod
    def invalid_input(self, message: str) -> EmulatorError: ...

    @abstractmethod
    def _run(self, request: web.Request) -> Run: ...

    def _query(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a parameter parser, turning its ValueError into a 400 invalid-input."""
        try:
            return call(*args, **kwargs)
        except ValueError as exc:
            raise self.invalid_input(str(exc)) from None

    def store_routes(self) -> list[web.AbstractRouteDef]:
        routes: list[web.AbstractRouteDef] = []
        for prefix in ("/v2/key-value-stores/{storeId}", "/v2/actor-runs/{runId}/key-value-store"):
            routes += [
                web.get(prefix, self._get_store),
                web.get(prefix + "/keys", self._list_keys),
                web.get(prefix + "/records/{key}", self._get_record),
                web.put(prefix + "/records/{key}", self._put_record),
            ]
        return routes

    def _store(self, request: web.Request) -> KeyValueStore:
        if "runId" in request.match_info:
            store = self.state.stores.get(self._run(request).store_id)
        else:
            store = self.state.find_store(request.match_info["storeId"])
        if store is None:
            raise not_found("Key-value store")
        return store

    async def _get_store(self, request: web.Request) -> web.Response:
        with self.lock:
            return self.json_response({"data": self._store(request).to_json(self.clock.monotonic())})

    async def _list_keys(self, request: web.Request) -> web.Response:
        query = request.query
        limit = self._query(params.integer, query, "limit", minimum=1)
        with self.lock:
            data = self._store(request).keys_page(
                self.clock.monotonic(),
                exclusive_start_key=query.get("exclusiveStartKey") or None,
                limit=limit,
                prefix=query.get("prefix") or None,
                base_url=str(request.url.origin()),
            )
        return self.json_response({"data": data})

    async def _get_record(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]  # aiohttp has percent-decoded it
        with self.lock:
            record = self._store(request).records_at(self.clock.monotonic()).get(key)
        if record is None:
            raise not_found("Record")
        response = web.Response(body=record.value)
        response.headers["Content-Type"] = record.content_type  # as stored, charset and all
        if self._query(params.boolean, request.query, "attachment"):
            response.headers["Content-Disposition"] = f'attachment; filename="{key}"'
        return response

    async def _put_record(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]  # aiohttp has percent-decoded it
        body = await request.read()  # a gzip body arrives inflated: the record is what was meant
        if len(body) > MAX_RECORD_BYTES:
            raise self.invalid_input(f"Record is larger than {MAX_RECORD_BYTES} bytes")
        content_type = request.headers.get("Content-Type") or BINARY_TYPE
        try:
            record = Record.of(key, body, content_type)
        except ValueError as exc:
            raise self.invalid_input(str(exc)) from None
        with self.lock:
            self._store(request).put[key] = record
        return self.json_response({}, status=201)

