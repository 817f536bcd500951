"""A stateful local emulator of the Lobstr.io API (``https://api.lobstr.io/v1``), for tests,
examples and benchmarks.

Use it in-process::

    with LobstrEmulator() as emulator:        # serves on http://127.0.0.1:<free port>
        squid = emulator.add_squid("quick", duration_secs=0.5, results_per_task=5)
        ...  # base URL emulator.base_url (paths /v1/...), header "Authorization: Token <emulator.token>"

or as a process (prints ``Lobstr.io API emulator: base_url=http://127.0.0.1:8080 tokens=test-token``)::

    python -m airflow_provider_tasks.testing.lobstr_emulator --port 8766 [--host H] [--token T ...]

Seed squids (hashes in :data:`~.lobstr_state.SEED_HASHES`, the same in every process):
``demo-squid`` (3 tasks: 1 s pending, 3 s running, 1 s uploading, done, 20 results a task),
``failing-squid`` (2 tasks, 2 s, error),
``slow-squid`` (3 tasks, 120 s, done), ``pending-squid`` (1 task, stays pending). Objects live in
:mod:`.lobstr_models`, :mod:`.lobstr_runs` (lifecycle and its documented choices) and
:mod:`.lobstr_results`; the registry in :mod:`.lobstr_state`; handlers in :mod:`.lobstr_routes`;
paging in :mod:`.lobstr_params`.

Auth is ``Authorization: Token <key>`` only (401 ``{"detail": "Authentication credentials were not
provided."}`` without it, ``{"detail": "Invalid token."}`` with a wrong one). Error bodies: the
documentation shows four shapes, and the ``type`` of an error picks one (:meth:`error_body`), so
a status fault can produce each of them:

* a DRF code (``not_authenticated``, ``authentication_failed``, ``throttled``, ``not_found``,
  ``method_not_allowed``, ``permission_denied``, ``parse_error``) -> ``{"detail": message}``;
  injected 429s default to ``throttled``, unknown paths are ``not_found``;
* ``*_error`` (``not_found_error``, ``validation_error``) -> ``{"error": {"message", "type",
  "param"}}``, what the endpoints answer (``param`` only when there is one);
* ``RateLimitExceeded`` -> ``{"error": message, "type": "RateLimitExceeded", "code": status}``;
* any other name (``SomethingWentWrong``, the default for 5xx; ``NotEnoughBalance`` ...) ->
  ``{"errors": {"message", "type", "code"}}``.

Task inputs: ``POST /v1/tasks`` (duplicates skipped and counted), ``GET /v1/tasks?squid=``,
``DELETE /v1/tasks/{hash}``, and bulk ``POST /v1/tasks/upload`` with its state at
``GET /v1/tasks/upload/{id}`` (:mod:`.lobstr_uploads`: its documented shape and the choices made
where the documentation is silent; :meth:`LobstrEmulator.set_uploads` paces or fails uploads).
Lobstr.io documents no endpoint that deactivates a task (only delete, and ``/squids/{hash}/empty``),
so neither does the emulator; a run covers the squid's active tasks as they are when it starts.

Starting a run while another run of the squid is not terminal answers the documented 400
``{"error": {"message": "A run is already active for this squid", "type": "validation_error",
"param": "squid"}}``. The results rate limit (2 requests/s) is not enforced; arm a 429 fault to
test it. Everything is an independent fake of the remote API: it imports nothing of the provider.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.lobstr_models import Behaviour
from airflow_provider_tasks.testing.lobstr_routes import LobstrRoutes
from airflow_provider_tasks.testing.lobstr_state import LobstrState, task_url
from airflow_provider_tasks.testing.lobstr_uploads import UploadTiming

__all__ = ["LobstrEmulator", "main"]

#: ``add_squid`` arguments a control body may send as strings (``"inf"``).
_SECONDS = ("duration_secs", "pending_secs", "export_secs", "pause_secs")
#: Django REST framework exception codes: their errors are ``{"detail": message}``.
DETAIL_TYPES = frozenset(
    {
        "not_authenticated",
        "authentication_failed",
        "permission_denied",
        "not_found",
        "method_not_allowed",
        "throttled",
        "parse_error",
    }
)


class LobstrEmulator(LobstrRoutes):
    """The Lobstr.io API on 127.0.0.1; see the module docstring. Its Python API is thread-safe."""

    platform_name = "Lobstr.io API"
    default_port = 8766
    error_types = {
        "missing_credential": "not_authenticated",
        "invalid_credential": "authentication_failed",
        "rate_limited": "throttled",
        "server_error": "SomethingWentWrong",
        "route_not_found": "not_found",
        "method_not_allowed": "method_not_allowed",
        "invalid_input": "validation_error",
    }
    error_messages = {
        "missing_credential": "Authentication credentials were not provided.",
        "invalid_credential": "Invalid token.",
    }

    def __init__(self, tokens: tuple[str, ...] | list[str] = ("test-token",)) -> None:
        super().__init__(tokens)
        self.state = LobstrState(self.clock.now)

    # -- platform hooks ------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.add_routes(self.api_routes())
        app.add_routes(
            [
                self.create_route("/_emulator/squids", self.add_squid, "name", floats=_SECONDS),
                self.create_route("/_emulator/tasks", self.add_task, "squid"),
                self.create_route("/_emulator/runs", self.start_run, "squid"),
                web.get("/_emulator/runs", self._ctl_runs),
                self.create_route("/_emulator/plan", self._set_plan_body, "export_limit"),
                self.create_route("/_emulator/uploads", self._set_uploads_body, "pending_secs"),
            ]
        )

    def set_uploads(
        self, *, pending_secs: float = 0.5, progress_secs: float = 1.0, failure: str | None = None
    ) -> dict[str, Any]:
        """How later bulk uploads (``POST /v1/tasks/upload``) play out: seconds PENDING, seconds in
        PROGRESS, and ``failure`` (a message) to make them end FAILURE. Reset restores the defaults."""
        with self.lock:
            self.state.upload_timing = UploadTiming(pending_secs, progress_secs, failure)
        return {"pending_secs": pending_secs, "progress_secs": progress_secs, "failure": failure}

    def set_plan(self, *, export_limit: int | None = None, results_page_cap: int | None = None) -> dict[str, Any]:
        """Account limits on ``/v1/results``: a free plan's ``export_limit`` (rows served, with a
        ``warning``) and a ``results_page_cap`` (rows a page); None lifts a limit. Reset clears both."""
        with self.lock:
            self.state.export_limit = export_limit
            self.state.results_page_cap = results_page_cap
        return {"export_limit": export_limit, "results_page_cap": results_page_cap}

    def _set_uploads_body(self, pending_secs: float = 0.5, **rest: Any) -> dict[str, Any]:
        return self.set_uploads(pending_secs=pending_secs, **rest)

    def _set_plan_body(self, export_limit: int | None = None, **rest: Any) -> dict[str, Any]:
        return self.set_plan(export_limit=export_limit, **rest)

    def read_credential(self, request: web.Request) -> str | None:
        """``Authorization: Token <key>``; any other scheme (``Bearer``...) counts as none."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "token":  # the keyword is case-insensitive, as in DRF
            return None
        return value.strip() or None

    def error_body(self, error_type: str, message: str, *, status: int, param: str | None = None) -> dict[str, Any]:
        if error_type in DETAIL_TYPES:
            return {"detail": message}
        if error_type == "RateLimitExceeded":
            return {"error": message, "type": error_type, "code": status}
        if error_type.endswith("_error"):
            error = {"message": message, "type": error_type}
            return {"error": error if param is None else {**error, "param": param}}
        return {"errors": {"message": message, "type": error_type, "code": status}}

    def fault_message(self, status: int, retry_after: float | None) -> str:
        if status != 429:
            return super().fault_message(status, retry_after)
        if retry_after is None:
            return "Request was throttled."
        return f"Request was throttled. Expected available in {math.ceil(retry_after)} seconds."

    def reset_state(self) -> None:
        self.state = LobstrState(self.clock.now)

    # -- Python API (thread-safe) ---------------------------------------------------------------
    def add_squid(
        self,
        name: str,
        *,
        duration_secs: float = 3.0,
        outcome: str = "done",
        results_per_task: int = 20,
        task_count: int = 3,
        pending_secs: float = 0.0,
        export_secs: float = 1.0,
        pause_secs: float = 0.0,
        done_reason: str | None = None,
        done_reason_desc: str | None = None,
        error_message: str | None = None,
        tasks: list[dict[str, Any]] | None = None,
        concurrency: int = 1,
        is_ready: bool = True,
        params: dict[str, Any] | None = None,
        pause_status: str = "paused",
    ) -> dict[str, Any]:
        """Create squid ``name`` (hash derived from the name) whose runs play out as described;
        returns its ``GET /v1/squids/{hash}`` JSON.

        ``tasks`` (a list of params, e.g. ``[{"url": ...}]``) replaces the ``task_count``
        generated URL tasks. ``pending_secs=math.inf`` keeps runs pending forever; ``pause_secs``
        pauses runs half-way (``math.inf``: for good). ``outcome`` is ``done`` or ``error``;
        ``done_reason`` overrides its reason (``tasks_done`` / ``website_inaccessible``), e.g. a
        ``done`` run ending with ``no_credits_left``. ``is_ready=False`` makes starts fail
        "Squid is not ready" like a freshly created squid. ``pause_status`` (e.g.
        ``"hibernating"``) shows that status instead of ``paused`` during the pause: a status the
        documentation does not list, which clients must survive.
        """
        extra = {"error_message": error_message} if error_message is not None else {}
        extra["pause_status"] = pause_status
        behaviour = Behaviour(
            duration_secs,
            outcome,
            results_per_task,
            pending_secs,
            export_secs,
            pause_secs,
            done_reason,
            done_reason_desc,
            **extra,
        )
        with self.lock:
            squid = self.state.add_squid(
                name,
                behaviour,
                task_count=task_count,
                tasks=tasks,
                concurrency=concurrency,
                is_ready=is_ready,
                params=params,
            )
            return squid.to_json(self.clock.monotonic())

    def add_task(self, squid: str, params: dict[str, Any] | None = None, *, is_active: bool = True) -> dict[str, Any]:
        """Add a task to a squid (hash or name); returns its ``GET /v1/tasks/{hash}`` JSON.

        ``params`` defaults to a new generated ``url``; a duplicate of an existing task is a
        ValueError (the API would skip it).
        """
        with self.lock:
            owner = self._find_squid(squid)
            params = params if params is not None else {"url": task_url(owner.name, len(owner.tasks) + 1)}
            self.state.check_task_params([params])
            created, _ = self.state.add_tasks(owner, [params], is_active=is_active)
            if not created:
                raise ValueError(f"squid {owner.name!r} already has a task with params {params!r}")
            return created[0].to_json(self.clock.monotonic())

    def tasks(self, squid: str) -> list[dict[str, Any]]:
        """The tasks of a squid (hash or name), oldest first, as ``GET /v1/tasks/{hash}`` shows them."""
        with self.lock:
            t = self.clock.monotonic()
            self.state.settle(t)
            return [task.to_json(t) for task in self._find_squid(squid).tasks.values()]

    def run_tasks(self, run_hash: str) -> list[dict[str, Any]]:
        """The params of every task a run covers, in the run's order."""
        with self.lock:
            return [dict(task.params) for task in self.state.get_run(run_hash).tasks]

    def squid(self, ref: str) -> dict[str, Any]:
        """A squid (hash or name) as ``GET /v1/squids/{hash}`` shows it (without ``download_url``)."""
        with self.lock:
            return self._find_squid(ref).to_json(self.clock.monotonic())

    def start_run(self, squid: str, *, origin: str = "user") -> dict[str, Any]:
        """Start a run as the console or a schedule would (``origin`` ``user``/``schedule``/``chain``);
        ValueError when the squid is not ready or already has an active run."""
        with self.lock:
            t = self.clock.monotonic()
            return self.state.start_run(self._find_squid(squid), t, origin).to_json(t)

    def runs(self, squid: str | None = None) -> list[dict[str, Any]]:
        """Every run (of one squid, by hash or name), oldest first, as ``GET /v1/runs/{hash}``."""
        with self.lock:
            t = self.clock.monotonic()
            runs = self._find_squid(squid).runs if squid is not None else self.state.runs.values()
            return [run.to_json(t, duration_text_form=True) for run in runs]

    def get_run(self, run_hash: str) -> dict[str, Any]:
        with self.lock:
            return self.state.get_run(run_hash).to_json(self.clock.monotonic(), duration_text_form=True)

    def abort_run(self, run_hash: str) -> dict[str, Any]:
        """Abort as the console would; ValueError once the run's collection is over."""
        with self.lock:
            run = self.state.get_run(run_hash)
            t = self.clock.monotonic()
            if not run.abort(t):
                raise ValueError(f"run {run_hash} is already completed")
            return run.to_json(t)

    def _find_squid(self, ref: str) -> Any:
        found = self.state.find_squid(ref)
        if found is None:
            raise ValueError(f"unknown squid {ref!r}")
        return found

    # -- control endpoints ----------------------------------------------------------------------
    async def _ctl_runs(self, request: web.Request) -> web.Response:
        try:
            return self.json_response({"data": self.runs(request.query.get("squid"))})
        except ValueError as exc:
            raise self.invalid_input(str(exc)) from None


#: ``python -m airflow_provider_tasks.testing.lobstr_emulator --port N [--host H] [--token T ...]``
main = LobstrEmulator.main


if __name__ == "__main__":  # pragma: no cover - exercised by a subprocess test
    raise SystemExit(main())
