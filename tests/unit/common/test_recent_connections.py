"""Connections read in the triggerer are shared by a burst of triggers, briefly (issue 12)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from airflow_provider_tasks.common import connection_cache as cache_module


@pytest.fixture
def reads(monkeypatch):
    """Every connection read that reaches Airflow, answering a fresh object each time."""
    calls: list[str] = []

    async def read(conn_id, hook=None):
        calls.append(conn_id)
        await asyncio.sleep(0.01)
        if conn_id == "broken":
            raise RuntimeError("no such connection")
        return SimpleNamespace(conn_id=conn_id, serial=len(calls))

    monkeypatch.setattr(cache_module, "get_async_connection", read)
    return calls


def test_a_burst_of_triggers_reads_a_connection_once(reads):
    cache = cache_module.RecentConnections()

    async def burst():
        return await asyncio.gather(*(cache.get("apify_default", None) for _ in range(100)))

    conns = asyncio.run(burst())
    assert reads == ["apify_default"] and len({id(c) for c in conns}) == 1


def test_a_read_is_reused_only_for_a_few_seconds_and_per_connection(reads, monkeypatch):
    cache = cache_module.RecentConnections()
    assert cache_module.CONNECTION_REUSE_SECONDS <= 5

    async def scenario():
        first = await cache.get("a", None)
        again = await cache.get("a", None)
        other = await cache.get("b", None)
        monkeypatch.setattr(cache_module, "CONNECTION_REUSE_SECONDS", -1.0)  # as if the time had passed
        later = await cache.get("a", None)
        return first, again, other, later

    first, again, other, later = asyncio.run(scenario())
    assert first is again and other.conn_id == "b" and later is not first
    assert reads == ["a", "b", "a"]


def test_a_failed_read_is_not_kept(reads):
    cache = cache_module.RecentConnections()

    async def twice():
        for _ in range(2):
            with pytest.raises(RuntimeError, match="no such connection"):
                await cache.get("broken", None)

    asyncio.run(twice())
    assert reads == ["broken", "broken"]


def test_a_cancelled_trigger_does_not_cancel_the_read_for_the_others(reads):
    cache = cache_module.RecentConnections()

    async def scenario():
        first = asyncio.ensure_future(cache.get("a", None))
        second = asyncio.ensure_future(cache.get("a", None))
        await asyncio.sleep(0)
        first.cancel()
        return await second

    assert asyncio.run(scenario()).conn_id == "a" and reads == ["a"]


def test_with_the_scale_machinery_switched_off_every_trigger_reads_its_own(reads, monkeypatch):
    monkeypatch.setenv("AIRFLOW__AIRFLOW_PROVIDER_TASKS__TRIGGERER_SCALE_MACHINERY", "False")
    cache = cache_module.RecentConnections()

    async def burst():
        return await asyncio.gather(*(cache.get("apify_default", None) for _ in range(3)))

    asyncio.run(burst())
    assert reads == ["apify_default"] * 3
