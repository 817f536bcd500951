"""Runs DAG files through real Airflow (``dag.test()``) against the emulator.

``dag.test()`` in Airflow 3.3 only works for DAGs that live in a file in the DAGs folder, so each
test writes its DAG there. The metadata database is migrated once per test run (all xdist
workers share the migrated template).
"""

from __future__ import annotations

import fcntl
import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

DAG_HEADER = """
import pendulum
from airflow.providers.common.compat.sdk import DAG, task
from airflow_provider_tasks.apify.operators import (
    ApifyDatasetItemsOperator, ApifyRunActorOperator, ApifyRunTaskOperator,
)
from airflow_provider_tasks.apify.sensors import ApifyRunSensor
from airflow_provider_tasks.lobstr.operators import LobstrResultsOperator, LobstrRunSquidOperator
from airflow_provider_tasks.lobstr.sensors import LobstrRunSensor, LobstrTaskSensor
"""


DEFERRAL_MARKERS = ("Pausing task as DEFERRED", "[DAG TEST] running trigger in line")
"""What ``dag.test()`` logs when a task defers: Airflow 3, and Airflow 2.11 (which logs no pause)."""


@dataclass
class DagResult:
    state: str
    task_states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    output: str
    dag: Any = field(default=None, repr=False)
    run_id: str = ""

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))

    def asset_event_extras(self, task_id: str) -> list[dict[str, Any]]:
        """The ``extra`` of every asset event (dataset event on 2.11) that ``task_id`` of this DAG
        run stored in the metadata database."""
        from airflow.utils.session import create_session
        from sqlalchemy import select

        Event = _asset_event_table()
        with create_session() as session:
            rows = session.execute(
                select(Event.extra).where(
                    Event.source_dag_id == self.dag.dag_id,
                    Event.source_run_id == self.run_id,
                    Event.source_task_id == task_id,
                )
            ).all()
        return [_decode(extra) or {} for (extra,) in rows]

    @property
    def output_for_secrets(self) -> str:
        """The output to search for leaked secrets: all of it but Airflow 3.0's in-process test
        supervisor's own debug line asking to mask a secret (``MaskSecret(value=...)``), which
        carries the secret by design and never reaches a task log."""
        return "\n".join(line for line in self.output.splitlines() if "MaskSecret(value=" not in line)

    def assert_error_shown(self, text: str) -> None:
        """Assert that a failed task's error ``text`` reached the output. Where the output holds no
        task error at all, xfail instead: Airflow 3.0's ``dag.test()`` prints nothing for a task
        that fails after it was resumed or while it polls, so there is nothing to check there."""
        from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS

        if text not in self.output and AIRFLOW_V_3_0_PLUS and not AIRFLOW_V_3_1_PLUS:
            pytest.xfail(f"Airflow 3.0's dag.test() prints no error for this task (expected {text!r})")
        assert text in self.output, self.output[-3000:]

    @property
    def deferred(self) -> bool:
        return any(marker in self.output for marker in DEFERRAL_MARKERS)

    def link(self, task_id: str, link_class: type) -> str | None:
        """The task's extra link as the UI shows it. Airflow 3 renders it in the worker and keeps
        it in XCom ``_link_<class>``; Airflow 2.11 renders it in the webserver, from the
        serialized operator (template fields, no live state) and the task's XCom."""
        from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS

        if AIRFLOW_V_3_0_PLUS:
            return self.xcom(task_id, f"_link_{link_class.__name__}")
        from airflow.models.taskinstancekey import TaskInstanceKey

        task = self.dag.get_task(task_id)
        serialized = SimpleNamespace(**{name: getattr(task, name, None) for name in task.template_fields})
        key = TaskInstanceKey(self.dag.dag_id, task_id, self.run_id, try_number=1, map_index=-1)
        return link_class().get_link(serialized, ti_key=key)


@contextmanager
def runs_end_once_followed(emulator: Any, seconds: float = 3600.0, *, deadline: float = 240.0) -> Iterator[None]:
    """Inside: the emulator's clock jumps ``seconds`` ahead (its runs end) once a run's own URL is
    first requested (``GET /v2/actor-runs/{runId}``): by then the task that looked for a run going
    (its list request answered) has found it and follows it. So that run is still going when it is
    looked for, however long a busy machine takes between two tasks; give its task a duration of
    ``seconds``. For a DAG whose first task does not follow its run. Past ``deadline`` the clock
    moves anyway, so a test that never follows fails on its assertions instead of hanging."""
    done = threading.Event()

    def watch() -> None:
        give_up = time.monotonic() + deadline
        while not done.wait(0.05):
            if emulator.stats()["by_route"].get("GET /v2/actor-runs/{runId}") or time.monotonic() > give_up:
                emulator.advance(seconds)
                return

    watcher = threading.Thread(target=watch, name="runs-end-once-followed", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The session's private metadata database: a copy of one migrated template.

    Under pytest-xdist every worker has its own Airflow home; migrating each of them costs seconds
    of CPU apiece. The first process that needs a database migrates a template into the directory
    the whole run shares (``PROVIDER_TESTS_SHARED``, see ``tests/conftest.py``), under a file lock;
    every process then copies the template into its own home."""
    shared = Path(os.environ["PROVIDER_TESTS_SHARED"])
    template = shared / "airflow-template.db"
    with open(shared / "airflow-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            partial = shared / "airflow-template.db.partial"
            env = {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{partial}"}
            subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            partial.rename(template)
    shutil.copyfile(template, Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")


@pytest.fixture
def run_dag(airflow_db, apify_conn_env, lobstr_conn_env, capfd):
    """``run_dag(body)``: write a DAG whose tasks are ``body`` and run it with ``dag.test()``
    (both platforms' default connections point at their emulators)."""
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])

    def run(body: str, **dag_kwargs: Any) -> DagResult:
        dag_id = f"t_{uuid.uuid4().hex[:12]}"
        kwargs = ", ".join(f"{k}={v!r}" for k, v in dag_kwargs.items())
        source = DAG_HEADER + textwrap.dedent(
            f"""
            with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False{', ' + kwargs if kwargs else ''}) as dag:
            """  # noqa: E501 - the DAG's source, kept verbatim
        ) + textwrap.indent(textwrap.dedent(body), "    ")
        path = dags_folder / f"{dag_id}.py"
        path.write_text(source)
        try:
            from airflow_provider_tasks.testing.run_example import dag_bag

            dag = dag_bag(dag_folder=str(path)).get_dag(dag_id)
            assert dag is not None, f"DAG did not load:\n{source}"
            _reopen_closed_log_streams()
            dag_run = dag.test()
            captured = capfd.readouterr()
            return DagResult(
                state=str(dag_run.state),
                task_states=_task_states(dag_run),
                xcoms=_xcoms(dag_id, dag_run.run_id),
                output=captured.out + captured.err,
                dag=dag,
                run_id=dag_run.run_id,
            )
        finally:
            path.unlink(missing_ok=True)

    return run


def _reopen_closed_log_streams() -> None:
    """Point logging handlers left on an earlier test's closed capture stream at the current one.

    Some Airflow lines (3.0) set up their task log handlers once per process, on the
    ``sys.stderr`` of the test that ran first; pytest closes that stream afterwards, and every
    later task's log lines would be lost ("I/O operation on closed file")."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            stream = getattr(handler, "stream", None)
            if isinstance(handler, logging.StreamHandler) and getattr(stream, "closed", False):
                handler.stream = sys.stderr  # not setStream(): it flushes the closed stream first


def _task_states(dag_run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
    return {task_id: str(state) for task_id, state in rows}


def _xcoms(dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
    from airflow.utils.session import create_session
    from sqlalchemy import select

    XComModel = _xcom_table()

    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.key, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id
            )
        ).all()
    return {(task_id, key): _decode(value) for task_id, key, value in rows}


def _decode(value: Any) -> Any:
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _asset_event_table() -> Any:
    """The ORM class of stored asset events (``AssetEvent`` on 3.x, ``DatasetEvent`` on 2.11)."""
    try:
        return importlib.import_module("airflow.models.asset").AssetEvent
    except (ImportError, AttributeError):
        return importlib.import_module("airflow.models.dataset").DatasetEvent


def _xcom_table() -> Any:
    """The ORM class of the XCom table (``XComModel`` on 3.x, ``BaseXCom`` on 2.11)."""
    module = importlib.import_module("airflow.models.xcom")
    return getattr(module, "XComModel", None) or module.BaseXCom
