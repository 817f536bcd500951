"""Screenshots of what a user sees, from a real Airflow and the bundled Apify emulator.

Run by ``bash docs/screenshots/make`` with the Python of the Airflow to show (3.3 from ``.venv``,
2.11 from its matrix venv). It starts, in a throwaway ``AIRFLOW_HOME``:

- the Apify emulator as a process, with a task whose run lasts an hour;
- ``airflow standalone`` (every service of that line, SQLite), with ``apify_default`` in the
  database pointing at the emulator and two DAGs: ``shots_pipeline`` (a deferrable run with an
  asset outlet, then its dataset downloaded) and ``shots_waiting`` (a run that stays deferred);

then hands ``browser.py`` (Playwright, in ``.venv-shots``) a plan of pages: the connection form
and its Test button, the deferred task with its extra link, the run operator's XCom and the
asset event. The pictures land in ``docs/img/airflow-<line>/``. Everything it started is stopped,
and the home removed, whatever happens (``--keep-home`` keeps the home and its logs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.integration.harness import EMULATOR_TOKEN, EmulatorControl, free_port, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
ASSET_URI = "apify://screenshots/pipeline-run"
DAGS = textwrap.dedent(
    f'''
    """The DAGs the documentation's screenshots show."""
    import pendulum
    from airflow.providers.common.compat.sdk import DAG, Asset

    from airflow_provider_tasks.apify.operators import ApifyDatasetItemsOperator, ApifyRunTaskOperator

    START = pendulum.datetime(2026, 1, 1, tz="UTC")

    with DAG("shots_pipeline", schedule=None, start_date=START, catchup=False, tags=["apify"]):
        run_scraper = ApifyRunTaskOperator(
            task_id="run_scraper",
            actor_task_id="demo~succeeds-with-items",
            deferrable=True,
            outlets=[Asset({ASSET_URI!r})],
        )
        run_scraper >> ApifyDatasetItemsOperator(
            task_id="download_items", output_path="{{{{ var.value.out }}}}/{{{{ run_id }}}}.jsonl"
        )

    with DAG("shots_waiting", schedule=None, start_date=START, catchup=False, tags=["apify"]):
        ApifyRunTaskOperator(task_id="run_scraper", actor_task_id="demo~shots-long", deferrable=True)
    '''
)


class Deployment:
    """One throwaway Airflow home with the emulator and ``airflow standalone`` running."""

    def __init__(self, home: Path) -> None:
        import airflow

        self.home = home
        self.version = airflow.__version__
        self.airflow3 = int(self.version.split(".")[0]) >= 3
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.emulator: EmulatorControl | None = None
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            NO_PROXY="127.0.0.1,localhost",
            PYTHONPATH=str(REPO),  # this checkout's provider, whatever the venv has installed
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.home / "dags"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__TEST_CONNECTION="Enabled",  # the Test button is off by default
            # log servers on free ports: another Airflow (a test suite's) may hold the defaults
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        )
        if self.airflow3:
            env.update(
                AIRFLOW__API__PORT=str(self.port),
                AIRFLOW__API__HOST="127.0.0.1",
                AIRFLOW__API__BASE_URL=self.base_url,
                AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base_url}/execution/",
                AIRFLOW__CORE__EXECUTOR="LocalExecutor",
                AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            )
        else:
            env.update(
                AIRFLOW__WEBSERVER__WEB_SERVER_PORT=str(self.port),
                AIRFLOW__WEBSERVER__WEB_SERVER_HOST="127.0.0.1",
            )
        return env

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.home / f"{name}.log", "wb") as log:  # the child keeps its own copy
            process = subprocess.Popen(argv, env=self.env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append(process)
        return process

    def airflow(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "airflow"), *args], env=self.env, cwd=self.home,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "airflow.db", timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def start(self) -> None:
        (self.home / "dags").mkdir(parents=True)
        (self.home / "dags" / "shots.py").write_text(DAGS)
        self.emulator = EmulatorControl(self.home, self.env)
        self.emulator.start()
        self.emulator.add_task("shots-long", duration_secs=3600)  # a run that stays deferred
        self.airflow("db", "migrate")
        self.airflow("connections", "add", "apify_default", "--conn-type", "apify",
                     "--conn-host", self.emulator.base_url, "--conn-password", self.emulator.token)
        self.airflow("variables", "set", "out", str(self.home / "out"))
        self.spawn("standalone", [str(BIN / "airflow"), "standalone"])
        health = "/api/v2/monitor/health" if self.airflow3 else "/health"
        wait_for(lambda: self._answers(self.base_url + health), timeout=300, what="Airflow's web server")
        wait_for(lambda: len(self.query(
            "select dag_id from serialized_dag where dag_id in ('shots_pipeline', 'shots_waiting')")) == 2,
            timeout=300, what="the DAGs to be parsed")  # fmt: skip

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def trigger(self, dag_id: str) -> str:
        run_id = f"screenshots_{dag_id}"
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id)
        return run_id

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query("select state from dag_run where dag_id = ? and run_id = ?", dag_id, run_id)
        return rows[0][0] if rows else None

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        rows = self.query("select state from task_instance where dag_id = ? and run_id = ? and task_id = ?",
                          dag_id, run_id, task_id)
        return rows[0][0] if rows else None

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever outlived its group's leader (a web server's workers)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.emulator is not None:
            self.emulator.stop()


def plan(deployment: Deployment, pipeline_run: str, waiting_run: str) -> dict[str, Any]:
    """The pages to photograph on this Airflow line, each with the text that proves it is the
    right page (and, for the Test button, the answer it must give)."""
    if deployment.airflow3:
        (asset_id,) = deployment.query("select id from asset where uri = ?", ASSET_URI)[0]
        ti = "/dags/{dag}/runs/{run}/tasks/run_scraper"
        return {"base_url": deployment.base_url, "login": None, "shots": [
            {"name": "connection-form", "caption": "the Apify connection form", "path": "/connections",
             "wait_text": "apify_default", "clicks": ["css=button[aria-label='Edit Connection']"],
             "expect_text": "API token"},
            {"name": "deferred-task", "caption": "a task deferred on a running Apify run, with its extra link",
             "path": ti.format(dag="shots_waiting", run=waiting_run) + "/details", "wait_text": "Apify run"},
            {"name": "xcom", "caption": "the run operator's XCom",
             "path": ti.format(dag="shots_pipeline", run=pipeline_run) + "/xcom", "wait_text": "default_dataset_id"},
            {"name": "asset-event", "caption": "the asset event, its extra carrying the run",
             "path": f"/assets/{asset_id}", "wait_text": ASSET_URI, "clicks": ["css=.codicon-folding-collapsed"],
             "expect_text": "console_url"},
        ]}
    password = (deployment.home / "standalone_admin_password.txt").read_text().strip()
    (connection_id,) = deployment.query("select id from connection where conn_id = 'apify_default'")[0]
    grid = "/dags/{dag}/grid?dag_run_id={run}&task_id=run_scraper"
    return {"base_url": deployment.base_url, "login": {"username": "admin", "password": password}, "shots": [
        {"name": "connection-form", "caption": "the Apify connection form", "path": f"/connection/edit/{connection_id}",
         "wait_text": "API token", "full_page": True},
        {"name": "connection-test", "caption": "the Test button's answer (the token typed in, as Airflow 2 asks)",
         "path": f"/connection/edit/{connection_id}", "wait_text": "API token",
         "fills": [["#password", EMULATOR_TOKEN]], "clicks": ["css=#test-connection"],
         "expect_text": "Connected to Apify at"},
        {"name": "deferred-task", "caption": "a task deferred on a running Apify run, with its extra link",
         "path": grid.format(dag="shots_waiting", run=waiting_run), "wait_text": "Apify run"},
        {"name": "xcom", "caption": "the run operator's XCom",
         "path": grid.format(dag="shots_pipeline", run=pipeline_run) + "&tab=xcom", "wait_text": "default_dataset_id"},
        {"name": "asset-event", "caption": "the dataset event, its extra carrying the run",
         "path": f"/datasets?uri={ASSET_URI}", "wait_text": ASSET_URI, "clicks": ["css=.collapsed-icon"],
         "expect_text": "console_url"},
    ]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser-python", default=str(REPO / ".venv-shots" / "bin" / "python"))
    parser.add_argument("--out", type=Path, help="default: docs/img/airflow-<line>")
    parser.add_argument("--keep-home", action="store_true", help="keep the Airflow home and its logs")
    parser.add_argument("--serve", action="store_true",
                        help="take no pictures: leave the deployment up for a look, until interrupted")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="airflow-shots-"))
    deployment = Deployment(home)
    line = ".".join(deployment.version.split(".")[:2])
    out = args.out or REPO / "docs" / "img" / f"airflow-{line}"
    print(f"Airflow {deployment.version}: home {home}", flush=True)
    try:
        deployment.start()
        pipeline_run = deployment.trigger("shots_pipeline")
        waiting_run = deployment.trigger("shots_waiting")
        state = wait_for(lambda: deployment.dag_run_state("shots_pipeline", pipeline_run) in ("success", "failed")
                         and deployment.dag_run_state("shots_pipeline", pipeline_run),
                         timeout=300, what="shots_pipeline to finish")  # fmt: skip
        if state != "success":
            raise RuntimeError(f"shots_pipeline ended {state}; see {home}/standalone.log")
        wait_for(lambda: deployment.task_state("shots_waiting", waiting_run, "run_scraper") == "deferred",
                 timeout=300, what="shots_waiting's task to defer")
        if args.serve:
            print(f"serving on {deployment.base_url} (Ctrl-C stops)", flush=True)
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        plan_file = home / "plan.json"
        plan_file.write_text(json.dumps(plan(deployment, pipeline_run, waiting_run)))
        return subprocess.run([args.browser_python, str(Path(__file__).with_name("browser.py")),
                               str(plan_file), str(out)]).returncode
    finally:
        deployment.stop()
        if args.keep_home:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
