"""Event triggers for an ``AssetWatcher``: one event per newly finished run of a target, wherever it was started.

The payload has the keys of the run operators' asset events (:func:`~airflow_provider_tasks.common.assets.run_extra`).
The watermark (docs/howto/watchers.md) lives on Airflow 3.3+ in the asset's state store, advanced in the triggerer's
shared-stream ack mode only once the event is stored; on 3.0-3.2 in memory, from the runs ended at (re)start.
The kwargs identify the watcher and must not change between parses.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from airflow_provider_tasks.common.compat import BaseEventTrigger, TriggerEvent, to_completion
from airflow_provider_tasks.common.errors import ConfigurationError, ProviderError, is_retryable
from airflow_provider_tasks.common.finished_runs import Listed, Mark, baseline, newly_finished
from airflow_provider_tasks.common.hook import PlatformHook
from airflow_provider_tasks.common.retry import Backoff

MARK_KEY = "finished_runs_mark"
"""The asset-state key of the watermark (one per asset; an asset should have one run watcher)."""

BASELINE_RUNS = 100
"""Runs a watcher with nothing stored lists once: those still going are watched from then on."""

PAGE_SIZE = 25

MIN_POLL_INTERVAL = 1.0

_STATE_STORES: dict[Hashable, Any] = {}
"""Asset state stores by shared-stream key: the triggerer builds the ack-mode producer from kwargs alone."""


class RunFinishedTrigger(BaseEventTrigger):
    """Fires one event per run of a target that newly reaches one of ``statuses``. Its payload has the keys of
    the platform run operator's asset events plus ``finished_at``; read it with :func:`~.assets.finished_run`.

    :param conn_id: Airflow connection id of the platform.
    :param statuses: terminal statuses that fire (the others only move the watermark).
    :param poll_interval: seconds between looks at the target's runs (at least 1).
    """

    hook_class: ClassVar[type[PlatformHook[Any]]]
    status_class: ClassVar[Any]
    """The platform's run status enum: its terminal statuses may fire, its success status by default."""

    @classmethod
    def terminal_statuses(cls) -> frozenset[str]:
        return frozenset(status.value for status in cls.status_class if status.is_terminal)

    def __init__(self, conn_id: str, statuses: Sequence[str] | None = None, poll_interval: float = 60.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        allowed = self.terminal_statuses()
        spelled = {value.lower(): value for value in allowed}  # "succeeded" is SUCCEEDED, "DONE" is done
        self.statuses = tuple(spelled.get(str(s).lower(), str(s)) for s in statuses or ()) or tuple(
            status.value for status in self.status_class if status.is_success
        )
        if unknown := sorted(set(self.statuses) - allowed):
            raise ConfigurationError(f"statuses: {unknown} are not terminal statuses; allowed: {sorted(allowed)}")
        if poll_interval < MIN_POLL_INTERVAL:
            raise ConfigurationError(f"poll_interval must be at least {MIN_POLL_INTERVAL} s, got {poll_interval}")
        self.poll_interval = float(poll_interval)

    @abstractmethod
    def target_kwargs(self) -> dict[str, Any]:
        """The kwargs that name the watched target (an Actor task, an Actor, a squid)."""

    @abstractmethod
    async def list_page(self, hook: Any, index: int, size: int) -> list[Listed]:
        """Page ``index`` (0-based) of the target's runs, newest-started first."""

    @abstractmethod
    def payload(self, run: Listed) -> dict[str, Any]:
        """The event payload for a finished run (the keys of :func:`run_extra`)."""

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.target_kwargs(),
                "conn_id": self.conn_id,
                "statuses": list(self.statuses),
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Without an asset state store (before 3.3, or a trigger run on its own): the mark lives in memory."""
        hook = self.hook_class(self.conn_id)
        try:
            async for run, _mark in self.finished_runs(hook, await self.first_mark(hook)):
                if self.fires_for(run):
                    yield TriggerEvent(self.payload(run))
        finally:
            await hook.aclose()

    def fires_for(self, run: Listed) -> bool:
        return self.status_class(run.raw.get("status") or "unknown").value in self.statuses

    # -- Airflow 3.3+: the mark in the asset state store, advanced once the events are stored

    def shared_stream_key(self) -> Hashable | None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return None  # no watched asset: plain run(), mark in memory
        key = _stream_key(*self.serialize())
        _STATE_STORES[key] = store
        return key

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> Any:
        trigger = cls(**kwargs)
        return _producer_class()(trigger, _STATE_STORES.get(_stream_key(*trigger.serialize())))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        async for run in shared_stream:
            if isinstance(run, Listed) and self.fires_for(run):
                yield TriggerEvent(self.payload(run))

    async def first_mark(self, hook: Any) -> Mark:
        """The mark of a watcher with nothing stored: what has ended by now is history."""
        listed = await self._list_until_it_works(hook, None, BASELINE_RUNS, self._backoff())
        mark = baseline(listed, time.time())
        self.log.info(
            "Watching %s from now on: %d runs listed, %d still going", self.describe(), len(listed), len(mark.open)
        )
        return mark

    def describe(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.target_kwargs().items() if value is not None)

    def _backoff(self) -> Backoff:
        return Backoff(self.poll_interval, 10 * self.poll_interval)

    async def _list_until_it_works(self, hook: Any, cutoff: float | None, size: int, backoff: Backoff) -> list[Listed]:
        """:meth:`_list`, after each error logged and waited out (a watcher lives as long as its DAG); after one a
        retry cannot fix (a missing target, a revoked token) the connection is read again, as it may have been fixed."""
        while True:
            try:
                return await self._list(hook, cutoff, size)
            except ProviderError as error:
                wait, what = backoff.next(), self.describe()
                if is_retryable(error):
                    self.log.warning("Could not list the runs of %s (again in %.0f s): %s", what, wait, error)
                else:
                    self.log.error("Cannot list the runs of %s (again in %.0f s): %s", what, wait, error)
                    await hook.aclose()
                await asyncio.sleep(wait)

    async def finished_runs(self, hook: Any, mark: Mark) -> AsyncIterator[tuple[Listed, Mark]]:
        """Each run that finishes after ``mark``, with the mark once it is handled; forever."""
        backoff = self._backoff()
        while True:
            listed = await self._list_until_it_works(hook, mark.cutoff(), PAGE_SIZE, backoff)
            backoff.reset()
            steps, mark = newly_finished(mark, listed)
            for run, after in steps:
                yield run, after
            await asyncio.sleep(self.poll_interval)

    async def _list(self, hook: Any, cutoff: float | None, size: int) -> list[Listed]:
        """The runs newest-started first, down to the first started before ``cutoff`` (one page when None)."""
        listed: list[Listed] = []
        for index in itertools.count():
            page = await self.list_page(hook, index, size)
            listed.extend(page)
            oldest = page[-1].started if page else None
            if cutoff is None or len(page) < size or (oldest is not None and oldest < cutoff):
                break
        return listed


def _stream_key(classpath: str, kwargs: Mapping[str, Any]) -> Hashable:
    return (classpath, *sorted((k, repr(v)) for k, v in kwargs.items()))


async def load_mark(store: Any) -> Mark | None:
    """The stored mark that reaches back furthest (so no watched asset misses a run), or None."""
    marks = [Mark.from_json(await to_completion(accessor.aget(MARK_KEY))) for accessor in _accessors(store)]
    known = [mark for mark in marks if mark is not None]
    return min(known, key=lambda mark: mark.cutoff()) if known else None


async def save_mark(store: Any, mark: Mark) -> None:
    value = mark.to_json()
    for accessor in _accessors(store):
        await to_completion(accessor.aset(MARK_KEY, value))


def _accessors(store: Any) -> Iterable[Any]:
    """Each watched asset's state accessor (Airflow keeps one trigger for identical watchers of several assets)."""
    from airflow_provider_tasks.common.internals import asset_state_accessors

    return asset_state_accessors(store)


@functools.cache
def _producer_class() -> type:
    """The ack-mode producer (its base class exists from Airflow 3.3 on, so it is built on demand)."""
    from airflow.triggers.shared_stream import SharedStreamProducer

    class RunFinishedProducer(SharedStreamProducer):
        """Looks at one target's runs for its watchers; the mark is stored once the events up to it are."""

        def __init__(self, trigger: RunFinishedTrigger, store: Any) -> None:
            self.trigger = trigger
            self.store = store
            self.hook = trigger.hook_class(trigger.conn_id)

        async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
            mark = await load_mark(self.store) if self.store is not None else None
            if mark is None:
                mark = await self.trigger.first_mark(self.hook)
                if self.store is not None:
                    await save_mark(self.store, mark)
            async for run, after in self.trigger.finished_runs(self.hook, mark):
                yield run, after

        async def advance(self, batch: Sequence[Any]) -> None:
            clean = [item.broker_payload for item in batch if item.outcome.is_clean]
            if len(clean) < len(batch):  # some watcher did not take an event: look again from the mark
                raise RuntimeError("a run-finished event was not stored; the watcher restarts from its mark")
            if self.store is not None and clean:
                await save_mark(self.store, clean[-1])

        async def aclose(self) -> None:
            await self.hook.aclose()

    return RunFinishedProducer


__all__ = ["MARK_KEY", "RunFinishedTrigger", "load_mark", "save_mark"]
