"""The quick start's example runner: runs an example DAG and leaves no throwaway directory behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_runner_succeeds_and_removes_its_airflow_home(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["TMPDIR"] = str(tmp_path)  # where the runner makes its throwaway Airflow home
    finished = subprocess.run(
        [sys.executable, "-m", "airflow_provider_tasks.testing.run_example", "example_lobstr",
         "--dags-folder", "example_dags"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert "DAG example_lobstr: success" in finished.stdout
    home = next(line.split(": ", 1)[1] for line in finished.stdout.splitlines() if line.startswith("Airflow home: "))
    assert home.startswith(str(tmp_path))
    assert f"{home}/example-output/" in finished.stdout + finished.stderr  # the DAG wrote under its home
    assert list(tmp_path.iterdir()) == []


def test_example_runner_outside_a_checkout_says_where_the_examples_are(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-m", "airflow_provider_tasks.testing.run_example", "example_apify"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode == 2
    assert f"no DAG files in {tmp_path}/example_dags" in finished.stderr
    assert "pass --dags-folder with the example_dags folder of a checkout" in finished.stderr
