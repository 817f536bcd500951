"""A production-shaped Airflow on this machine: PostgreSQL, CeleryExecutor on Redis, two Celery
workers, two schedulers, two triggerers, a dag-processor, an api-server and both emulators.

:class:`TopologyCluster` is the integration suite's :class:`~tests.integration.harness.AirflowCluster`
with other service counts and two backing services started first: a throwaway PostgreSQL cluster
(``initdb`` into the temporary home, ``postgres`` on a free port, its unix socket in the home too;
as an unprivileged user when the tests run as root, since PostgreSQL refuses root) and a
``redis-server`` on a free port without persistence. Each runs in its own process group like
Airflow's services and is killed with them.

Every service instance sets ``AIRFLOW_TOPOLOGY_SERVICE`` to its name, and
``[core] hostname_callable`` returns it: the hostname Airflow records for a job or a task
instance (``triggerer-2``, ``celery-worker-1``) then says which process holds it.

:class:`MemorySampler` samples each service's memory (its process group summed) in the background
for the closing measurements; it never synchronises anything.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tests.integration.harness import (
    AIRFLOW_BIN,
    DAG_FILES,
    TEST_DAG_IDS,
    AirflowCluster,
    EmulatorControl,
    Service,
    emulator_connection,
    free_port,
    tail,
    wait_for,
)

HERE = Path(__file__).resolve().parent
TOPOLOGY_DAG_FILES = HERE / "dag_files"
TOPOLOGY_DAG_IDS = ("topo_apify_fanout", "topo_lobstr_fanout", "topo_blocking")

#: Celery worker processes per worker (each running task is that process plus its task process).
WORKER_CONCURRENCY = 4
#: Seconds without a triggerer heartbeat before another triggerer adopts its triggers.
TRIGGERER_HEARTBEAT_TIMEOUT = 15
#: Seconds without a task heartbeat before the scheduler fails the try (a lost worker).
TASK_HEARTBEAT_TIMEOUT = 20

PYTHON_PACKAGES = {
    "airflow.providers.celery": "apache-airflow-providers-celery",
    "celery": "celery",
    "redis": "redis",
    "psycopg2": "psycopg2-binary",
    "asyncpg": "asyncpg",
}
INSTALL_HINT = (
    "install Debian's postgresql and redis-server (apt-get install postgresql redis-server) and the "
    "topology extra (uv pip install -e '.[topology]' -c constraints/airflow-3.3.txt)"
)

HOSTNAME_MODULE = '''"""[core] hostname_callable of the topology suite: the service instance's name."""
import os
import socket


def hostname():
    return os.environ.get("AIRFLOW_TOPOLOGY_SERVICE") or socket.getfqdn()
'''


# -- what the deployment needs -----------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: ``$PG_BIN``, ``PATH``, or Debian's
    ``/usr/lib/postgresql/<newest>/bin``."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.replace(".", "").isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: float(p.name), reverse=True)]
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return folder
    return None


def unprivileged_user() -> tuple[int, int] | None:
    """(uid, gid) of ``nobody`` when running as root (PostgreSQL will not), else None."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def missing_requirements() -> list[str]:
    """What this machine lacks for the topology suite (empty when nothing)."""
    missing = []
    if postgres_bin() is None:
        missing.append("PostgreSQL's initdb/postgres (Debian: postgresql)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server (Debian: redis-server)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            missing.append("a 'nobody' user to run PostgreSQL as (it refuses root)")
    packages = [package for module, package in PYTHON_PACKAGES.items() if not _importable(module)]
    if packages:
        missing.append(f"the topology extra's {', '.join(packages)}")
    return missing


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# -- backing services --------------------------------------------------------------------------


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster under ``folder`` with trust auth for user ``airflow``."""

    folder: Path
    logs: Path
    port: int = field(default_factory=free_port)
    service: Service | None = None
    user = "airflow"
    database = "airflow"

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def celery_result_backend(self) -> str:
        return f"db+postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def connect(self, database: str | None = None) -> Any:
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=database or self.database, connect_timeout=5
        )

    def start(self, timeout: float = 120.0) -> None:
        bin_dir = postgres_bin()
        assert bin_dir is not None, INSTALL_HINT
        run_as = unprivileged_user()
        data, sockets = self.folder / "data", self.folder / "sockets"
        sockets.mkdir(parents=True)
        if run_as is not None:
            for path in (self.folder, sockets):
                os.chown(path, *run_as)
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C", "LC_ALL": "C"}
        log = self.logs / "initdb.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as handle:
            result = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", self.user,
                 "--auth=trust", "-E", "UTF8", "--no-locale"],
                cwd=self.folder,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                **({} if run_as is None else {"user": run_as[0], "group": run_as[1], "extra_groups": []}),
            )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{tail(log)}")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockets),
            "max_connections": "300",
            "shared_buffers": "64MB",
            # throwaway: durability is not wanted, speed is
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        argv = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self.service = Service("postgres", argv, self.logs / "postgres.log", run_as=run_as)
        self.service.start(env, self.folder)

        def ready() -> bool:
            if not self.service.alive():
                raise RuntimeError(f"postgres exited:\n{tail(self.service.log_path)}")
            try:
                self.connect("postgres").close()
            except Exception:
                return False
            return True

        wait_for(ready, timeout=timeout, interval=0.3, what="PostgreSQL to accept connections")
        connection = self.connect("postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {self.database}")
        finally:
            connection.close()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


@dataclass
class Redis:
    """A ``redis-server`` on a free port of 127.0.0.1, nothing saved."""

    folder: Path
    logs: Path
    port: int = field(default_factory=free_port)
    service: Service | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 60.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--daemonize", "no",
        ]  # fmt: skip
        self.service = Service("redis", argv, self.logs / "redis.log")
        self.service.start({"PATH": os.environ.get("PATH", "")}, self.folder)

        def ready() -> bool:
            if not self.service.alive():
                raise RuntimeError(f"redis-server exited:\n{tail(self.service.log_path)}")
            import redis

            try:
                return bool(redis.Redis(port=self.port, socket_timeout=2).ping())
            except redis.RedisError:
                return False

        wait_for(ready, timeout=timeout, interval=0.3, what="redis-server to answer PING")

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


# -- the Lobstr.io emulator --------------------------------------------------------------------


class LobstrControl(EmulatorControl):
    """The Lobstr.io emulator process and its ``/_emulator/`` endpoints."""

    module = "lobstr_emulator"
    name = "lobstr-emulator"

    def add_squid(self, name: str, *, duration_secs: float, **extra: Any) -> dict[str, Any]:
        """Create squid ``name`` with one task whose runs take ``duration_secs``; returns its JSON
        (``id`` is the hash the operator takes)."""
        return self._post(
            "/_emulator/squids", {"name": name, "duration_secs": duration_secs, "task_count": 1, **extra}
        )

    def runs(self, squid: str | None = None) -> list[dict[str, Any]]:
        return self._get("/_emulator/runs" + (f"?squid={squid}" if squid else ""))


# -- the cluster -------------------------------------------------------------------------------


@dataclass
class TopologyCluster(AirflowCluster):
    """PostgreSQL + Redis + both emulators + api-server, 2 schedulers, dag-processor,
    2 triggerers and 2 Celery workers (see the module docstring)."""

    postgres: Postgres | None = None
    redis: Redis | None = None
    lobstr: LobstrControl | None = None

    SERVICE_COUNTS: ClassVar[dict[str, int]] = {
        "api-server": 1,
        "scheduler": 2,
        "dag-processor": 1,
        "triggerer": 2,
        "celery-worker": 2,
    }
    STOP_ORDER: ClassVar[tuple[str, ...]] = ("scheduler", "triggerer", "celery-worker", "dag-processor", "api-server")
    DAG_SOURCES: ClassVar[tuple[Path, ...]] = (DAG_FILES, TOPOLOGY_DAG_FILES)
    DAG_IDS: ClassVar[tuple[str, ...]] = TEST_DAG_IDS + TOPOLOGY_DAG_IDS
    HOME_PREFIX: ClassVar[str] = "airflow-topology-"

    def config(self) -> dict[str, str]:
        assert self.postgres is not None and self.redis is not None
        slots = WORKER_CONCURRENCY * self.SERVICE_COUNTS["celery-worker"]
        return {
            **super().config(),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.sqlalchemy_url,
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": self.postgres.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
            # each scheduler's executor sends up to this many; more would only wait in Redis
            "AIRFLOW__CORE__PARALLELISM": str(slots),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "500",
            "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "64",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "1800",
            # a lost worker: its try fails after this long without a heartbeat, and is retried
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEARTBEAT_TIMEOUT),
            "AIRFLOW__TRIGGERER__CAPACITY": "500",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "topology_hostname.hostname",
            "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000",
        }

    def service_env(self, name: str) -> dict[str, str]:
        python_path = [str(self.home / "pythonpath"), *filter(None, [self.env.get("PYTHONPATH")])]
        return {**self.env, "AIRFLOW_TOPOLOGY_SERVICE": name, "PYTHONPATH": os.pathsep.join(python_path)}

    def _argv(self, name: str) -> list[str]:
        if self.kind_of(name) == "celery-worker":
            return [
                AIRFLOW_BIN, "celery", "worker",
                "--celery-hostname", f"{name}@localhost",
                "--concurrency", str(WORKER_CONCURRENCY),
                "--skip-serve-logs", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
        if self.kind_of(name) == "scheduler":
            return [AIRFLOW_BIN, "scheduler", "--skip-serve-logs"]
        return super()._argv(name)

    # lifecycle
    def start_backing(self) -> None:
        logs = self.home / "proc-logs"
        if unprivileged_user() is not None:
            self.home.chmod(0o711)  # PostgreSQL's user must reach its folder under the home
        self.postgres = Postgres(self.home / "postgres", logs)
        self.postgres.start()
        self.redis = Redis(self.home / "redis", logs)
        self.redis.start()
        (self.home / "pythonpath").mkdir()
        (self.home / "pythonpath" / "topology_hostname.py").write_text(HOSTNAME_MODULE)

    def stop_backing(self) -> None:
        for backing in (self.redis, self.postgres):
            if backing is not None:
                backing.stop()

    def start_emulators(self) -> None:
        super().start_emulators()
        self.lobstr = LobstrControl(self.home, self.env)
        self.lobstr.start()
        self.env["AIRFLOW_CONN_LOBSTR_DEFAULT"] = emulator_connection("lobstr", self.lobstr)

    def stop_emulators(self) -> None:
        super().stop_emulators()
        if self.lobstr is not None:
            self.lobstr.stop()

    def wait_ready(self, timeout: float = 300.0) -> None:
        """As the base class, and every scheduler and triggerer has a live job, every Celery
        worker is ready."""
        super().wait_ready(timeout)
        assert self.api is not None
        for job_type, kind in (("SchedulerJob", "scheduler"), ("TriggererJob", "triggerer")):
            wanted = set(self.services_of(kind))
            wait_for(
                lambda job_type=job_type, wanted=wanted: wanted <= set(self.live_jobs(job_type).values()),
                timeout=timeout,
                what=f"live {job_type}s of {sorted(wanted)}",
                describe=lambda job_type=job_type: repr(self.live_jobs(job_type)),
            )
        for name in self.services_of("celery-worker"):
            self.wait_worker_ready(name, timeout)

    def wait_worker_ready(self, name: str, timeout: float = 300.0) -> None:
        service = self.services[name]
        pattern = re.compile(rf"{re.escape(name)}@localhost ready")

        def ready() -> bool:
            self.check_alive()
            return bool(pattern.search(service.log_path.read_text(errors="replace")))

        wait_for(ready, timeout=timeout, what=f"Celery worker {name} to be ready")

    def live_jobs(self, job_type: str) -> dict[int, str]:
        """``{job id: hostname}`` of the live jobs of a type (``TriggererJob``...): the hostname
        is the service instance's name."""
        assert self.api is not None
        data = self.api.request("GET", "/jobs", params={"job_type": job_type, "is_alive": True, "limit": 100})
        return {job["id"]: job["hostname"] for job in data["jobs"]}

    def all_jobs(self, job_type: str) -> dict[int, str]:
        assert self.api is not None
        data = self.api.request("GET", "/jobs", params={"job_type": job_type, "limit": 100})
        return {job["id"]: job["hostname"] for job in data["jobs"]}

    def all_services(self) -> dict[str, Service]:
        """Every process group of the deployment by name, Airflow's and the others."""
        groups = dict(self.services)
        for extra in (self.postgres, self.redis, self.emulator, self.lobstr):
            if extra is not None and extra.service is not None:
                groups[extra.service.name] = extra.service
        return groups


# -- memory ------------------------------------------------------------------------------------


class MemorySampler:
    """Every ``interval`` seconds, each service's memory: VmRSS summed over its process tree (its
    group and descendants; counts pages shared by forked processes once per process) and, at the
    end, PSS (which divides shared pages between their processes)."""

    def __init__(self, groups: Any, interval: float = 3.0) -> None:
        self.groups = groups  # () -> {name: Service}
        self.interval = interval
        self.peak_rss: dict[str, int] = {}
        self.last_rss: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> dict[str, int]:
        table = process_table()
        rss = {}
        for name, service in self.groups().items():
            if service.pid is None or not service.alive():
                continue
            rss[name] = sum(_kib(pid, "status", "VmRSS:") for pid in process_tree(service, table))
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss[name])
        self.last_rss.update(rss)
        return rss

    def pss_now(self) -> dict[str, int]:
        table = process_table()
        return {
            name: sum(_kib(pid, "smaps_rollup", "Pss:") for pid in process_tree(service, table))
            for name, service in self.groups().items()
            if service.pid is not None and service.alive()
        }


def process_table() -> dict[int, tuple[int, int]]:
    """``{pid: (parent pid, process group id)}`` from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2:
            table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def process_tree(service: Service, table: dict[int, tuple[int, int]] | None = None) -> set[int]:
    """The service's process group and every descendant of it, also those in groups of their own
    (Airflow's task processes: the supervisor puts each task in a new group)."""
    if service.pid is None:
        return set()
    table = process_table() if table is None else table
    tree = {pid for pid, (_, pgid) in table.items() if pgid == service.pid}
    grew = True
    while grew:
        children = {pid for pid, (ppid, _) in table.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def kill_tree(service: Service) -> set[int]:
    """SIGKILL a service's whole process tree at once (a crash of its machine: no cleanup runs,
    and no task process survives its worker) and reap its leader; returns the pids killed."""
    tree = process_tree(service)
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    service.kill_hard()
    return tree


def _kib(pid: int, file: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
