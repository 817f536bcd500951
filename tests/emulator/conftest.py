"""Fixtures of the emulator's own tests.

The ``apify_emulator`` and ``lobstr_emulator`` fixtures come from
``airflow_provider_tasks.testing.pytest_plugin``, which the root ``tests/conftest.py`` loads; it is
registered here too when the root one does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.helpers import Api

PLUGIN = "airflow_provider_tasks.testing.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
def api(apify_emulator: Any) -> Iterator[Api]:
    client = Api(apify_emulator.base_url, apify_emulator.token)
    yield client
    client.session.close()


@pytest.fixture
def anon(apify_emulator: Any) -> Iterator[Api]:
    client = Api(apify_emulator.base_url, None)
    yield client
    client.session.close()


@pytest.fixture
def lobstr_api(lobstr_emulator: Any) -> Iterator[Api]:
    """``requests`` on the Lobstr.io emulator with ``Authorization: Token <token>``."""
    with Api(lobstr_emulator.base_url, lobstr_emulator.token, scheme="Token") as client:
        yield client


@pytest.fixture
def lobstr_anon(lobstr_emulator: Any) -> Iterator[Api]:
    with Api(lobstr_emulator.base_url, None) as client:
        yield client
