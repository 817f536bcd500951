"""Skips are declared, never silent.

A test may be skipped only by a ``skipif`` marker written next to it: a gate on an Airflow line, a
Python version or an installed package, whose ``reason`` says which. Any other skip (``pytest.skip()``
at run time, a fixture that gives up, a missing tool) is *undeclared*: it is listed with its reason
at the end of every run, and with ``STRICT_SKIPS=1`` (set by ``.ci/run`` and ``.ci/matrix``) it
fails the run, because in CI it means a part of the suite silently did not run.

Works with and without ``pytest-xdist``: the verdict travels in the report's ``user_properties``.
"""

from __future__ import annotations

import os

import pytest

_UNDECLARED: list[str] = []
_KEY = "undeclared_skip"


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        declared = {mark.kwargs.get("reason") for mark in item.iter_markers("skipif")}
        if reason not in declared:
            report.user_properties.append((_KEY, f"{item.nodeid}: {reason}"))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collects the verdicts where the summary is printed: the only process, or xdist's controller
    (a worker collects its own too, and never prints them)."""
    _UNDECLARED.extend(value for key, value in report.user_properties if key == _KEY)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:  # a whole module skipped while being collected is never declared
        _UNDECLARED.append(f"{report.nodeid}: {_skip_reason(report)}")


def _strict() -> bool:
    return os.environ.get("STRICT_SKIPS") == "1"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _UNDECLARED:
        return
    verdict = "a failure (STRICT_SKIPS=1)" if _strict() else "allowed here; STRICT_SKIPS=1 (CI) fails them"
    terminalreporter.section(f"undeclared skips: {verdict}")
    for line in _UNDECLARED:
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _UNDECLARED and _strict() and not hasattr(session.config, "workerinput") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
