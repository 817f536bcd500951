"""From a remote run's end to the next task's start, in the production-shaped deployment.

Starts the topology suite's Airflow (``tests/topology/cluster.py``: PostgreSQL, CeleryExecutor on
Redis with two workers, two schedulers, two triggerers, a dag-processor, an api-server and the
emulators, from Debian's packages on free ports) with one DAG of its own: a deferrable
``ApifyRunTaskOperator`` (``run``) followed by a plain ``@task`` (``next``). For each run duration,
``--runs`` DAG runs are triggered at once, each starting its own emulator task's run, the guards
taking turns from one DAG run to the next (so that each guard sees the same load); when every DAG
run has ended the script reads, per DAG run, the remote run's
``finishedAt`` (the emulator's ``GET /_emulator/runs``) and the ``start_date`` of ``next`` (Airflow's
REST API), and prints p50/p95/max of the difference with the load average.

Guards: ``10`` is what the provider does (``FIRE_GUARD_SECONDS``: the trigger holds its event until
10 s after the deferral); ``0`` drops it, for the benchmark only (the DAG file wraps
``deferral.follow_kwargs`` and reads the guard from the DAG run's ``conf``), to show what the
guard costs and whether Airflow's fast-trigger race fails tasks without it (column ``run failed``).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/end_to_next.py                       # 5 s and 120 s runs, guards 10 and 0
    PYTHONPATH=. .venv/bin/python benchmarks/end_to_next.py --scale 0.1 --runs 8  # a quick try (not for the table)

Any Airflow 3 venv with the ``topology`` extra runs it (``<venv>/bin/python``); see
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _common import load_average, parse_iso, percentile, table  # noqa: E402

from tests.topology.cluster import TopologyCluster, missing_requirements  # noqa: E402

DAG_ID = "bench_end_to_next"
DAG_SOURCE = f'''"""Written by benchmarks/end_to_next.py: a deferrable run, then the next task."""
import time

import pendulum
from airflow.sdk import DAG, get_current_context, task

from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator
from airflow_provider_tasks.common import deferral

_follow_kwargs = deferral.follow_kwargs


def _follow_kwargs_with_the_runs_guard(hook, deadline, *, poll_interval):
    """The provider's kwargs, with ``fire_not_before`` from ``conf["fire_guard"]`` when given
    (the benchmark's "guard 0" cases; never done outside this benchmark)."""
    kwargs = _follow_kwargs(hook, deadline, poll_interval=poll_interval)
    guard = get_current_context()["dag_run"].conf.get("fire_guard")
    if guard is not None:
        kwargs["fire_not_before"] = time.time() + float(guard) if guard else None
    return kwargs


deferral.follow_kwargs = _follow_kwargs_with_the_runs_guard

with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
         max_active_runs=64, max_active_tasks=64, tags=["benchmark"]):

    @task(task_id="next")
    def next_task():
        return "next"

    ApifyRunTaskOperator(
        task_id="run", actor_task_id="{{{{ dag_run.conf['actor_task'] }}}}", deferrable=True, timeout=1200, retries=0
    ) >> next_task()
'''


class BenchCluster(TopologyCluster):
    """The topology deployment with only this benchmark's DAG."""

    DAG_IDS: ClassVar[tuple[str, ...]] = (DAG_ID,)
    HOME_PREFIX: ClassVar[str] = "airflow-end-to-next-"

    DAG_SOURCES: ClassVar[tuple[Path, ...]] = ()

    def start(self) -> None:
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        (self.dags_folder / f"{DAG_ID}.py").write_text(DAG_SOURCE)
        super().start()


def run_case(cluster: BenchCluster, duration: float, guards: list[float], runs: int) -> list[dict[str, Any]]:
    """``runs`` DAG runs triggered together whose remote runs last ``duration`` s, the guards taking
    turns (run i gets ``guards[i % len(guards)]``: every guard sees the same load); one result per guard."""
    assert cluster.api is not None and cluster.emulator is not None
    api, emulator = cluster.api, cluster.emulator
    uid = uuid.uuid4().hex[:6]
    tasks = [emulator.add_task(f"e2n-{uid}-{i:02d}", duration_secs=duration, item_count=1) for i in range(runs)]
    given = [guards[i % len(guards)] for i in range(runs)]
    started = time.monotonic()
    dag_runs = [
        api.trigger(DAG_ID, {"actor_task": f"demo~{t['name']}", "fire_guard": g})
        for t, g in zip(tasks, given, strict=True)
    ]
    for run_id in dag_runs:
        api.wait_dag_run_state(DAG_ID, run_id, timeout=duration + 900)
    wall = time.monotonic() - started
    load = load_average()
    every_run = emulator.runs()
    results = {
        g: {"duration": duration, "guard": g, "runs": 0, "wall": wall, "load": load, "failed": 0, "missing": 0,
            "latencies": [], "resumed": [], "heard": []}
        for g in guards
    }  # fmt: skip
    for task, run_id, guard in zip(tasks, dag_runs, given, strict=True):
        result = results[guard]
        result["runs"] += 1
        remote = [r for r in every_run if r.get("actorTaskId") == task["id"]]
        tis = api.task_instances(DAG_ID, run_id)
        if tis["run"]["state"] != "success":
            result["failed"] += 1
        if len(remote) != 1 or not remote[0].get("finishedAt") or not tis["next"].get("start_date"):
            result["missing"] += 1
            continue
        finished = parse_iso(remote[0]["finishedAt"])
        result["latencies"].append(parse_iso(tis["next"]["start_date"]) - finished)
        if tis["run"].get("end_date"):
            result["resumed"].append(parse_iso(tis["run"]["end_date"]) - finished)
        if tis["run"].get("scheduled_when"):  # set again when the trigger's event resumed the task
            result["heard"].append(parse_iso(tis["run"]["scheduled_when"]) - finished)
    return list(results.values())


def print_results(results: list[dict[str, Any]], airflow_version: str, scale: float) -> None:
    print()
    print(
        f"## Run end to next task start (Airflow {airflow_version}, topology deployment"
        + (f", durations x{scale:g}: NOT the reported table" if scale != 1 else "")
        + ")"
    )
    print()
    headers = [
        "run s",
        "guard s",
        "DAG runs",
        "run failed",
        "end -> event p50 / p95 s",
        "end -> run task done p50 / p95 s",
        "end -> next start p50 s",
        "p95 s",
        "max s",
        "wall s",
        "load avg 1/5/15",
    ]
    rows = []
    for r in results:
        lat, res, heard = r["latencies"], r["resumed"], r["heard"]
        rows.append(
            [
                r["duration"],
                r["guard"],
                r["runs"],
                f"{r['failed']}" + (f" ({r['missing']} unread)" if r["missing"] else ""),
                f"{percentile(heard, 50):.1f} / {percentile(heard, 95):.1f}",
                f"{percentile(res, 50):.1f} / {percentile(res, 95):.1f}",
                percentile(lat, 50),
                percentile(lat, 95),
                max(lat) if lat else float("nan"),
                r["wall"],
                r["load"],
            ]
        )
    print(table(headers, rows))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--runs", type=int, default=24, help="DAG runs per duration, triggered at once, split between the guards (24)"
    )
    parser.add_argument("--durations", default="5,120", help="remote run durations in s (default 5,120)")
    parser.add_argument("--guards", default="10,0", help="fire guards in s: 10 the provider's, 0 none (default 10,0)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the durations (a quick try only)")
    parser.add_argument("--keep-home", action="store_true", help="keep the Airflow home (logs, database)")
    args = parser.parse_args(argv)
    missing = missing_requirements()
    if missing:
        print(f"cannot run: this machine lacks {', '.join(missing)}")
        return 2
    import airflow

    durations = [float(d) * args.scale for d in args.durations.split(",")]
    guards = [float(g) for g in args.guards.split(",")]
    print(
        f"# end_to_next: Airflow {airflow.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{args.runs} DAG runs per duration, durations {durations}, guards {guards}",
        flush=True,
    )
    t0 = time.time()
    cluster = BenchCluster.create()
    results = []
    try:
        cluster.start()
        print(f"# Airflow up in {time.time() - t0:.0f} s, home {cluster.home}", flush=True)
        run_case(cluster, 1.0, [10.0], 2)  # workers import the provider once; not reported
        for duration in durations:
            print(f"# {duration:g} s runs, guards {guards} taking turns ...", flush=True)
            for result in run_case(cluster, duration, guards, args.runs):
                lat = result["latencies"]
                print(
                    f"#   guard {result['guard']:g} s: p50 {percentile(lat, 50):.1f} s, "
                    f"p95 {percentile(lat, 95):.1f} s, "
                    f"failed {result['failed']}, wall {result['wall']:.0f} s, load {result['load']}",
                    flush=True,
                )
                results.append(result)
    finally:
        cluster.stop()
        if args.keep_home:
            print(f"# kept {cluster.home}")
        else:
            import shutil

            shutil.rmtree(cluster.home, ignore_errors=True)
    print_results(results, airflow.__version__, args.scale)
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
