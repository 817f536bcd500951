"""A stateful local emulator of the Apify API v2, for tests, examples and benchmarks.

Use it in-process::

    with ApifyEmulator() as emulator:          # serves on http://127.0.0.1:<free port>
        emulator.add_task("quick", duration_secs=0.2, item_count=3)
        ...  # point the code under test at emulator.base_url with emulator.token

or as a process (prints ``Apify API emulator: base_url=http://127.0.0.1:8080 tokens=test-token``)::

    python -m airflow_provider_tasks.testing.apify_emulator --port 8765 [--host H] [--token T ...]

Seed data (user ``demo``): Actor ``demo~example-actor`` and tasks ``demo~succeeds-with-items``
(3 s, SUCCEEDED, 25 items), ``demo~fails`` (2 s, FAILED), ``demo~slow`` (120 s, SUCCEEDED, 25
items), ``demo~stuck-ready`` (stays READY), ``demo~times-out`` (2 s, TIMING-OUT -> TIMED-OUT).
Each run has a default key-value store holding ``INPUT`` and, once it ends, ``OUTPUT``
(:mod:`.apify_stores`); ``add_key_value_store``/``put_record`` (or ``PUT`` on the API, or
``POST /_emulator/key-value-stores`` ``{"records": {...}, "name": ...}``) add records.
Every run writes a log on the emulator's clock (``GET /v2/logs/{runId}``, see :mod:`.apify_logs`).
Everything is an independent fake of the remote API: it imports nothing of the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.apify_logs import LOG_MAX_CHARS
from airflow_provider_tasks.testing.apify_models import Behaviour
from airflow_provider_tasks.testing.apify_routes import ApifyRoutes
from airflow_provider_tasks.testing.apify_state import USERNAME, ApifyState
from airflow_provider_tasks.testing.apify_stores import Record, records_of

__all__ = ["ApifyEmulator", "main"]


class ApifyEmulator(ApifyRoutes):
    """The Apify API v2 on 127.0.0.1; see the module docstring. Its Python API is thread-safe."""

    platform_name = "Apify API"
    error_types = {
        "missing_credential": "token-not-provided",
        "invalid_credential": "user-or-token-not-found",
        "rate_limited": "rate-limit-exceeded",
        "server_error": "internal-server-error",
        "route_not_found": "page-not-found",
        "method_not_allowed": "method-not-allowed",
        "invalid_input": "invalid-input",
    }
    error_messages = {
        "missing_credential": "Authentication token was not provided",
        "invalid_credential": "User was not found or authentication token is not valid",
    }

    def __init__(
        self,
        tokens: tuple[str, ...] | list[str] = ("test-token",),
        *,
        username: str = USERNAME,
        max_concurrent_actor_jobs: int = 250,
        log_max_chars: int = LOG_MAX_CHARS,
    ) -> None:
        self._username = username
        self.max_concurrent_actor_jobs = max_concurrent_actor_jobs
        self._initial_log_max_chars = log_max_chars
        #: Trailing characters of a run log that are kept (Apify: 5M); ``reset`` restores the
        #: constructor's value, so a test may lower it for itself.
        self.log_max_chars = log_max_chars
        super().__init__(tokens)
        self.state = ApifyState(self.clock.now, username)

    # -- platform hooks ------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.add_routes(self.api_routes())
        app.add_routes(
            [
                self.create_route("/_emulator/tasks", self.add_task, "name", floats=("ready_secs", "unknown_secs")),
                self.create_route("/_emulator/actors", self.add_actor, "name", floats=("ready_secs", "unknown_secs")),
                self.create_route("/_emulator/datasets", self.add_dataset, "item_count"),
                self.create_route("/_emulator/key-value-stores", self.add_key_value_store, "records"),
                web.get("/_emulator/runs", self._ctl_runs),
            ]
        )

    def read_credential(self, request: web.Request) -> str | None:
        """``Authorization: Bearer <token>``; the ``?token=`` query parameter works too."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.query.get("token") or None

    def reset_state(self) -> None:
        self.state = ApifyState(self.clock.now, self._username)
        self.log_max_chars = self._initial_log_max_chars

    # -- Python API (thread-safe) ---------------------------------------------------------------
    def add_task(
        self,
        name: str,
        *,
        duration_secs: float = 3.0,
        outcome: str = "SUCCEEDED",
        item_count: int = 0,
        ready_secs: float = 0.0,
        status_message: str | None = None,
        input: dict[str, Any] | None = None,
        actor: str | None = None,
        timeout_secs: int | None = None,
        memory_mbytes: int | None = None,
        build: str | None = None,
        unknown_status: str | None = None,
        unknown_secs: float = 0.0,
        cost_per_second: float = 0.0,
        records: Mapping[str, Any] | None = None,
        log_lines: int = 3,
        echo_input: bool = False,
    ) -> dict[str, Any]:
        """Create task ``<username>~<name>`` whose runs play out as described; returns its JSON.

        ``ready_secs=math.inf`` keeps its runs READY forever. ``actor`` (id or ``user~name``)
        defaults to ``demo~example-actor``. A run whose duration exceeds its timeout (the
        ``timeout`` run option, else ``timeout_secs``, default 3600) ends TIMED-OUT at the limit.
        ``unknown_status`` (e.g. ``"RESURRECTING"``) makes runs pass through a status the API does
        not have today for ``unknown_secs`` after READY (``math.inf``: they stay in it).
        ``cost_per_second`` adds that many USD to the run's ``usageTotalUsd`` per second it runs.
        ``records`` (key to value: bytes, str, JSON, or a ``(value, content_type)`` tuple) are what
        its runs write to their default key-value store on reaching their outcome, instead of the
        default ``OUTPUT`` record ``{"status", "itemCount"}``; ``{}`` writes none.
        ``log_lines`` is how many progress lines each run writes to its log while it runs (see
        :mod:`.apify_logs`).
        ``echo_input=True`` puts each run's input into every item of its dataset (key ``input``), so
        runs with different inputs have different items.
        """
        behaviour = Behaviour(
            duration_secs,
            outcome,
            item_count,
            ready_secs,
            status_message,
            unknown_status,
            unknown_secs,
            cost_per_second,
            records_of(records),
            log_lines,
            echo_input,
        )
        with self.lock:
            owner = None
            if actor is not None:
                owner = self.state.find_actor(actor)
                if owner is None:
                    raise ValueError(f"unknown Actor {actor!r}")
            task = self.state.add_task(
                name,
                behaviour=behaviour,
                actor=owner,
                input=input,
                timeout_secs=timeout_secs,
                memory_mbytes=memory_mbytes,
                build=build,
            )
            return task.to_json()

    def add_actor(
        self,
        name: str,
        *,
        duration_secs: float = 3.0,
        outcome: str = "SUCCEEDED",
        item_count: int = 0,
        ready_secs: float = 0.0,
        status_message: str | None = None,
        input: dict[str, Any] | None = None,
        timeout_secs: int | None = None,
        memory_mbytes: int | None = None,
        build: str | None = None,
        unknown_status: str | None = None,
        unknown_secs: float = 0.0,
        cost_per_second: float = 0.0,
        records: Mapping[str, Any] | None = None,
        log_lines: int = 3,
        echo_input: bool = False,
    ) -> dict[str, Any]:
        """Create Actor ``<username>~<name>`` (runnable directly); returns its JSON. The options,
        ``records`` included, are those of :meth:`add_task`."""
        behaviour = Behaviour(
            duration_secs,
            outcome,
            item_count,
            ready_secs,
            status_message,
            unknown_status,
            unknown_secs,
            cost_per_second,
            records_of(records),
            log_lines,
            echo_input,
        )
        with self.lock:
            actor = self.state.add_actor(
                name,
                behaviour=behaviour,
                input=input,
                timeout_secs=timeout_secs,
                memory_mbytes=memory_mbytes,
                build=build,
            )
            return actor.to_json()

    def add_dataset(
        self, item_count: int, *, name: str | None = None, empty_every: int = 0, page_cap: int = 0
    ) -> dict[str, Any]:
        """Create a standalone dataset of ``item_count`` generated items (no run needed).

        ``empty_every=n`` makes every n-th item ``{}`` (what ``clean``/``skipEmpty`` drop);
        ``page_cap=n`` makes the server answer at most n items a page and report that effective
        limit in ``X-Apify-Pagination-Limit``, as Apify's response cap does.
        """
        with self.lock:
            dataset = self.state.add_dataset(item_count, name, empty_every=empty_every, page_cap=page_cap)
            return dataset.to_json(self.clock.monotonic())

    def add_key_value_store(
        self, records: Mapping[str, Any] | None = None, *, name: str | None = None
    ) -> dict[str, Any]:
        """Create a standalone key-value store holding ``records`` (values as for :meth:`add_task`);
        returns the store's JSON (its ``id`` names it in the API)."""
        with self.lock:
            store = self.state.add_key_value_store(name, records_of(records or {}) or ())
            return store.to_json(self.clock.monotonic())

    def put_record(self, store_id: str, key: str, value: Any, content_type: str | None = None) -> None:
        """Store a record as ``PUT /v2/key-value-stores/{storeId}/records/{key}`` would (a run's
        default store too: ``defaultKeyValueStoreId``); replaces a record of the same key."""
        record = Record.of(key, value, content_type)
        with self.lock:
            store = self.state.find_store(store_id)
            if store is None:
                raise KeyError(store_id)
            store.put[key] = record

    def get_record(self, store_id: str, key: str) -> tuple[bytes, str] | None:
        """``(bytes, content_type)`` of the record the API would serve now, or None."""
        with self.lock:
            store = self.state.find_store(store_id)
            if store is None:
                raise KeyError(store_id)
            record = store.records_at(self.clock.monotonic()).get(key)
            return None if record is None else (record.value, record.content_type)

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, as ``GET /v2/actor-runs/{id}`` returns it (``meta.userAgent``)."""
        with self.lock:
            t = self.clock.monotonic()
            return [run.to_json(t) for run in self.state.runs.values()]

    def get_run(self, run_id: str) -> dict[str, Any]:
        with self.lock:
            run = self.state.runs.get(run_id)
            if run is None:
                raise KeyError(run_id)
            return run.to_json(self.clock.monotonic())

    def abort_run(self, run_id: str, *, gracefully: bool = False) -> dict[str, Any]:
        """Abort as the console would (e.g. to test a run aborted behind the provider's back)."""
        with self.lock:
            run = self.state.runs.get(run_id)
            if run is None:
                raise KeyError(run_id)
            t = self.clock.monotonic()
            run.abort(t, gracefully)
            data = run.to_json(t)
        self.notify(run_id)
        return data

    def limits_json(self) -> dict[str, Any]:
        """``GET /v2/users/me/limits`` data (call under the lock)."""
        t = self.clock.monotonic()
        active = self.state.active_runs(t)
        now = self.clock.now()
        start = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
        end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=timezone.utc)
        compute_units = sum(run.compute_units(t) for run in self.state.runs.values())
        return {
            "monthlyUsageCycle": {"startAt": _iso(start), "endAt": _iso(end)},
            "limits": {
                "maxMonthlyUsageUsd": 1000.0,
                "maxMonthlyActorComputeUnits": 10000.0,
                "maxMonthlyExternalDataTransferGbytes": 1000.0,
                "maxMonthlyProxySerps": 30000,
                "maxMonthlyResidentialProxyGbytes": 10.0,
                "maxActorMemoryGbytes": 256.0,
                "maxActorCount": 1000,
                "maxActorTaskCount": 10000,
                "maxConcurrentActorJobs": self.max_concurrent_actor_jobs,
                "maxTeamAccountSeatCount": 9,
                "dataRetentionDays": 14,
            },
            "current": {
                "monthlyUsageUsd": round(compute_units * 0.4, 6),
                "monthlyActorComputeUnits": round(compute_units, 6),
                "monthlyExternalDataTransferGbytes": 0.0,
                "monthlyProxySerps": 0,
                "monthlyResidentialProxyGbytes": 0.0,
                "actorMemoryGbytes": sum(run.options["memoryMbytes"] for run in active) / 1024,
                "actorCount": len(self.state.actors),
                "actorTaskCount": len(self.state.tasks),
                "activeActorJobCount": len(active),
                "teamAccountSeatCount": 1,
            },
        }

    # -- control endpoints ----------------------------------------------------------------------
    async def _ctl_runs(self, request: web.Request) -> web.Response:
        return self.json_response({"data": self.runs()})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


#: ``python -m airflow_provider_tasks.testing.apify_emulator --port N [--host H] [--token T ...]``
main = ApifyEmulator.main


if __name__ == "__main__":  # pragma: no cover - exercised by a subprocess test
    raise SystemExit(main())
