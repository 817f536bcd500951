"""The Apify emulator's registry: one user and their Actors, tasks, runs, datasets and stores.

Seed data (username ``demo``) is rebuilt on every ``reset``; ids of seed objects derive from their
names, so they are the same in every process. Callers hold the emulator's lock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from airflow_provider_tasks.testing.apify_models import (
    TERMINAL,
    Actor,
    Behaviour,
    Dataset,
    Run,
    Task,
    build_number_for,
)
from airflow_provider_tasks.testing.apify_stores import KeyValueStore, Record
from airflow_provider_tasks.testing.ids import random_id, seed_time, stable_id

USERNAME = "demo"
DEFAULT_OPTIONS = {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 1024}
DEFAULT_INPUT = {"startUrls": [{"url": "https://example.com"}], "maxPagesPerCrawl": 10}

#: Seed Actor, runnable directly: ``demo~example-actor``.
SEED_ACTOR = ("example-actor", Behaviour(duration_secs=3.0, outcome="SUCCEEDED", item_count=25))
#: Seed tasks, all of ``demo~example-actor``: ``demo~<name>``.
SEED_TASKS: tuple[tuple[str, Behaviour], ...] = (
    ("succeeds-with-items", Behaviour(duration_secs=3.0, outcome="SUCCEEDED", item_count=25)),
    ("fails", Behaviour(duration_secs=2.0, outcome="FAILED", status_message="Actor failed: example failure")),
    ("slow", Behaviour(duration_secs=120.0, outcome="SUCCEEDED", item_count=25)),
    ("stuck-ready", Behaviour(duration_secs=3.0, outcome="SUCCEEDED", ready_secs=math.inf)),
    ("times-out", Behaviour(duration_secs=2.0, outcome="TIMED-OUT")),
)


class ApifyState:
    """Everything the emulated account holds. ``clock`` is the server's :class:`Clock`."""

    def __init__(self, now: Callable[[], datetime], username: str = USERNAME, seed: bool = True) -> None:
        self._now = now
        self.username = username
        self.user_id = stable_id(f"user:{username}")
        self.actors: dict[str, Actor] = {}
        self.tasks: dict[str, Task] = {}
        self.runs: dict[str, Run] = {}
        self.datasets: dict[str, Dataset] = {}
        self.stores: dict[str, KeyValueStore] = {}
        self._seeding = seed
        if seed:
            name, behaviour = SEED_ACTOR
            actor = self.add_actor(name, behaviour=behaviour)
            for name, behaviour in SEED_TASKS:
                self.add_task(name, behaviour=behaviour, actor=actor)
        self._seeding = False

    # -- creation ----------------------------------------------------------------------------
    def _created(self, kind: str, name: str) -> tuple[str, datetime]:
        if self._seeding:
            return stable_id(f"{kind}:{self.username}~{name}"), seed_time(len(self.actors) + len(self.tasks))
        return random_id(), self._now()

    def add_actor(
        self, name: str, *, behaviour: Behaviour, input: dict[str, Any] | None = None, **options: Any
    ) -> Actor:
        _check_name(name, self.find_actor(f"{self.username}~{name}"))
        actor_id, created = self._created("actor", name)
        actor = Actor(
            id=actor_id,
            name=name,
            username=self.username,
            user_id=self.user_id,
            created_at=created,
            behaviour=behaviour,
            default_input=dict(input if input is not None else DEFAULT_INPUT),
            options={**DEFAULT_OPTIONS, **_options(options)},
        )
        self.actors[actor.id] = actor
        return actor

    def add_task(
        self,
        name: str,
        *,
        behaviour: Behaviour,
        actor: Actor | None = None,
        input: dict[str, Any] | None = None,
        **options: Any,
    ) -> Task:
        _check_name(name, self.find_task(f"{self.username}~{name}"))
        actor = actor or self.find_actor(f"{self.username}~{SEED_ACTOR[0]}")
        if actor is None:
            raise ValueError("no Actor to attach the task to; pass actor=")
        task_id, created = self._created("task", name)
        task = Task(
            id=task_id,
            name=name,
            username=self.username,
            user_id=self.user_id,
            actor=actor,
            created_at=created,
            behaviour=behaviour,
            input=dict(input if input is not None else DEFAULT_INPUT),
            options={**DEFAULT_OPTIONS, **_options(options)},
        )
        self.tasks[task.id] = task
        return task

    def add_dataset(
        self, item_count: int, name: str | None = None, *, empty_every: int = 0, page_cap: int = 0
    ) -> Dataset:
        if item_count < 0 or empty_every < 0 or page_cap < 0:
            raise ValueError("item_count, empty_every and page_cap must be >= 0")
        if name is not None and self.find_dataset(f"{self.username}~{name}") is not None:
            raise ValueError(f"a dataset named {name!r} already exists")
        dataset = Dataset(
            random_id(),
            name,
            self.user_id,
            self._now(),
            fixed_item_count=item_count,
            empty_every=empty_every,
            page_cap=page_cap,
        )
        self.datasets[dataset.id] = dataset
        return dataset

    def add_key_value_store(self, name: str | None = None, records: tuple[Record, ...] = ()) -> KeyValueStore:
        """A standalone store holding ``records``."""
        if name is not None and self.find_store(f"{self.username}~{name}") is not None:
            raise ValueError(f"a key-value store named {name!r} already exists")
        store = KeyValueStore(random_id(), name, self.username, self.user_id, self._now())
        store.put.update((record.key, record) for record in records)
        self.stores[store.id] = store
        return store

    def start_run(
        self,
        t: float,
        *,
        actor: Actor,
        task: Task | None,
        options: dict[str, Any],
        run_input: Any,
        input_bytes: int,
        user_agent: str | None,
        client_ip: str | None,
        webhooks: list[Any],
    ) -> Run:
        """Create a run at monotonic time ``t`` with its default dataset, store and queue."""
        target = task or actor
        merged = {**target.options, **{k: v for k, v in options.items() if v is not None}}
        run_options: dict[str, Any] = {
            "build": str(merged["build"]),
            "timeoutSecs": int(merged["timeoutSecs"]),
            "memoryMbytes": int(merged["memoryMbytes"]),
            "diskMbytes": int(merged["memoryMbytes"]) * 2,
        }
        for key in ("maxItems", "maxTotalChargeUsd"):
            if merged.get(key) is not None:
                run_options[key] = merged[key]
        run = Run(
            id=random_id(),
            actor=actor,
            task=task,
            user_id=self.user_id,
            behaviour=target.behaviour,
            options=run_options,
            input=run_input,
            input_bytes=input_bytes,
            user_agent=user_agent,
            client_ip=client_ip,
            created_mono=t,
            started_at=self._now(),
            dataset_id=random_id(),
            store_id=random_id(),
            queue_id=random_id(),
            build_number=build_number_for(run_options["build"]),
            webhooks=webhooks,
        )
        self.runs[run.id] = run
        self.datasets[run.dataset_id] = Dataset(run.dataset_id, None, self.user_id, run.started_at, run=run)
        self.stores[run.store_id] = KeyValueStore(run.store_id, None, self.username, self.user_id, run.started_at, run)
        actor.total_runs += 1
        if task is not None:
            task.total_runs += 1
        return run

    # -- lookup ------------------------------------------------------------------------------
    def find_actor(self, ref: str) -> Actor | None:
        return _find(self.actors, ref)

    def find_task(self, ref: str) -> Task | None:
        return _find(self.tasks, ref)

    def find_dataset(self, ref: str) -> Dataset | None:
        return _find(self.datasets, ref)

    def find_store(self, ref: str) -> KeyValueStore | None:
        return _find(self.stores, ref)

    def runs_of(self, *, actor: Actor | None = None, task: Task | None = None) -> list[Run]:
        """Runs in start order (creation order is start order), optionally of one Actor/task."""
        runs = list(self.runs.values())
        if actor is not None:
            runs = [run for run in runs if run.actor is actor]
        if task is not None:
            runs = [run for run in runs if run.task is task]
        return runs

    def active_runs(self, t: float) -> list[Run]:
        return [run for run in self.runs.values() if run.status_at(t) not in TERMINAL]

    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "profile": {"name": "Demo User"},
            "email": f"{self.username}@example.com",
            "plan": {"id": "EMULATOR", "availableProxyGroups": {}, "maxConcurrentActorRuns": 250},
            "createdAt": "2024-01-01T00:00:00.000Z",
            "isPaying": True,
        }


def _find(objects: dict[str, Any], ref: str) -> Any:
    """Look up by id, or by ``username~name`` (``username/name`` too, as clients may send it)."""
    found = objects.get(ref)
    if found is not None:
        return found
    username, sep, name = ref.replace("/", "~").partition("~")
    if not sep:
        return None
    for obj in objects.values():
        if getattr(obj, "name", None) == name and getattr(obj, "username", username) == username:
            return obj
    return None


def _check_name(name: str, existing: object) -> None:
    if not name or "~" in name or "/" in name:
        raise ValueError(f"invalid name {name!r}")
    if existing is not None:
        raise ValueError(f"{name!r} already exists")


def _options(options: dict[str, Any]) -> dict[str, Any]:
    """Map Python-style option names to the API's (``timeout_secs`` -> ``timeoutSecs``)."""
    names = {"timeout_secs": "timeoutSecs", "memory_mbytes": "memoryMbytes", "build": "build"}
    unknown = set(options) - set(names)
    if unknown:
        raise TypeError(f"unknown options: {sorted(unknown)}")
    return {names[key]: value for key, value in options.items() if value is not None}
