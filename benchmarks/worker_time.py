"""Worker time of a deferrable start: what ``ApifyRunTaskOperator.execute`` costs up to ``TaskDeferred``.

The emulator runs in its own process (``--tls`` serves HTTPS with a throwaway CA that the
connection's ``verify`` extra trusts). A fresh *worker process* (Airflow and the provider imported,
``AIRFLOW_CONN_APIFY_DEFAULT`` in its environment) then runs N deferrable starts, ``--concurrency``
at a time in threads (as many worker slots): for each, a new operator's ``execute()`` with a
first-try task instance in its context, up to the ``TaskDeferred`` it raises, then the trigger's
``serialize()`` (what the task runner hands to the supervisor). The runs last longer than the
measurement, so every task defers.

It reports, per task: the wall time of ``execute`` up to the deferral, the part of it spent in the
start request (``ApifyHook.start_run``, timed around the call), the rest ("beyond the start": what
the issue's goal of <= 1 s is about) and the worker process's CPU time. It prints numbers and never
asserts on them; the load average is printed with them.

Usage::

    .venv/bin/python benchmarks/worker_time.py                       # N = 200, 20 at a time, plain HTTP
    .venv/bin/python benchmarks/worker_time.py --tls --n 1000 --concurrency 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPO,
    EmulatorProcess,
    bench_env,
    load_average,
    percentile,
    table,
    wait_for_line,
)

TASK_NAME = "bench-worker"


def worker_main(args: argparse.Namespace) -> int:
    os.environ["AIRFLOW_HOME"] = args.airflow_home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    conn: dict[str, Any] = {"conn_type": "apify", "password": args.token, "host": args.base_url}
    if args.ca_file:
        conn["extra"] = {"verify": args.ca_file}
    os.environ["AIRFLOW_CONN_APIFY_DEFAULT"] = json.dumps(conn)
    logging_quiet()

    from airflow.providers.common.compat.sdk import TaskDeferred

    import airflow_provider_tasks
    from airflow_provider_tasks.apify.hooks import ApifyHook
    from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator

    start_times = threading.local()
    original_start = ApifyHook.start_run

    def timed_start(self: ApifyHook, *a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original_start(self, *a, **kw)
        finally:
            start_times.value = time.perf_counter() - t0

    ApifyHook.start_run = timed_start  # type: ignore[method-assign]

    class TaskInstance:
        def __init__(self, index: int) -> None:
            self.dag_id, self.task_id, self.run_id, self.map_index = "bench", f"run_{index}", "manual__bench", -1
            self.try_number = 1
            self.xcom: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.xcom[key] = value

    class Store(dict):  # Airflow 3.3's task_state_store, as the task runner passes it
        def set(self, key: str, value: Any) -> None:
            self[key] = value

    def one(index: int) -> tuple[float, float, str]:
        op = ApifyRunTaskOperator(task_id=f"run_{index}", actor_task_id=f"demo~{TASK_NAME}", deferrable=True)
        context = {"ti": TaskInstance(index), "task_state_store": Store()}
        start_times.value = float("nan")
        t0 = time.perf_counter()
        try:
            op.execute(context)  # type: ignore[arg-type]
            outcome = "finished"
        except TaskDeferred as deferred:
            deferred.trigger.serialize()
            outcome = "deferred"
        return time.perf_counter() - t0, start_times.value, outcome

    # warm up: first connection lookup and imports, outside the measurement
    warm = one(-1)
    print(f"READY warm-up {warm[0]:.2f} s ({warm[2]}) provider at {os.path.dirname(airflow_provider_tasks.__file__)}",
          flush=True)  # fmt: skip
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(one, range(args.n)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    Path(args.out).write_text(json.dumps({
        "wall_s": wall, "cpu_s": cpu, "results": results, "provider": os.path.dirname(airflow_provider_tasks.__file__),
    }))  # fmt: skip
    return 0


def logging_quiet() -> None:
    import logging

    logging.getLogger("airflow").setLevel(logging.WARNING)
    logging.getLogger("airflow_provider_tasks").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="deferrable starts (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="starts at a time, one thread each (default 20)")
    parser.add_argument("--tls", action="store_true", help="the emulator serves HTTPS; the connection trusts its CA")
    parser.add_argument("--run-secs", type=float, default=600.0, help="how long each run lasts (longer than the test)")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--ca-file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--airflow-home", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)

    print(f"# worker-time benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average at start {load_average()}")  # fmt: skip
    home = tempfile.mkdtemp(prefix="bench-airflow-home-")
    out = os.path.join(home, "result.json")
    with EmulatorProcess(tls=args.tls) as emulator:
        emulator.add_task(TASK_NAME, duration_secs=args.run_secs)
        cmd = [
            sys.executable, os.path.abspath(__file__), "--worker", "--base-url", emulator.base_url,
            "--token", emulator.token, "--airflow-home", home, "--out", out,
            "--n", str(args.n), "--concurrency", str(args.concurrency),
        ] + (["--ca-file", emulator.ca_file] if emulator.ca_file else [])  # fmt: skip
        worker = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO, env=bench_env())
        assert worker.stdout is not None
        ready = wait_for_line(worker.stdout, "READY", worker, timeout=300)
        print(f"# {ready}")
        # keep reading its log lines (one or two per task): a full pipe would stall the workers
        drain = threading.Thread(target=lambda: [None for _ in worker.stdout], daemon=True)  # type: ignore[union-attr]
        drain.start()
        if worker.wait() != 0:
            raise RuntimeError(f"worker process failed with exit code {worker.returncode}")
        requests = emulator.stats()["by_route"]
    data = json.loads(Path(out).read_text())
    loadavg = load_average()
    results = data["results"]
    totals = [r[0] for r in results]
    starts = [r[1] for r in results]
    beyond = [t - s for t, s, _ in results]
    outcomes: dict[str, int] = {}
    for _, _, outcome in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    n = len(results)
    print()
    print(f"## Deferrable starts through ApifyRunTaskOperator.execute up to TaskDeferred "
          f"({'HTTPS' if args.tls else 'HTTP'}, {args.concurrency} at a time)")  # fmt: skip
    headers = [
        "N", "wall s", "execute p50 s", "p95 s", "max s", "start request p50 s", "beyond start p50 s", "p95 s",
        "max s", "CPU ms per task", "load avg 1/5/15",
    ]  # fmt: skip
    row = [
        n, data["wall_s"], percentile(totals, 50), percentile(totals, 95), max(totals), percentile(starts, 50),
        percentile(beyond, 50), percentile(beyond, 95), max(beyond), data["cpu_s"] / n * 1000, loadavg,
    ]  # fmt: skip
    print(table(headers, [row]))
    routes = ", ".join(f"{k}: {v:,}" for k, v in sorted(requests.items()))
    print(
        f"\n- outcomes {outcomes}; emulator requests by route (warm-up included): {routes}; "
        f"provider code from {data['provider']}"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"row": row, "outcomes": outcomes, "requests": requests}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
