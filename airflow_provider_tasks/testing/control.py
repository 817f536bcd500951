"""Control endpoints shared by every emulator, under ``/_emulator/`` and without auth.

They let a test in another process (a real scheduler or triggerer run) drive the emulator:

========================================  =====================================================
``GET /_emulator/health``                 liveness: ``{"data": {"status": "ok"}}``
``GET /_emulator/stats``                  request counts (see :class:`~.faults.Stats`)
``POST /_emulator/reset``                 seed data, initial tokens, no faults, zero stats
``GET /_emulator/faults``                 armed fault rules
``POST /_emulator/faults``                arm a rule (or a list of rules); 201
``DELETE /_emulator/faults``              disarm all: ``{"data": {"cleared": n}}``
``POST /_emulator/tokens``                ``{"token": t}``: accept one more token
``POST /_emulator/tokens/revoke``         ``{"token": t}``: reject it from now on
``POST /_emulator/clock/advance``         ``{"seconds": s}``: move the clock forward
========================================  =====================================================

Answers use the ``{"data": ...}`` envelope; a bad body is a 400 with the platform's error body.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.clock import Clock
from airflow_provider_tasks.testing.faults import Faults


class ControlRoutes:
    """Base of :class:`~.server.EmulatorServer` serving the control endpoints.

    What the endpoints need from the server is declared here and supplied by the server, so this
    module does not import it (the server imports this one).
    """

    platform_name: str
    clock: Clock
    faults: Faults

    @property
    @abstractmethod
    def tokens(self) -> tuple[str, ...]: ...

    @abstractmethod
    def stats(self) -> dict[str, Any]: ...

    @abstractmethod
    def reset(self) -> None: ...

    @abstractmethod
    def add_token(self, token: str) -> None: ...

    @abstractmethod
    def revoke_token(self, token: str) -> None: ...

    @abstractmethod
    def advance(self, seconds: float) -> None: ...

    @abstractmethod
    def json_response(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response: ...

    @abstractmethod
    def invalid_input(self, message: str) -> Exception: ...

    @abstractmethod
    async def read_json(self, request: web.Request, *, default: Any = None) -> Any: ...

    def control_routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/_emulator/health", self._ctl_health),
            web.get("/_emulator/stats", self._ctl_stats),
            web.post("/_emulator/reset", self._ctl_reset),
            web.get("/_emulator/faults", self._ctl_faults_list),
            web.post("/_emulator/faults", self._ctl_faults_add),
            web.delete("/_emulator/faults", self._ctl_faults_clear),
            web.post("/_emulator/tokens", self._ctl_token_add),
            web.post("/_emulator/tokens/revoke", self._ctl_token_revoke),
            web.post("/_emulator/clock/advance", self._ctl_advance),
        ]

    async def _ctl_health(self, request: web.Request) -> web.Response:
        return self.json_response({"data": {"status": "ok", "platform": self.platform_name}})

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        return self.json_response({"data": self.stats()})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return self.json_response({"data": {"reset": True}})

    async def _ctl_faults_list(self, request: web.Request) -> web.Response:
        return self.json_response({"data": self.faults.rules()})

    async def _ctl_faults_add(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        specs = body if isinstance(body, list) else [body]
        try:
            rules = [self.faults.add_dict(spec) for spec in specs]
        except (TypeError, ValueError, AttributeError) as exc:
            raise self.invalid_input(f"Invalid fault rule: {exc}") from None
        data: Any = [r.to_dict() for r in rules]
        return self.json_response({"data": data if isinstance(body, list) else data[0]}, status=201)

    async def _ctl_faults_clear(self, request: web.Request) -> web.Response:
        return self.json_response({"data": {"cleared": self.faults.clear()}})

    async def _ctl_token_add(self, request: web.Request) -> web.Response:
        self.add_token(self._token_from_body(await self.read_json(request)))
        return self.json_response({"data": {"tokens": len(self.tokens)}})

    async def _ctl_token_revoke(self, request: web.Request) -> web.Response:
        self.revoke_token(self._token_from_body(await self.read_json(request)))
        return self.json_response({"data": {"tokens": len(self.tokens)}})

    async def _ctl_advance(self, request: web.Request) -> web.Response:
        body = await self.read_json(request, default={})
        try:
            self.advance(float(body["seconds"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise self.invalid_input(f"expected {{'seconds': <number >= 0>}}: {exc}") from None
        return self.json_response({"data": {"now": self.clock.now().isoformat()}})

    def create_route(
        self, path: str, factory: Callable[..., Any], first: str, *, floats: tuple[str, ...] = ()
    ) -> web.RouteDef:
        """``POST path``: ``factory`` called with the JSON body's keys (:meth:`call_with_body`),
        answered 201 ``{"data": <what it returned>}`` -- e.g. ``POST /_emulator/tasks``."""

        async def create(request: web.Request) -> web.Response:
            data = self.call_with_body(factory, await self.read_json(request), first, floats=floats)
            return self.json_response({"data": data}, status=201)

        return web.post(path, create)

    def call_with_body(
        self, factory: Callable[..., Any], body: Any, first: str, *, floats: tuple[str, ...] = ()
    ) -> Any:
        """``factory(body[first], **rest)`` for a control endpoint that creates something.

        ``floats`` are converted with ``float()`` (JSON has no infinity: ``"inf"`` arrives as a
        string). A body that is not an object, lacks ``first`` or that the factory rejects
        (TypeError/ValueError/KeyError) is a 400 with the platform's error body.
        """
        if not isinstance(body, dict):
            raise self.invalid_input("expected a JSON object of keyword arguments")
        kwargs = dict(body)
        try:
            for key in floats:
                if kwargs.get(key) is not None:
                    kwargs[key] = float(kwargs[key])
            return factory(kwargs.pop(first), **kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.invalid_input(f"cannot create: {exc!r}") from None

    def _token_from_body(self, body: Any) -> str:
        if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
            raise self.invalid_input("expected {'token': '<token>'}")
        return body["token"]
