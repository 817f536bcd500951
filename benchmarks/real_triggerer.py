"""N waiting Apify runs inside a real ``airflow triggerer``: ApifyRunTrigger versus a dbt-Cloud-shaped poller.

Starts a real Airflow 3 with the integration harness (``tests/integration/harness.py``: SQLite,
LocalExecutor, api-server, scheduler, dag-processor, triggerer, the Apify emulator as its own
process), the triggerer's ``[triggerer] capacity`` raised; ``--postgres`` puts its database on a
throwaway PostgreSQL (``tests/topology/cluster.Postgres``) instead of SQLite. For each mode, one after
the other in the same triggerer (``--fresh-triggerer``: a new triggerer process for each mode, the
previous mode's undelivered triggers retired first):

1. the emulator starts N runs that last ``--min-secs``..``--max-secs``;
2. the triggerer's CPU is sampled idle for ``--idle-secs`` (its own loop: DB queries every second);
3. N deferred task instances are inserted the way Airflow's execution API stores a deferral
   (a ``Trigger`` row from the trigger's ``serialize()``, the task instance DEFERRED with its
   ``trigger_id`` and ``next_method``), all mapped instances of one DAG run of a paused DAG whose
   task is a deferrable ``ApifyRunTaskOperator``. The triggerer claims them (``assign_unassigned``,
   at most ``[triggerer] max_trigger_to_select_per_loop`` per loop) and runs them. The DAG stays
   paused so that the scheduler leaves the resumed task instances alone: only the triggerer works.
   A ``Trigger`` row without a task instance would not do: Airflow 3.3 never assigns it and its
   ``clean_unused()`` deletes it on the next loop;
4. once every trigger has sent its first request and ``--settle-secs`` passed, the triggerer's
   process group (supervisor and trigger runner) is sampled from /proc for ``--window-secs``:
   CPU seconds, RSS; the emulator's request counters give requests per minute;
5. the runs end; the script waits for every task instance to leave DEFERRED and counts them.

Modes: ``provider`` (``ApifyRunTrigger`` with the kwargs the operator builds, ``fire_not_before``
None) and ``poller`` (``benchmarks/polling_trigger.FixedIntervalPollTrigger``: a new aiohttp
client per poll, every ``--poll-interval`` seconds, 60 by default as dbt Cloud's
``check_interval``). It prints numbers and never asserts on them. See benchmarks/README.md.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/real_triggerer.py --n 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _common import PYCACHE_PREFIX, load_average, parse_iso, percentile, proc_cpu_seconds, proc_rss_mb, table  # noqa: E402
from triggerer import plan_durations, start_runs  # noqa: E402

from tests.integration.harness import AirflowCluster, EmulatorControl, WaitTimeout, wait_for  # noqa: E402
from tests.topology.cluster import Postgres  # noqa: E402

DAG_ID = "bench_real_triggerer"
TASK_ID = "wait"
DAG_SOURCE = f'''"""Written by benchmarks/real_triggerer.py: the shape of the deferred task instances it inserts."""
import pendulum
from airflow.sdk import DAG

from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator

with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    ApifyRunTaskOperator.partial(task_id="{TASK_ID}", deferrable=True, timeout=3600, retries=0).expand(
        actor_task_id=["demo~bench"]
    )
'''


class TlsEmulatorControl(EmulatorControl):
    """The harness's emulator serving HTTPS with a CA made at start (``--tls``)."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        super().__init__(home, env)
        self.service.argv.append("--tls")
        self.ca_file: str | None = None

    def start(self, timeout: float = 60.0) -> None:
        super().start(timeout)
        match = re.search(r"ca_file=(\S+)", self.service.log_path.read_text(errors="replace"))
        assert match, "the emulator's banner names no CA file"
        self.ca_file = match.group(1)
        self.http.verify = self.ca_file
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE overrides the session's verify


class BenchCluster(AirflowCluster):
    """The integration harness's Airflow with only the benchmark's DAG and a bigger triggerer."""

    DAG_SOURCES: ClassVar[tuple[Path, ...]] = ()
    DAG_IDS: ClassVar[tuple[str, ...]] = (DAG_ID,)
    HOME_PREFIX: ClassVar[str] = "airflow-bench-rt-"
    capacity = 10_000
    tls = False
    select_per_loop: int | None = None
    use_postgres = False
    postgres: Postgres | None = None

    def start_backing(self) -> None:
        if self.use_postgres:
            self.home.chmod(0o711)  # PostgreSQL's unprivileged user must reach its folder under the home
            self.postgres = Postgres(self.home / "postgres", self.home / "proc-logs")
            self.postgres.start()

    def stop_backing(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()

    def restart_triggerer(self) -> None:
        """A new triggerer process (its job heartbeats anew; nothing of the previous one's memory)."""
        self.services["triggerer"].stop()
        self.start_service("triggerer")
        self.wait_triggerer_healthy()

    def start_emulators(self) -> None:
        if not self.tls:
            super().start_emulators()
            return
        emulator = TlsEmulatorControl(self.home, self.env)
        emulator.start()
        self.emulator = emulator
        # the provider trusts the emulator's CA through the connection's ``verify`` extra, as a user would
        self.env["AIRFLOW_CONN_APIFY_DEFAULT"] = json.dumps(
            {
                "conn_type": "apify",
                "password": emulator.token,
                "host": emulator.base_url,
                "extra": {"verify": emulator.ca_file},
            }
        )

    def config(self) -> dict[str, str]:
        config = {**super().config(), "AIRFLOW__TRIGGERER__CAPACITY": str(self.capacity)}
        if self.select_per_loop is not None:
            config["AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP"] = str(self.select_per_loop)
        if self.postgres is not None:
            config["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = self.postgres.sqlalchemy_url
        return config

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as benchmarks/_common.bench_env: cached bytecode
        env["PYTHONPYCACHEPREFIX"] = PYCACHE_PREFIX
        return env

    def service_env(self, name: str) -> dict[str, str]:
        env = super().service_env(name)
        if self.kind_of(name) == "triggerer":  # the poller's module is imported by the triggerer
            env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))}
        return env

    def start(self) -> None:
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        (self.dags_folder / "bench_real_triggerer.py").write_text(DAG_SOURCE)
        super().start()
        assert self.api is not None  # the harness unpaused it; paused, the scheduler leaves its runs alone
        self.api.request("PATCH", f"/dags/{DAG_ID}", params={"update_mask": "is_paused"}, json={"is_paused": True})


# -- the triggerer's process group -------------------------------------------------------------


def group_sample(cluster: BenchCluster) -> tuple[float, float, int]:
    """CPU seconds and RSS MB summed over the triggerer's process group, and its process count."""
    cpu = rss = 0.0
    members = cluster.services["triggerer"].group_members()
    for pid in members:
        try:
            cpu += proc_cpu_seconds(pid)
            rss += proc_rss_mb(pid)
        except OSError:  # exited between the listing and the read
            pass
    return cpu, rss, len(members)


# -- deferred task instances, inserted as Airflow's execution API stores a deferral ------------


def make_trigger(mode: str, run_id: str, args: argparse.Namespace) -> Any:
    if mode == "provider":
        from airflow_provider_tasks.apify.hooks import ApifyHook
        from airflow_provider_tasks.apify.triggers import ApifyRunTrigger
        from airflow_provider_tasks.common.deferral import run_trigger_kwargs
        from airflow_provider_tasks.common.waiting import Deadline

        kwargs = run_trigger_kwargs(
            ApifyHook("apify_default"), run_id, Deadline.after(3600), poll_interval=60.0, cancel_on_kill=True
        )
        kwargs["fire_not_before"] = None  # the fast-trigger guard only holds an event back
        return ApifyRunTrigger(**kwargs)
    from polling_trigger import FixedIntervalPollTrigger

    return FixedIntervalPollTrigger(run_id, "apify_default", args.poll_interval, ca_file=args.ca_file)


def insert_deferred(mode: str, run_ids: list[str], args: argparse.Namespace, tag: str = "") -> str:
    """One DAG run of the paused DAG with N mapped task instances DEFERRED on N new triggers."""
    from datetime import datetime, timedelta, timezone

    from airflow.models.dagrun import DagRun
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag_run_id = f"bench_{mode}{tag}_{int(time.time())}"
    triggers = [Trigger.from_object(make_trigger(mode, rid, args)) for rid in run_ids]
    with create_session() as session:
        serialized = SerializedDagModel.get(DAG_ID, session=session)
        assert serialized is not None, f"{DAG_ID} is not serialized"
        task = serialized.dag.get_task(TASK_ID)
        now = datetime.now(timezone.utc)
        dag_run = DagRun(
            dag_id=DAG_ID,
            run_id=dag_run_id,
            run_after=now,
            start_date=now,
            state=DagRunState.RUNNING,
            run_type=DagRunType.MANUAL,
            triggered_by=DagRunTriggeredByType.TEST,
        )
        dag_run.created_dag_version_id = serialized.dag_version_id
        session.add(dag_run)
        session.add_all(triggers)
        session.flush()
        for index, trigger in enumerate(triggers):
            ti = TaskInstance(task, dag_version_id=serialized.dag_version_id, run_id=dag_run_id, map_index=index)
            ti.state = TaskInstanceState.DEFERRED
            ti.try_number = 1
            ti.start_date = now
            ti.trigger_id = trigger.id
            ti.next_method = "execute_complete"
            ti.trigger_timeout = now + timedelta(seconds=3600 + 300)  # the operator's defer_timeout
            session.add(ti)
    return dag_run_id


def retire(dag_run_id: str) -> int:
    """Skip the DAG run's task instances still deferred and detach their triggers, so that a next
    triggerer does not pick them up: Airflow deletes a trigger no task instance waits on."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        result = session.execute(
            update(TI)
            .where(TI.dag_id == DAG_ID, TI.run_id == dag_run_id, TI.state == "deferred")
            .values(state="skipped", trigger_id=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


def ti_states(dag_run_id: str) -> dict[str, int]:
    """Task instances of the DAG run by state; resumed ones split by what the triggerer sent."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(
            select(TI.state, TI.next_method, func.count())
            .where(TI.dag_id == DAG_ID, TI.run_id == dag_run_id)
            .group_by(TI.state, TI.next_method)
        ).all()
    out: dict[str, int] = {}
    for state, next_method, count in rows:
        key = str(state) if state != "scheduled" else ("failed trigger" if next_method == "__fail__" else "event")
        out[key] = out.get(key, 0) + count
    return out


def event_times(dag_run_id: str) -> dict[int, float]:
    """map_index -> when the triggerer's event resumed the task instance (``scheduled_dttm``)."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TI.map_index, TI.scheduled_dttm).where(
                TI.dag_id == DAG_ID, TI.run_id == dag_run_id, TI.state == "scheduled"
            )
        ).all()
    return {index: when.timestamp() for index, when in rows if when is not None}


def assigned_triggers(dag_run_id: str) -> int:
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(
            select(func.count())
            .select_from(TI)
            .join(Trigger, Trigger.id == TI.trigger_id)
            .where(TI.dag_id == DAG_ID, TI.run_id == dag_run_id, Trigger.triggerer_id.is_not(None))
        )


# -- one mode ----------------------------------------------------------------------------------


def run_gets(stats: dict[str, Any]) -> int:
    return sum(v for k, v in stats["by_route"].items() if "actor-runs" in k and "GET" in k.upper())


def warm_up(cluster: BenchCluster, modes: list[str], args: argparse.Namespace) -> None:
    """One short deferred run per mode, so that the trigger runner has imported every trigger's
    modules (aiohttp, the provider) before any measurement: that one-off cost is no waiting run's."""
    emulator = cluster.emulator
    assert emulator is not None
    task = emulator.add_task("bench-warmup", duration_secs=0.2)["id"]
    for mode in modes:
        run_ids = asyncio.run(start_runs(emulator.base_url, emulator.token, [task], 1, args.ca_file))
        time.sleep(1.0)  # the run has ended: the first look fires, whatever the mode's interval
        dag_run_id = insert_deferred(mode, run_ids, args, tag="_warmup")
        wait_for(
            lambda run=dag_run_id: not ti_states(run).get("deferred", 0),
            timeout=120,
            interval=1.0,
            what=f"the {mode} warm-up trigger to fire",
        )


def measure(cluster: BenchCluster, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    emulator = cluster.emulator
    assert emulator is not None
    n = args.n
    emulator._post("/_emulator/reset")
    durations = plan_durations(n, args.min_secs, args.max_secs, 1.0, args.seed)
    task_of = {d: emulator.add_task(f"bench-{round(d * 10)}", duration_secs=d)["id"] for d in sorted(set(durations))}
    started = time.time()
    run_ids = asyncio.run(
        start_runs(emulator.base_url, emulator.token, [task_of[d] for d in durations], 50, args.ca_file)
    )
    first_end = started + min(durations)

    # idle: the triggerer with no trigger of ours
    cpu_a, rss_before, procs = group_sample(cluster)
    time.sleep(args.idle_secs)
    cpu_b, rss_idle, _ = group_sample(cluster)
    idle_cores = (cpu_b - cpu_a) / args.idle_secs

    stats0 = emulator.stats()
    t_insert = time.time()
    dag_run_id = insert_deferred(mode, run_ids, args)
    insert_s = time.time() - t_insert
    # Triggers that cannot all be claimed and send their first request before the window would
    # reach the first run's end are a result too: the window is measured then with what runs.
    latest_start = first_end - args.window_secs - args.settle_secs
    assigned_s = running_s = math.nan
    try:
        wait_for(
            lambda: assigned_triggers(dag_run_id) >= n,
            timeout=max(1.0, latest_start - time.time()),
            interval=1.0,
            what=f"{n} triggers assigned",
        )
        assigned_s = time.time() - t_insert
        wait_for(
            lambda: run_gets(emulator.stats()) - run_gets(stats0) >= n,
            timeout=max(1.0, latest_start - time.time()),
            interval=1.0,
            what=f"a first request from each of the {n} triggers",
        )
        running_s = time.time() - t_insert
        late = None
    except WaitTimeout as timed_out:
        late = timed_out
    assigned = assigned_triggers(dag_run_id)
    first_gets = run_gets(emulator.stats()) - run_gets(stats0)
    if late is not None:
        print(f"#   not all {n:,} triggers running before the window must start ({late}): "
              f"{assigned:,} assigned, {first_gets:,} run requests so far", flush=True)  # fmt: skip
    time.sleep(args.settle_secs)

    # the waiting window
    stats1, emu_cpu1 = emulator.stats(), proc_cpu_seconds(emulator.service.pid)
    t1 = time.time()
    cpu1, rss1, _ = group_sample(cluster)
    rss_samples = [rss1]
    while time.time() < t1 + args.window_secs:
        time.sleep(min(2.0, max(0.0, t1 + args.window_secs - time.time())))
        rss_samples.append(group_sample(cluster)[1])
    cpu2, rss2, procs_window = group_sample(cluster)
    t2 = time.time()
    stats2, emu_cpu2 = emulator.stats(), proc_cpu_seconds(emulator.service.pid)
    load = load_average()
    window = t2 - t1
    states_window_end = ti_states(dag_run_id)

    # the runs end: every task instance should leave DEFERRED
    deadline = started + max(durations) + args.poll_interval + 120
    while time.time() < deadline and ti_states(dag_run_id).get("deferred", 0):
        time.sleep(2.0)
    states = ti_states(dag_run_id)
    retired = retire(dag_run_id)
    finished = {run["id"]: run.get("finishedAt") for run in emulator.runs()}
    latencies = [
        fired - parse_iso(finished[run_ids[index]])
        for index, fired in event_times(dag_run_id).items()
        if finished.get(run_ids[index])
    ]
    requests = stats2["total"] - stats1["total"]
    return {
        "mode": mode,
        "n": n,
        "idle_cores": idle_cores,
        "window_s": window,
        "cpu_s": cpu2 - cpu1,
        "cores": (cpu2 - cpu1) / window,
        "rss_before_mb": rss_before,
        "rss_peak_mb": max([*rss_samples, rss2]),
        "requests": requests,
        "req_per_min": requests * 60 / window,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": max(latencies, default=math.nan),
        "emu_cores": (emu_cpu2 - emu_cpu1) / window,
        "insert_s": insert_s,
        "assigned_s": assigned_s,
        "running_s": running_s,
        "assigned": assigned,
        "first_gets": first_gets,
        "window_ended_before_first_run_end": t2 < first_end,
        "window_states": states_window_end,
        "states": states,
        "retired": retired,
        "procs": f"{procs}/{procs_window}",
        "rss_idle_mb": rss_idle,
        "loadavg": load,
    }


def print_results(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(f"## N waiting runs in a real `airflow triggerer` (runs last {args.min_secs:g}-{args.max_secs:g} s; "
          f"window {args.window_secs:g} s of steady waiting; triggerer process group: "
          "supervisor + trigger runner)")  # fmt: skip
    headers = [
        "mode", "N", "CPU cores (window)", "idle cores (before)", "cores per 1,000 (net of idle)", "RSS before MB",
        "peak RSS MB", "RSS growth MB per 1,000", "requests/min", "req/min per 1,000", "events fired",
        "latency p50 s", "p95 s", "max s",
        "emulator cores", "load avg 1/5/15",
    ]  # fmt: skip
    rows = []
    for r in results:
        per = 1000 / r["n"]
        rows.append([
            r["mode"], r["n"], r["cores"], r["idle_cores"], (r["cores"] - r["idle_cores"]) * per, r["rss_before_mb"],
            r["rss_peak_mb"], (r["rss_peak_mb"] - r["rss_before_mb"]) * per, r["req_per_min"], r["req_per_min"] * per,
            f"{r['states'].get('event', 0):,}/{r['n']:,}", r["p50"], r["p95"], r["max"], r["emu_cores"], r["loadavg"],
        ])  # fmt: skip
    print(table(headers, rows))
    print()
    for r in results:
        print(f"- {r['mode']} N={r['n']:,}: inserted in {r['insert_s']:.1f} s, all assigned after "
              f"{r['assigned_s']:.1f} s, all polling after {r['running_s']:.1f} s (nan: not before the window, "
              f"which then began with {r['assigned']:,} assigned and {r['first_gets']:,} run requests sent); "
              f"window {r['window_s']:.0f} s, "
              f"CPU {r['cpu_s']:.1f} s, {r['requests']:,} requests; window ended before the first run's end: "
              f"{r['window_ended_before_first_run_end']}; task instances at the window's end {r['window_states']}, "
              f"at the end {r['states']} ({r['retired']:,} still deferred retired); "
              f"triggerer processes (before/window) {r['procs']}; "
              f"RSS after the idle sample {r['rss_idle_mb']:.0f} MB")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="waiting runs per mode (default 500)")
    parser.add_argument("--modes", default="provider,poller", help="provider, poller, in this order (default both)")
    parser.add_argument("--min-secs", type=float, default=110.0, help="shortest run (default 110)")
    parser.add_argument("--max-secs", type=float, default=130.0, help="longest run (default 130)")
    parser.add_argument("--idle-secs", type=float, default=20.0, help="idle CPU sample before the triggers")
    parser.add_argument("--settle-secs", type=float, default=10.0, help="wait after every trigger's first request")
    parser.add_argument("--window-secs", type=float, default=60.0, help="the measured waiting window (default 60)")
    parser.add_argument("--poll-interval", type=float, default=60.0, help="the poller's interval (dbt Cloud: 60)")
    parser.add_argument("--capacity", type=int, default=10_000, help="[triggerer] capacity (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-home", action="store_true", help="keep the Airflow home (logs, database)")
    parser.add_argument("--select-per-loop", type=int, default=None,
                        help="[triggerer] max_trigger_to_select_per_loop (Airflow's default: 50), so that "
                             "thousands of triggers are all claimed before the first run ends")  # fmt: skip
    parser.add_argument("--postgres", action="store_true",
                        help="Airflow's database on a throwaway PostgreSQL (Debian's packages) instead of SQLite")
    parser.add_argument("--fresh-triggerer", action="store_true",
                        help="a new triggerer process for each mode after the first (and its warm-up again)")
    parser.add_argument("--tls", action="store_true",
                        help="the emulator serves HTTPS with a throwaway CA, trusted through the connection's "
                             "'verify' extra (the poller gets the CA file: a TLS handshake per poll)")  # fmt: skip
    args = parser.parse_args(argv)
    args.ca_file = None
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    print(f"# real triggerer benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"database {'PostgreSQL' if args.postgres else 'SQLite'}, "
          f"load average at start {load_average()}", flush=True)  # fmt: skip
    BenchCluster.capacity = args.capacity
    BenchCluster.tls = args.tls
    BenchCluster.select_per_loop = args.select_per_loop
    BenchCluster.use_postgres = args.postgres
    cluster = BenchCluster.create()
    results = []
    try:
        t0 = time.time()
        cluster.start()
        print(f"# Airflow up in {time.time() - t0:.0f} s, home {cluster.home}", flush=True)
        os.environ.update(cluster.env)  # this process reads the cluster's database (imports Airflow below)
        args.ca_file = getattr(cluster.emulator, "ca_file", None)
        warm_up(cluster, modes if not args.fresh_triggerer else modes[:1], args)
        for number, mode in enumerate(modes):
            if args.fresh_triggerer and number:
                cluster.restart_triggerer()
                warm_up(cluster, [mode], args)
            print(f"# measuring {mode} N={args.n:,} ...", flush=True)
            r = measure(cluster, mode, args)
            print(f"#   {r['cores']:.3f} cores, RSS {r['rss_before_mb']:.0f} -> {r['rss_peak_mb']:.0f} MB, "
                  f"{r['req_per_min']:.0f} req/min, events {r['states']}, load {r['loadavg']}", flush=True)  # fmt: skip
            results.append(r)
    finally:
        cluster.stop()
        if args.keep_home:
            print(f"# kept {cluster.home}")
        else:
            shutil.rmtree(cluster.home, ignore_errors=True)
    print_results(results, args)
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
