"""pytest fixtures for the local API emulators.

Load from the root ``conftest.py``::

    pytest_plugins = ["airflow_provider_tasks.testing.pytest_plugin"]

Fixtures, for each platform (``apify``, ``lobstr``):

* ``<platform>_emulator_server`` (session) -- one emulator serving for the whole session on a free
  port of 127.0.0.1 (:class:`ApifyEmulator`, :class:`LobstrEmulator`).
* ``<platform>_emulator`` -- the same server, ``reset()`` before the test (seed data, initial
  token, no faults, zeroed stats); has ``.base_url`` and ``.token``.
* ``<platform>_emulator_tls`` -- a second session emulator serving HTTPS with a certificate made
  at start by a throwaway CA (``.base_url`` is ``https://127.0.0.1:<port>``, trust
  ``.tls_files.ca_path``), reset before the test. Nothing trusts that CA unless told to.
* ``<platform>_conn_env`` -- sets ``AIRFLOW_CONN_<PLATFORM>_DEFAULT`` to
  ``{"conn_type": "<platform>", "password": <token>, "host": <base_url>}`` for the test; returns
  the JSON. The host is the full base URL without the API version (``http://127.0.0.1:<port>``):
  the provider appends ``/v2/...`` (Apify) or ``/v1/...`` (Lobstr.io) itself.

The emulator modules are imported when a fixture is first used, so loading this plugin is cheap.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator
    from airflow_provider_tasks.testing.lobstr_emulator import LobstrEmulator
    from airflow_provider_tasks.testing.server import EmulatorServer


def _serve(module: str, class_name: str, *, tls: bool = False) -> Iterator[EmulatorServer]:
    """Start ``airflow_provider_tasks.testing.<module>.<class_name>()``, yield it, stop it."""
    emulator_class = getattr(importlib.import_module(f"airflow_provider_tasks.testing.{module}"), class_name)
    emulator = emulator_class()
    emulator.start(tls=tls)
    try:
        yield emulator
    finally:
        emulator.stop()


def _set_conn_env(monkeypatch: pytest.MonkeyPatch, conn_type: str, emulator: EmulatorServer) -> str:
    """Point ``AIRFLOW_CONN_<CONN_TYPE>_DEFAULT`` at the emulator; returns the JSON value."""
    value = json.dumps({"conn_type": conn_type, "password": emulator.token, "host": emulator.base_url})
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_type.upper()}_DEFAULT", value)
    return value


# -- Apify ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def apify_emulator_server() -> Iterator[ApifyEmulator]:
    """One Apify emulator for the test session, on a free port of 127.0.0.1."""
    yield from _serve("apify_emulator", "ApifyEmulator")  # type: ignore[misc]


@pytest.fixture
def apify_emulator(apify_emulator_server: ApifyEmulator) -> ApifyEmulator:
    """The session's Apify emulator, reset to seed data before the test."""
    apify_emulator_server.reset()
    return apify_emulator_server


@pytest.fixture
def apify_conn_env(apify_emulator: ApifyEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """``AIRFLOW_CONN_APIFY_DEFAULT`` pointing at the emulator (JSON connection format)."""
    return _set_conn_env(monkeypatch, "apify", apify_emulator)


@pytest.fixture(scope="session")
def apify_emulator_tls_server() -> Iterator[ApifyEmulator]:
    """One Apify emulator serving HTTPS (self-made CA in ``.tls_files.ca_path``) for the session."""
    yield from _serve("apify_emulator", "ApifyEmulator", tls=True)  # type: ignore[misc]


@pytest.fixture
def apify_emulator_tls(apify_emulator_tls_server: ApifyEmulator) -> ApifyEmulator:
    """The session's HTTPS Apify emulator, reset to seed data before the test."""
    apify_emulator_tls_server.reset()
    return apify_emulator_tls_server


# -- Lobstr.io -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def lobstr_emulator_server() -> Iterator[LobstrEmulator]:
    """One Lobstr.io emulator for the test session, on a free port of 127.0.0.1."""
    yield from _serve("lobstr_emulator", "LobstrEmulator")  # type: ignore[misc]


@pytest.fixture
def lobstr_emulator(lobstr_emulator_server: LobstrEmulator) -> LobstrEmulator:
    """The session's Lobstr.io emulator, reset to seed data before the test."""
    lobstr_emulator_server.reset()
    return lobstr_emulator_server


@pytest.fixture
def lobstr_conn_env(lobstr_emulator: LobstrEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """``AIRFLOW_CONN_LOBSTR_DEFAULT`` pointing at the emulator (JSON connection format); the host
    is the base URL without ``/v1``."""
    return _set_conn_env(monkeypatch, "lobstr", lobstr_emulator)


@pytest.fixture(scope="session")
def lobstr_emulator_tls_server() -> Iterator[LobstrEmulator]:
    """One Lobstr.io emulator serving HTTPS (self-made CA in ``.tls_files.ca_path``) for the session."""
    yield from _serve("lobstr_emulator", "LobstrEmulator", tls=True)  # type: ignore[misc]


@pytest.fixture
def lobstr_emulator_tls(lobstr_emulator_tls_server: LobstrEmulator) -> LobstrEmulator:
    """The session's HTTPS Lobstr.io emulator, reset to seed data before the test."""
    lobstr_emulator_tls_server.reset()
    return lobstr_emulator_tls_server
