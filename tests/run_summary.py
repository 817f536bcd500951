"""Sections of the run's terminal summary that any process of the run can add: pytest-xdist
workers print no summary of their own, so they leave their lines in the directory the whole run
shares (``PROVIDER_TESTS_SHARED``, see ``tests/conftest.py``) and the process that reports prints them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def write_summary_section(name: str, lines: list[str]) -> None:
    """Leave a section for the run's terminal summary: ``lines[0]`` is its title."""
    (Path(os.environ["PROVIDER_TESTS_SHARED"]) / f"summary-{name}-{os.getpid()}.txt").write_text("\n".join(lines))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for path in sorted(Path(os.environ["PROVIDER_TESTS_SHARED"]).glob("summary-*.txt")):
        title, *lines = path.read_text().splitlines()
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
