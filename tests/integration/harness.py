"""A real Airflow 3 on this machine, for the integration suite.

:class:`AirflowCluster` makes a temporary ``AIRFLOW_HOME`` (SQLite, LocalExecutor, simple auth
manager with everyone an admin), starts the Apify emulator as its own process, runs
``airflow db migrate`` and then the four services as subprocesses: ``api-server``,
``scheduler``, ``dag-processor`` and ``triggerer``. Each service runs in its own process group
(so stopping or SIGKILLing it takes its children along) and writes to a log file under
``<home>/proc-logs``. :class:`AirflowApi` drives it through the REST API (``/api/v2``) with a
JWT from ``POST /auth/token``; :class:`EmulatorControl` reads the emulator's ``/_emulator/``
endpoints.

Waiting is always "poll an external system until a condition holds or a deadline passes"
(:func:`wait_for`); no fixed sleep is used to synchronise with Airflow.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import requests

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DAG_FILES = HERE / "dag_files"
WATCHER_DAG_FILES = HERE / "watcher_dag_files"
VENV_BIN = Path(sys.executable).parent
AIRFLOW_BIN = str(VENV_BIN / "airflow")
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
TEST_DAG_IDS = ("it_single", "it_parallel", "it_fanout", "it_mapped")
EMULATOR_TOKEN = "integration-token"

#: Service start-up on a busy 2-core machine: generous, it is only a deadline.
STARTUP_TIMEOUT = 240.0
MIGRATE_TIMEOUT = 300.0
STOP_TIMEOUT = 20.0


class WaitTimeout(AssertionError):
    """A condition did not hold before its deadline (an assertion failure of the test)."""


def wait_for(
    probe: Callable[[], T],
    *,
    timeout: float,
    interval: float = 1.0,
    what: str = "condition",
    describe: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until it returns something truthy; return that, or fail at the deadline.

    ``describe`` (optional) explains the state seen last, for the failure message. Exceptions
    from ``probe`` that are connection errors count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = probe()
        except (requests.ConnectionError, requests.Timeout) as error:
            value, last_error = None, error  # type: ignore[assignment]
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = describe() if describe is not None else ""
            if last_error is not None:
                detail += f"\nlast connection error: {last_error!r}"
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}. {detail}".rstrip())
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"<cannot read {path}: {error}>"
    return "\n".join(text.splitlines()[-lines:])


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Service:
    """One subprocess in its own process group, logging to a file."""

    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    #: run as this (uid, gid) instead of the test process's user (PostgreSQL refuses root)
    run_as: tuple[int, int] | None = None

    def start(self, env: dict[str, str], cwd: Path) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log_path, "ab")  # owned by the child from here on
        try:
            self.process = subprocess.Popen(
                self.argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: signals reach its children too
                preexec_fn=_die_with_parent,
                **(
                    {}
                    if self.run_as is None
                    else {"user": self.run_as[0], "group": self.run_as[1], "extra_groups": []}
                ),
            )
        finally:
            handle.close()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def kill_hard(self) -> None:
        """SIGKILL the whole process group (a crash: no cleanup runs) and reap the leader."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=STOP_TIMEOUT)

    def terminate_leader(self, timeout: float = 60.0) -> None:
        """SIGTERM the leader only (as ``docker stop`` does), wait for it, then SIGKILL leftovers."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the group, then SIGKILL it if the leader has not exited within ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (workers, children) goes too.
        self.signal_group(signal.SIGKILL)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def group_members(self) -> list[int]:
        """PIDs still in this service's process group (from /proc; empty if none)."""
        if self.process is None:
            return []
        pgid = self.process.pid
        members = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ... ; comm may contain spaces, so split after ")".
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) > 2 and int(fields[2]) == pgid:
                members.append(int(entry.name))
        return members


# -- the emulator ------------------------------------------------------------------------------


class EmulatorControl:
    """An emulator process (the Apify one unless told otherwise) and its ``/_emulator/`` control
    endpoints."""

    BANNER = re.compile(r"base_url=(\S+)")
    #: ``airflow_provider_tasks.testing.<module>`` is run with ``-m``; its log is ``<name>.log``.
    module = "apify_emulator"
    name = "emulator"

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.service = Service(
            self.name,
            [
                sys.executable,
                "-u",
                "-m",
                f"airflow_provider_tasks.testing.{self.module}",
                "--port",
                "0",
                "--token",
                EMULATOR_TOKEN,
            ],
            home / "proc-logs" / f"{self.name}.log",
        )
        self.home = home
        self.env = env
        self.base_url = ""
        self.token = EMULATOR_TOKEN
        self.http = requests.Session()

    def start(self, timeout: float = 60.0) -> None:
        self.service.start(self.env, self.home)

        def banner() -> str | None:
            if not self.service.alive():
                raise RuntimeError(f"emulator exited:\n{tail(self.service.log_path)}")
            match = self.BANNER.search(self.service.log_path.read_text(errors="replace"))
            return match.group(1) if match else None

        self.base_url = wait_for(banner, timeout=timeout, interval=0.2, what="the emulator's base_url banner")

    def _get(self, path: str) -> Any:
        response = self.http.get(self.base_url + path, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def _post(self, path: str, body: Any = None) -> Any:
        response = self.http.post(self.base_url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def add_task(self, name: str, *, duration_secs: float, item_count: int = 3, **extra: Any) -> dict[str, Any]:
        """Create task ``demo~<name>``; returns its JSON (``id`` is what runs carry as actorTaskId)."""
        return self._post(
            "/_emulator/tasks",
            {"name": name, "duration_secs": duration_secs, "outcome": "SUCCEEDED", "item_count": item_count, **extra},
        )

    def add_actor(self, name: str, *, duration_secs: float, item_count: int = 3, **extra: Any) -> dict[str, Any]:
        """Create Actor ``demo~<name>``; returns its JSON (``id`` is what runs carry as actId)."""
        return self._post(
            "/_emulator/actors",
            {"name": name, "duration_secs": duration_secs, "outcome": "SUCCEEDED", "item_count": item_count, **extra},
        )

    def runs(self) -> list[dict[str, Any]]:
        return self._get("/_emulator/runs")

    def run_input(self, run: dict[str, Any]) -> Any:
        """The run's input, as Apify keeps it: the ``INPUT`` record of its default key-value store."""
        response = self.http.get(
            f"{self.base_url}/v2/key-value-stores/{run['defaultKeyValueStoreId']}/records/INPUT",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def runs_of(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        return [run for run in self.runs() if run.get("actorTaskId") == task["id"]]

    def stats(self) -> dict[str, Any]:
        return self._get("/_emulator/stats")

    def stop(self) -> None:
        self.http.close()
        self.service.stop(timeout=10)


# -- the REST API ------------------------------------------------------------------------------


class AirflowApi:
    """A small client of the Airflow 3 REST API (``/api/v2``) using a JWT from ``/auth/token``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self._token: str | None = None

    # auth
    def token(self) -> str:
        """``POST /auth/token``; with ``simple_auth_manager_all_admins`` any credentials do."""
        response = self.http.post(
            f"{self.base_url}/auth/token", json={"username": "admin", "password": "admin"}, timeout=30
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        if self._token is None:
            self._token = self.token()
        kwargs.setdefault("timeout", 60)
        url = f"{self.base_url}/api/v2{path}"
        response = self.http.request(method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        if response.status_code == 401:  # expired: fetch a new token once
            self._token = self.token()
            response = self.http.request(method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        if response.status_code not in tuple(expect):
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    # health and DAGs
    def health(self) -> dict[str, Any]:
        response = self.http.get(f"{self.base_url}/api/v2/monitor/health", timeout=10)
        response.raise_for_status()
        return response.json()

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        if self._token is None:
            self._token = self.token()
        response = self.http.get(
            f"{self.base_url}/api/v2/dags/{dag_id}", headers={"Authorization": f"Bearer {self._token}"}, timeout=30
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def import_errors(self) -> list[dict[str, Any]]:
        return self.request("GET", "/importErrors")["import_errors"]

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", params={"update_mask": "is_paused"}, json={"is_paused": False})

    # DAG runs and task instances
    def trigger(self, dag_id: str, conf: dict[str, Any], dag_run_id: str | None = None) -> str:
        """Unpause and trigger a run now (``logical_date`` null); returns the DAG run id."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if dag_run_id is not None:
            body["dag_run_id"] = dag_run_id
        run_id = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]
        # Airflow 3.0's API server can answer the POST before its session commits (seen in CI: the
        # next GET said 404), so hand the id back only once the run can be read.
        wait_for(
            lambda: "dag_run_id" in self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}", expect=(200, 404)),
            timeout=30,
            interval=0.2,
            what=f"DAG run {run_id} to be readable after it was triggered",
        )
        return run_id

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return {ti["task_id"]: ti for ti in data["task_instances"]}

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {task_id: ti["state"] for task_id, ti in self.task_instances(dag_id, run_id).items()}

    def mark_task(self, dag_id: str, run_id: str, task_id: str, state: str) -> Any:
        """``PATCH .../taskInstances/{task_id}`` with ``new_state`` (what "Mark failed" does)."""
        return self.request(
            "PATCH",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
            params={"update_mask": "new_state"},
            json={"new_state": state},
        )

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        return data["value"]

    def pool(self, name: str = "default_pool") -> dict[str, Any]:
        return self.request("GET", f"/pools/{name}")

    # waiting
    def wait_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: str | Iterable[str], *, timeout: float
    ) -> dict[str, Any]:
        wanted = {states} if isinstance(states, str) else set(states)
        seen: list[Any] = []

        def probe() -> dict[str, Any] | None:
            ti = self.task_instances(dag_id, run_id).get(task_id)
            state = ti and ti["state"]
            if not seen or seen[-1] != state:
                seen.append(state)
            return ti if state in wanted else None

        return wait_for(
            probe,
            timeout=timeout,
            interval=1.0,
            what=f"{dag_id}/{run_id}/{task_id} to be {sorted(wanted)}",
            describe=lambda: f"states seen: {seen}",
        )

    def wait_dag_run_state(
        self, dag_id: str, run_id: str, states: str | Iterable[str] = ("success", "failed"), *, timeout: float
    ) -> dict[str, Any]:
        wanted = {states} if isinstance(states, str) else set(states)
        last: dict[str, Any] = {}

        def probe() -> dict[str, Any] | None:
            last["run"] = run = self.dag_run(dag_id, run_id)
            return run if run["state"] in wanted else None

        return wait_for(
            probe,
            timeout=timeout,
            interval=2.0,
            what=f"DAG run {dag_id}/{run_id} to be {sorted(wanted)}",
            describe=lambda: f"last: {last.get('run', {}).get('state')}, tasks: {self.task_states(dag_id, run_id)}",
        )


# -- the cluster -------------------------------------------------------------------------------


@dataclass
class AirflowCluster:
    """Temporary Airflow home + emulator + the four Airflow services; see the module docstring.

    A deployment of another shape (tests/topology: PostgreSQL, Celery, several schedulers and
    triggerers) is a subclass that changes the class attributes below and the hooks
    :meth:`config`, :meth:`start_backing` / :meth:`stop_backing`, :meth:`service_env` and
    :meth:`_argv`. A kind of service with a count above 1 runs as instances ``<kind>-1``,
    ``<kind>-2``...; with a count of 1 the instance is named after its kind.
    """

    home: Path
    api_port: int = field(default_factory=free_port)
    services: dict[str, Service] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    emulator: EmulatorControl | None = None
    api: AirflowApi | None = None

    #: kinds of service, in start order, and how many of each
    SERVICE_COUNTS: ClassVar[dict[str, int]] = dict.fromkeys(SERVICES, 1)
    #: kinds of service in stop order: the producers of work first, the API server last
    STOP_ORDER: ClassVar[tuple[str, ...]] = ("scheduler", "triggerer", "dag-processor", "api-server")
    #: folders whose ``*.py`` files go into the DAGs folder, and the DAGs to wait for and unpause
    DAG_SOURCES: ClassVar[tuple[Path, ...]] = (
        DAG_FILES,
        WATCHER_DAG_FILES,
        REPO / "example_dags" / "example_asset_pair.py",
    )
    DAG_IDS: ClassVar[tuple[str, ...]] = TEST_DAG_IDS
    HOME_PREFIX: ClassVar[str] = "airflow-it-"

    @classmethod
    def create(cls) -> AirflowCluster:
        home = Path(tempfile.mkdtemp(prefix=cls.HOME_PREFIX))
        return cls(home=home)

    def service_names(self) -> list[str]:
        """Every service instance's name, in start order."""
        names = []
        for kind, count in self.SERVICE_COUNTS.items():
            names += [kind] if count == 1 else [f"{kind}-{i}" for i in range(1, count + 1)]
        return names

    @staticmethod
    def kind_of(name: str) -> str:
        """``triggerer-2`` -> ``triggerer``; ``dag-processor`` -> ``dag-processor``."""
        kind, _, number = name.rpartition("-")
        return kind if kind and number.isdigit() else name

    def services_of(self, kind: str) -> dict[str, Service]:
        return {name: service for name, service in self.services.items() if self.kind_of(name) == kind}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dags_folder(self) -> Path:
        return self.home / "dags"

    # configuration
    def config(self) -> dict[str, str]:
        """Every Airflow setting of the cluster (environment variables, no airflow.cfg edits)."""
        return {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "APIFY_WATCH_POLL_SECONDS": "2",  # example_asset_pair's watcher: look every 2 s, not 60
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # 2 cores: a few worker slots. A deferrable task holds one only for its start request,
            # then releases it while deferred.
            "AIRFLOW__CORE__PARALLELISM": "6",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "32",
            "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "32",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            # Scheduling latency: the defaults are already 1 s idle sleep / 5 s heartbeats.
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",  # asset-scheduled consumers; no other DAG has a schedule
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__MAX_DAGRUNS_TO_CREATE_PER_LOOP": "25",
            "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "25",
            "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "32",
            "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "5",
            # Triggerer: heartbeat often, and let a restarted triggerer adopt the triggers of a
            # dead one after 15 s without a heartbeat instead of 30 s.
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
            "AIRFLOW__TRIGGERER__CAPACITY": "100",
            # DAG processor: the DAG files are in place before it starts and never change.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "600",
            # Log servers on free ports: other Airflows may run on this machine.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(self.config())
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return env

    # lifecycle
    def start(self) -> None:
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        for folder in self.DAG_SOURCES:
            for source in folder.glob("*.py") if folder.is_dir() else [folder]:
                shutil.copy(source, self.dags_folder / source.name)
        self.start_backing()
        self.env = self._environment()
        self.start_emulators()
        self.migrate()
        for name in self.service_names():
            self.start_service(name)
        self.api = AirflowApi(self.base_url)
        self.wait_ready()

    def start_backing(self) -> None:
        """Start what Airflow's configuration points at (databases, brokers) before it is built;
        nothing for SQLite."""

    def stop_backing(self) -> None:
        """Stop what :meth:`start_backing` started."""

    def start_emulators(self) -> None:
        self.emulator = EmulatorControl(self.home, self.env)
        self.emulator.start()
        self.env["AIRFLOW_CONN_APIFY_DEFAULT"] = emulator_connection("apify", self.emulator)

    def stop_emulators(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()

    def migrate(self) -> None:
        migrate_log = self.home / "proc-logs" / "db-migrate.log"
        migrate_log.parent.mkdir(parents=True, exist_ok=True)
        with open(migrate_log, "wb") as handle:
            result = subprocess.run(
                [AIRFLOW_BIN, "db", "migrate"],
                env=self.env,
                cwd=self.home,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT,
            )
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{tail(migrate_log)}")

    def _argv(self, name: str) -> list[str]:
        kind = self.kind_of(name)
        if kind == "api-server":
            return [AIRFLOW_BIN, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"]
        if kind == "triggerer":
            return [AIRFLOW_BIN, "triggerer", "--skip-serve-logs"]
        return [AIRFLOW_BIN, kind]

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of one service instance (the cluster's, unless a subclass adds to it)."""
        return self.env

    def start_service(self, name: str) -> Service:
        count = self.restarts.get(name, 0)
        suffix = "" if count == 0 else f".{count}"
        service = Service(name, self._argv(name), self.home / "proc-logs" / f"{name}{suffix}.log")
        service.start(self.service_env(name), self.home)
        self.services[name] = service
        self.restarts[name] = count + 1
        return service

    def check_alive(self) -> None:
        for name, service in self.services.items():
            if not service.alive():
                raise RuntimeError(
                    f"airflow {name} exited with {service.process.returncode}:\n{tail(service.log_path)}"
                )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """API answers, scheduler/triggerer/dag-processor report healthy, test DAGs are parsed."""
        assert self.api is not None
        api = self.api

        def healthy() -> bool:
            self.check_alive()
            health = api.health()
            return all(
                (health.get(component) or {}).get("status") == "healthy"
                for component in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            )

        wait_for(
            healthy,
            timeout=timeout,
            what="the API server and healthy scheduler, triggerer and dag-processor",
            describe=lambda: self._safe(api.health),
        )

        def parsed() -> bool:
            self.check_alive()
            return all(api.dag(dag_id) is not None for dag_id in self.DAG_IDS)

        wait_for(
            parsed,
            timeout=timeout,
            interval=2.0,
            what=f"DAGs {self.DAG_IDS} to be parsed",
            describe=lambda: f"import errors: {self._safe(api.import_errors)}",
        )
        for dag_id in self.DAG_IDS:
            api.unpause(dag_id)

    def wait_triggerer_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        assert self.api is not None
        api = self.api

        def healthy() -> bool:
            self.check_alive()
            return (api.health().get("triggerer") or {}).get("status") == "healthy"

        wait_for(healthy, timeout=timeout, what="a healthy triggerer", describe=lambda: self._safe(api.health))

    @staticmethod
    def _safe(call: Callable[[], Any]) -> str:
        try:
            return repr(call())
        except Exception as error:  # for failure messages only
            return f"<{error!r}>"

    def stop(self) -> None:
        # Stop the producers of work first; the API server last (workers report to it).
        for kind in self.STOP_ORDER:
            for service in self.services_of(kind).values():
                service.stop()
        self.stop_emulators()
        if self.api is not None:
            self.api.http.close()
        self.stop_backing()

    # diagnostics
    def process_logs(self) -> list[Path]:
        return sorted((self.home / "proc-logs").glob("*.log"))

    def task_logs(self, since: float = 0.0) -> list[Path]:
        logs = self.home / "logs"
        if not logs.exists():
            return []
        return sorted(p for p in logs.rglob("*.log") if p.stat().st_mtime >= since)

    def diagnostics(self, since: float = 0.0, lines: int = 60) -> str:
        parts = [f"AIRFLOW_HOME={self.home}"]
        for path in self.process_logs():
            parts.append(f"----- {path.name} (last {lines} lines) -----\n{tail(path, lines)}")
        for path in self.task_logs(since):
            parts.append(f"----- task log {path.relative_to(self.home)} -----\n{tail(path, lines)}")
        return "\n".join(parts)


def emulator_connection(conn_type: str, emulator: EmulatorControl) -> str:
    """The JSON of an ``AIRFLOW_CONN_<TYPE>_DEFAULT`` pointing at an emulator process."""
    return json.dumps({"conn_type": conn_type, "password": emulator.token, "host": emulator.base_url})


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies (Linux), so a killed
    pytest does not leave an Airflow running. Best effort; harmless elsewhere."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
