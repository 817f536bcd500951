"""Fixtures of the integration suite: one real Airflow (4 services) + emulator for its tests.

Skip the suite with ``pytest -m "not integration"``. Set ``AIRFLOW_IT_KEEP_HOME=1`` to keep the
temporary Airflow home (logs, SQLite database) after the run; it is always kept after a failure.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

from tests.integration.harness import AirflowApi, AirflowCluster, EmulatorControl

_FAILED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: runs a real Airflow (api-server, scheduler, dag-processor, triggerer); slow"
    )


@pytest.fixture(scope="package")
def airflow_cluster(request: pytest.FixtureRequest):
    # package scope: stopped before tests/topology starts its own deployment in the same session
    yield from cluster_session(request, AirflowCluster.create())


def cluster_session(request: pytest.FixtureRequest, cluster: AirflowCluster):
    """Start ``cluster``, yield it, stop it; its home is removed unless a test failed or
    ``AIRFLOW_IT_KEEP_HOME`` is set (the body of a session fixture, shared with tests/topology)."""
    started = time.monotonic()
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        print(f"\nAirflow did not start:\n{cluster.diagnostics()}")
        raise
    print(f"\nAirflow up in {time.monotonic() - started:.0f}s at {cluster.base_url}, home {cluster.home}")
    yield cluster
    cluster.stop()
    failed = request.session.stash.get(_FAILED, False) or request.session.testsfailed
    if failed or os.environ.get("AIRFLOW_IT_KEEP_HOME"):
        print(f"\nKept the integration Airflow home: {cluster.home}")
    else:
        shutil.rmtree(cluster.home, ignore_errors=True)


@pytest.fixture
def api(airflow_cluster: AirflowCluster) -> AirflowApi:
    airflow_cluster.check_alive()
    assert airflow_cluster.api is not None
    return airflow_cluster.api


@pytest.fixture
def emulator(airflow_cluster: AirflowCluster) -> EmulatorControl:
    assert airflow_cluster.emulator is not None
    return airflow_cluster.emulator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On failure, attach the tails of every service log and of the task logs of this test."""
    report = yield
    if report.failed and "airflow_cluster" in getattr(item, "fixturenames", ()):
        item.session.stash[_FAILED] = True
        cluster = item.funcargs.get("airflow_cluster") if hasattr(item, "funcargs") else None
        if cluster is not None:
            since = item.stash.get(_STARTED, 0.0)
            report.sections.append(("Airflow logs", cluster.diagnostics(since=since)))
    return report


_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = time.time()
