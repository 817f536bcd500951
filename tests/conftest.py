"""Test session setup: a private Airflow home per process (set before Airflow is imported), a
directory shared by every pytest-xdist worker of the run, the emulator fixtures, a harness that
runs DAG files through real Airflow with ``dag.test()``, and the skip policy."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

_HOME = tempfile.mkdtemp(prefix="airflow-provider-tasks-tests-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(_HOME, "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.makedirs(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)

# Made by the process that starts the run; xdist workers inherit it through the environment.
if "PROVIDER_TESTS_SHARED" not in os.environ:
    os.environ["PROVIDER_TESTS_SHARED"] = tempfile.mkdtemp(prefix="airflow-provider-tasks-shared-")
    atexit.register(shutil.rmtree, os.environ["PROVIDER_TESTS_SHARED"], ignore_errors=True)

pytest_plugins = [
    "airflow_provider_tasks.testing.pytest_plugin",
    "tests.dag_harness",
    "tests.skip_policy",
    "tests.run_summary",
]


DEFAULT_MARKEXPR = "not integration"
REAL_AIRFLOW_SUITES = [Path(__file__).parent / name for name in ("integration", "topology")]
_SELECTS_REAL_AIRFLOW = re.compile(r"(?<!not )\b(integration|topology)\b")


def pytest_configure(config: pytest.Config) -> None:
    """A run that selects the real-Airflow suites runs in one process, whatever ``-n`` says: each
    suite starts one deployment for all its tests, which xdist workers would each start again.
    Naming their folder (``pytest tests/integration``) selects them: the default ``-m`` of
    ``addopts`` only narrows a run over the whole tree."""
    named = [Path(arg.split("::", 1)[0]).resolve() for arg in config.args]
    if config.option.markexpr == DEFAULT_MARKEXPR and any(
        path == suite or suite in path.parents for path in named for suite in REAL_AIRFLOW_SUITES
    ):
        config.option.markexpr = ""
    if config.option.markexpr != DEFAULT_MARKEXPR and (
        not config.option.markexpr or _SELECTS_REAL_AIRFLOW.search(config.option.markexpr)
    ):
        config.option.numprocesses, config.option.dist, config.option.tx = 0, "no", []
