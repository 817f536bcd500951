"""pytest fixtures for the local API emulators.

Load from the root ``conftest.py``::

    pytest_plugins = ["airflow_provider_tasks.testing.pytest_plugin"]

Fixtures:

* ``apify_emulator_server`` (session) -- one :class:`ApifyEmulator` serving for the whole session.
* ``apify_emulator`` -- the same server, ``reset()`` before the test (seed data, initial token,
  no faults, zeroed stats); has ``.base_url`` and ``.token``.
* ``apify_conn_env`` -- sets ``AIRFLOW_CONN_APIFY_DEFAULT`` to
  ``{"conn_type": "apify", "password": <token>, "host": <base_url>}`` for the test; returns the JSON.

The emulator module is imported when a fixture is first used, so loading this plugin is cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator


@pytest.fixture(scope="session")
def apify_emulator_server() -> Iterator[ApifyEmulator]:
    """One Apify emulator for the test session, on a free port of 127.0.0.1."""
    from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator

    emulator = ApifyEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def apify_emulator(apify_emulator_server: ApifyEmulator) -> ApifyEmulator:
    """The session's Apify emulator, reset to seed data before the test."""
    apify_emulator_server.reset()
    return apify_emulator_server


@pytest.fixture
def apify_conn_env(apify_emulator: ApifyEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """``AIRFLOW_CONN_APIFY_DEFAULT`` pointing at the emulator (JSON connection format)."""
    value = json.dumps({"conn_type": "apify", "password": apify_emulator.token, "host": apify_emulator.base_url})
    monkeypatch.setenv("AIRFLOW_CONN_APIFY_DEFAULT", value)
    return value
