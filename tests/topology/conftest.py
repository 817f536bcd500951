"""Fixtures of the topology suite: one production-shaped Airflow (PostgreSQL, Celery on Redis,
2 schedulers, 2 triggerers, 2 workers, both emulators) for this package's tests.

Needs Debian's ``postgresql`` and ``redis-server`` and the ``topology`` extra; without them the
tests are skipped with a one-line reason, unless ``REQUIRE_TOPOLOGY=1`` (CI) makes that a failure.
Select the suite with ``-m topology``; its tests are also marked ``integration``, so
``-m "not integration"`` leaves them out with the rest of the real-Airflow suite.
``AIRFLOW_IT_KEEP_HOME=1`` keeps the temporary home (logs, PostgreSQL data) after the run.

At the end of the run the terminal summary shows the wall time of each case, each service's
memory and the emulators' requests per remote run.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from tests.integration.conftest import (  # noqa: F401 - the same failure diagnostics as the integration suite
    cluster_session,
    pytest_runtest_makereport,
    pytest_runtest_setup,
)
from tests.integration.conftest import pytest_configure as integration_configure
from tests.integration.harness import AirflowApi, EmulatorControl
from tests.run_summary import write_summary_section
from tests.topology.cluster import INSTALL_HINT, LobstrControl, MemorySampler, TopologyCluster, missing_requirements

_REPORT: list[str] = []
_CASES: list[dict[str, Any]] = []


def pytest_configure(config: pytest.Config) -> None:
    integration_configure(config)  # this suite's tests are marked integration too
    config.addinivalue_line(
        "markers",
        "topology: a production-shaped Airflow (PostgreSQL, CeleryExecutor on Redis, 2 schedulers, 2 triggerers, "
        "2 workers); slow, and marked integration too",
    )


@pytest.fixture(scope="package")
def airflow_cluster(request: pytest.FixtureRequest):
    missing = missing_requirements()
    if missing:
        message = f"topology suite needs {', '.join(missing)}: {INSTALL_HINT}"
        if os.environ.get("REQUIRE_TOPOLOGY") == "1":
            pytest.fail(f"REQUIRE_TOPOLOGY=1 and the {message}", pytrace=False)
        pytest.skip(message)
    started = time.monotonic()
    session = cluster_session(request, TopologyCluster.create())
    cluster = next(session)
    _REPORT.append(
        f"deployment up in {time.monotonic() - started:.0f}s (PostgreSQL, Redis, emulators, migrate, services)"
    )
    sampler = MemorySampler(cluster.all_services)
    sampler.start()
    try:
        yield cluster
    finally:
        sampler.stop()
        try:
            _REPORT.extend(_closing_measurements(cluster, sampler))
        except Exception as error:  # measurements only: never hide a test outcome
            _REPORT.append(f"measurements failed: {error!r}")
        next(session, None)


@pytest.fixture
def api(airflow_cluster: TopologyCluster) -> AirflowApi:
    airflow_cluster.check_alive()
    assert airflow_cluster.api is not None
    return airflow_cluster.api


@pytest.fixture
def emulator(airflow_cluster: TopologyCluster) -> EmulatorControl:
    assert airflow_cluster.emulator is not None
    return airflow_cluster.emulator


@pytest.fixture
def lobstr(airflow_cluster: TopologyCluster) -> LobstrControl:
    assert airflow_cluster.lobstr is not None
    return airflow_cluster.lobstr


@pytest.fixture
def note(request: pytest.FixtureRequest):
    """``note(text)``: a line for the closing measurements (shown without ``-s``)."""
    return lambda text: _REPORT.append(f"{request.node.name}: {text}")


@pytest.fixture(autouse=True)
def measured(request: pytest.FixtureRequest, airflow_cluster: TopologyCluster):
    """Wall time of the case and the emulators' requests and runs during it."""
    before = _emulator_counts(airflow_cluster)
    started = time.monotonic()
    yield
    after = _emulator_counts(airflow_cluster)
    case = {"case": request.node.name, "seconds": time.monotonic() - started}
    for platform in after:
        case[platform] = {key: after[platform][key] - before[platform][key] for key in after[platform]}
    _CASES.append(case)


def _emulator_counts(cluster: TopologyCluster) -> dict[str, dict[str, int]]:
    counts = {}
    for platform, control in (("apify", cluster.emulator), ("lobstr", cluster.lobstr)):
        assert control is not None
        stats = control.stats()
        counts[platform] = {"requests": stats["total"], "runs": len(control.runs())}
    return counts


def _per_run(requests: int, runs: int) -> str:
    return f"{requests} requests / {runs} runs = {requests / runs:.1f} per run" if runs else f"{requests} requests"


def _closing_measurements(cluster: TopologyCluster, sampler: MemorySampler) -> list[str]:
    sampler.sample()
    pss = sampler.pss_now()
    lines = ["memory per service (KiB summed over its process tree): peak RSS / ending RSS / ending PSS"]
    for name in sorted(sampler.peak_rss):
        lines.append(
            f"  {name:<16} {sampler.peak_rss[name]:>9} / {sampler.last_rss.get(name, 0):>9} / {pss.get(name, 0):>9}"
        )
    lines.append(
        f"  {'total':<16} {sum(sampler.peak_rss.values()):>9} (sum of peaks) / {sum(sampler.last_rss.values()):>9}"
        f" / {sum(pss.values()):>9}"
    )
    for platform, control in (("apify", cluster.emulator), ("lobstr", cluster.lobstr)):
        assert control is not None
        stats, runs = control.stats(), len(control.runs())
        lines.append(f"{platform} emulator, whole session: {_per_run(stats['total'], runs)}")
        routes = ", ".join(f"{route} {count}" for route, count in sorted(stats["by_route"].items()))
        lines.append(f"  by route: {routes}")
    return lines


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the measurements for the run's terminal summary (``tests/run_summary.py`` prints them):
    under pytest-xdist this suite runs in a worker, whose own summary nobody sees."""
    if not (_CASES or _REPORT):
        return
    lines = ["topology measurements"]
    total = 0.0
    for case in _CASES:
        total += case["seconds"]
        per_platform = "; ".join(
            f"{platform}: {_per_run(case[platform]['requests'], case[platform]['runs'])}"
            for platform in ("apify", "lobstr")
            if case[platform]["requests"]
        )
        lines.append(f"{case['case']}: {case['seconds']:.0f}s wall; {per_platform or 'no emulator requests'}")
    if _CASES:
        lines.append(f"cases total: {total:.0f}s wall")
    lines.extend(_REPORT)
    write_summary_section("topology", lines)
