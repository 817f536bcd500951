"""Test session setup: a private Airflow home (set before Airflow is imported), the emulator
fixtures, and a harness that runs DAG files through real Airflow with ``dag.test()``."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_HOME = tempfile.mkdtemp(prefix="airflow-provider-tasks-tests-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(_HOME, "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.makedirs(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)

pytest_plugins = ["airflow_provider_tasks.testing.pytest_plugin", "tests.dag_harness"]
