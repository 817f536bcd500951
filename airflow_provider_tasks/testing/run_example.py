"""Run an example DAG end to end against the bundled emulator, in one process, offline.

    python -m airflow_provider_tasks.testing.run_example [DAG_ID] [--dags-folder DIR]

Sets up a throwaway Airflow home (SQLite; removed at exit unless ``--keep-home``) unless
``AIRFLOW_HOME`` is set, starts the Apify and
Lobstr.io emulators on free ports, points the ``apify_default`` and ``lobstr_default``
connections at them, and runs the DAG with
``dag.test()`` (triggers run inline, so deferrable tasks complete). Exits non-zero unless the
DAG run succeeds.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def dag_bag(**kwargs: Any) -> Any:
    """A ``DagBag`` (``airflow.dag_processing.dagbag`` from Airflow 3.2, ``airflow.models.dagbag``
    before), to load DAG files the way Airflow does."""
    try:
        module = importlib.import_module("airflow.dag_processing.dagbag")
    except ImportError:
        module = importlib.import_module("airflow.models.dagbag")
    return module.DagBag(**kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dag_id", nargs="?", default="example_apify")
    parser.add_argument("--dags-folder", default=str(Path.cwd() / "example_dags"))
    parser.add_argument("--keep-home", action="store_true", help="keep the throwaway Airflow home (logs, output)")
    args = parser.parse_args(argv)

    dags_folder = Path(args.dags_folder).resolve()
    if not (dags_folder / f"{args.dag_id}.py").exists() and not any(dags_folder.glob("*.py")):
        parser.error(
            f"no DAG files in {dags_folder}. The example DAGs are not in the installed package: pass "
            "--dags-folder with the example_dags folder of a checkout of airflow-provider-tasks, or a folder "
            "of your own DAGs"
        )
    if os.environ.get("AIRFLOW_HOME"):
        return _run(args.dag_id, dags_folder)
    home = tempfile.mkdtemp(prefix="airflow-provider-tasks-example-")
    os.environ["AIRFLOW_HOME"] = home
    try:
        return _run(args.dag_id, dags_folder)
    finally:
        if args.keep_home:
            print(f"Kept the Airflow home: {home}", flush=True)
        else:
            shutil.rmtree(home, ignore_errors=True)


def _run(dag_id: str, dags_folder: Path) -> int:
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    print(f"Airflow home: {os.environ['AIRFLOW_HOME']}", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)

    from airflow_provider_tasks.testing.apify_emulator import ApifyEmulator
    from airflow_provider_tasks.testing.lobstr_emulator import LobstrEmulator

    with ApifyEmulator() as apify, LobstrEmulator() as lobstr:
        for conn_id, emulator in (("APIFY_DEFAULT", apify), ("LOBSTR_DEFAULT", lobstr)):
            conn_type = conn_id.split("_")[0].lower()
            os.environ[f"AIRFLOW_CONN_{conn_id}"] = json.dumps(
                {"conn_type": conn_type, "password": emulator.token, "host": emulator.base_url}
            )
            print(f"{conn_type} emulator at {emulator.base_url}", flush=True)

        dag = dag_bag(dag_folder=str(dags_folder)).get_dag(dag_id)
        if dag is None:
            print(f"DAG {dag_id!r} not found in {dags_folder}", file=sys.stderr)
            return 2
        dag_run = dag.test()
        state = str(dag_run.state)
        runs = len(apify.runs()) + len(lobstr.runs())
    print(f"\nDAG {dag_id}: {state}; emulator runs started: {runs}", flush=True)
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
