"""Waiting on N Apify runs from one event loop: ApifyRunTrigger versus a dbt-Cloud-style poller.

The emulator (``airflow_provider_tasks.testing.apify_emulator``) runs in its own process. For each
size N and each mode the script

1. resets the emulator and creates tasks whose runs sit READY for ``--ready-secs`` (default
   N/1000 s, so no run ends before its trigger exists) and then run ``--min-secs``..``--max-secs``
   (spread evenly, times ``--scale``), then starts N runs over HTTP (not measured);
2. hands the run ids to a fresh *trigger process* that drives N triggers concurrently in one
   asyncio event loop, as Airflow's triggerer does: each trigger's ``run()`` async generator up to
   its first event;
3. reads CPU and peak RSS of that process, the emulator's request counters (delta over the
   waiting phase) and each run's ``finishedAt``, and prints tables.

Modes:

* ``provider``: :class:`~airflow_provider_tasks.apify.triggers.ApifyRunTrigger` with
  ``fire_not_before=None`` (long-polls ``GET /v2/actor-runs/{id}?waitForFinish=60`` on the shared
  aiohttp session).
* baselines (``--baselines CLIENT:INTERVAL[@MAX_N],...``): the polling shape of the dbt Cloud
  provider's ``DbtCloudRunJobTrigger`` (written here from its description, not copied): connection
  looked up once per trigger, then a new HTTP client for every poll (``aiohttp.ClientSession`` as
  dbt Cloud's hook opens per call, or ``httpx.AsyncClient``), a plain ``GET /v2/actor-runs/{id}``,
  and a fixed sleep between polls (60 s is dbt Cloud's default ``check_interval``).

It prints numbers and never asserts on them. See benchmarks/README.md for the columns.

Usage::

    .venv/bin/python benchmarks/triggerer.py                                  # N = 100, 1,000
    .venv/bin/python benchmarks/triggerer.py --sizes 100,1000,10000 --baselines aiohttp:60,aiohttp:2@1000
    .venv/bin/python benchmarks/triggerer.py --sizes 100 --scale 0.1 --baselines aiohttp:6   # quick
    .venv/bin/python benchmarks/triggerer.py --sizes 1000 --modes provider --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPO,
    TOKEN,
    EmulatorProcess,
    bench_env,
    load_average,
    parse_iso,
    percentile,
    proc_rss_mb,
    raise_open_files_limit,
    self_peak_rss_mb,
    table,
    wait_for_line,
)

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
LONG_POLL_MAX = 60.0  # seconds the Apify API holds one waitForFinish request at most

# Targets of issue 4 at N = 10,000 (printed next to the numbers, never asserted).
TARGET_CPU_CORES = 1.0
TARGET_PEAK_RSS_MB = 300.0
TARGET_P50_S = 1.0
TARGET_REQ_PER_RUN_MIN = 1.1
TARGET_REQ_RATIO = 5.0
# Goals of issue 12 at N = 10,000 over TLS (printed, never asserted).
GOAL_CPU_CORES = 0.15
GOAL_CPU_VS_POLLER = 0.5  # of the 60 s poller's CPU in the same run
GOAL_RSS_GROWTH_MB = 120.0
GOAL_REQ_VS_FLOOR = 1.1
GOAL_P99_S = 0.5
GOAL_LOOP_LAG_S = 0.2


# =============================================================================================
# Trigger process (``--worker``): imports Airflow, drives the triggers, writes a JSON result.
# =============================================================================================


def worker_main(args: argparse.Namespace) -> int:
    os.environ["AIRFLOW_HOME"] = args.airflow_home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    conn: dict[str, Any] = {"conn_type": "apify", "password": args.token, "host": args.base_url}
    if args.ca_file:  # --tls: the provider trusts the emulator's CA through the connection, as a user would
        conn["extra"] = {"verify": args.ca_file}
    os.environ["AIRFLOW_CONN_APIFY_DEFAULT"] = json.dumps(conn)
    raise_open_files_limit()
    # --tls: the baseline's clients trust the same CA (benchmarks/polling_trigger.py): aiohttp gets one
    # SSLContext for the whole process (what it does itself for the default trust store: a cached
    # context), so each poll pays its TCP connection and TLS handshake, not a context build; httpx
    # gets the CA path, so every client builds its own context, as httpx.AsyncClient() does by default.
    import aiohttp  # noqa: F401  (imported before the measurement, like a running triggerer)
    from airflow.sdk import BaseHook
    from airflow.triggers.base import BaseTrigger
    from floor_clients import FLOORS
    from polling_trigger import FixedIntervalPollTrigger

    from airflow_provider_tasks.apify.triggers import ApifyRunTrigger

    if args.worker == "baseline" and args.baseline_client == "httpx":
        import httpx  # noqa: F401  (so the import is not counted in the waiting phase)
    if args.ca_file and args.worker == "baseline" and args.baseline_client == "aiohttp":
        from polling_trigger import _ssl_context

        _ssl_context(args.ca_file)  # the process's one context, built before the measurement

    # A running triggerer has looked connections up before: load that machinery now (the first
    # lookup imports the supervisor module and sets up the secrets backends), outside the timing.
    asyncio.run(BaseHook.aget_connection("apify_default"))
    rss_imported = proc_rss_mb()
    print(f"READY rss={rss_imported:.1f}", flush=True)
    runs_file = sys.stdin.readline().strip()
    with open(runs_file) as f:
        run_ids: list[str] = json.load(f)["run_ids"]

    deadline = time.time() + args.deadline_secs

    def make_trigger(run_id: str) -> BaseTrigger:
        if args.worker == "provider":
            return ApifyRunTrigger(run_id=run_id, conn_id="apify_default", deadline=deadline, fire_not_before=None)
        if args.worker in FLOORS:
            return FLOORS[args.worker](run_id, args.base_url, args.token, args.ca_file)  # type: ignore[return-value]
        return FixedIntervalPollTrigger(
            run_id, "apify_default", args.baseline_interval, args.baseline_client, ca_file=args.ca_file
        )

    async def drive_one(trigger: BaseTrigger, out: list[Any], index: int) -> None:
        started = time.time()
        events = trigger.run()
        try:
            event = await events.__anext__()
        finally:
            await events.aclose()
        fired = time.time()
        if not rss_at_first_event:  # every other trigger is still waiting: the steady state
            rss_at_first_event.append(proc_rss_mb())
            if args.tracemalloc:
                import tracemalloc

                memory_snapshot.append(tracemalloc.take_snapshot())
        out[index] = (started, fired, event.payload.get("status"), event.payload.get("message"))

    async def loop_lag(samples: list[float], stop: asyncio.Event, period: float = 0.1) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            expected = loop.time() + period
            await asyncio.sleep(period)
            lag = max(0.0, loop.time() - expected)
            samples.append(lag)
            if lag > 0.2:  # when the loop stalled, in seconds since the waiting phase began
                stalls.append((round(time.time() - wall0 - lag, 1), round(lag, 3)))

    async def drive_all() -> tuple[list[Any], list[float]]:
        out: list[Any] = [None] * len(run_ids)
        lags: list[float] = []
        stop = asyncio.Event()
        monitor = asyncio.create_task(loop_lag(lags, stop))
        tasks = []
        if args.ramp_secs > 0:  # batches spread over --ramp-secs
            batch = max(1, args.ramp_batch)
            pause = args.ramp_secs / max(1, math.ceil(len(run_ids) / batch))
        else:  # like the triggerer's create_triggers(): yield to the loop after each new trigger
            batch, pause = 1, 0.0
        for start in range(0, len(run_ids), batch):
            for i in range(start, min(start + batch, len(run_ids))):
                tasks.append(asyncio.create_task(drive_one(make_trigger(run_ids[i]), out, i)))
            await asyncio.sleep(pause)
        await asyncio.gather(*tasks)
        stop.set()
        await monitor
        return out, lags

    rss_at_first_event: list[float] = []
    memory_snapshot: list[Any] = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(1)
    stalls: list[tuple[float, float]] = []
    gc_timer = GcPauses()
    slow_callbacks = _record_slow_callbacks(gc_timer) if args.slow_callbacks else []
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    rss_before = proc_rss_mb()
    usage0 = os.times()
    cpu0 = time.process_time()
    wall0 = time.time()
    if profiler is not None:
        profiler.enable()
    records, lags = asyncio.run(drive_all())
    if profiler is not None:
        profiler.disable()
    wall1 = time.time()
    cpu1 = time.process_time()
    usage1 = os.times()
    result = {
        "mode": args.worker,
        "n": len(run_ids),
        "wall0": wall0,
        "wall1": wall1,
        "cpu_s": cpu1 - cpu0,
        "cpu_user_s": usage1.user - usage0.user,
        "cpu_sys_s": usage1.system - usage0.system,
        "rss_imported_mb": rss_imported,
        "rss_before_mb": rss_before,
        "peak_rss_mb": self_peak_rss_mb(),
        "rss_end_mb": proc_rss_mb(),
        "loop_lag_max_s": max(lags, default=0.0),
        "loop_lag_p99_s": percentile(lags, 99),
        "loop_lag_over_0_2s": sum(1 for lag in lags if lag > 0.2),
        "stalls": stalls,
        "slow_callbacks": sorted(slow_callbacks, reverse=True)[:15],
        "gc_pause_max_s": max((p for _, p in gc_timer.pauses), default=0.0),
        "gc_pause_total_s": gc_timer.total,
        "gc_full_collections": sum(1 for gen, _ in gc_timer.pauses if gen == 2),
        "rss_first_event_mb": rss_at_first_event[0] if rss_at_first_event else float("nan"),
        "records": dict(zip(run_ids, records, strict=False)),
    }
    with open(args.out, "w") as f:
        json.dump(result, f)
    if profiler is not None:
        import io
        import pstats

        os.makedirs(args.profile, exist_ok=True)
        base = os.path.join(args.profile, f"{args.worker}-{len(run_ids)}")
        profiler.dump_stats(base + ".pstats")
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
        Path(base + ".txt").write_text(text.getvalue())
    if memory_snapshot:
        os.makedirs(args.tracemalloc, exist_ok=True)
        snapshot = memory_snapshot[0].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        lines = [f"Python allocations alive when the first event fired, {len(run_ids)} triggers ({args.worker}):"]
        for key in ("lineno", "filename"):
            stats = snapshot.statistics(key)
            total = sum(stat.size for stat in stats)
            lines.append(
                f"\n-- top 25 by {key} (total {total / 1e6:.1f} MB, {total / len(run_ids) / 1e3:.1f} kB per trigger)"
            )
            for stat in stats[:25]:
                frame = stat.traceback[0]
                where = f"{frame.filename}:{frame.lineno}" if key == "lineno" else frame.filename
                lines.append(f"{stat.size / 1e6:8.2f} MB {stat.count:9,d} blocks  {where}")
        Path(args.tracemalloc, f"{args.worker}-{len(run_ids)}.txt").write_text("\n".join(lines) + "\n")
    print("DONE", flush=True)
    return 0


def _record_slow_callbacks(gc_timer: GcPauses, threshold: float = 0.1) -> list[tuple[float, str]]:
    """(seconds, what) of every event-loop iteration that ran its callbacks for longer than
    ``threshold``, with how many callbacks it ran, how long of it was garbage collection (from
    ``gc_timer``) and what they were: where a loop stall comes from (one slow callback, or
    thousands of quick ones woken together). Wraps ``Handle._run`` and the loop's ``_run_once``,
    so it costs a little on every callback."""
    import collections

    handle_run = asyncio.events.Handle._run
    run_once = asyncio.base_events.BaseEventLoop._run_once
    slow: list[tuple[float, str]] = []
    current: collections.Counter[str] = collections.Counter()
    spent_in_callbacks = [0.0]

    def timed_handle(handle: asyncio.events.Handle) -> None:
        callback = getattr(handle, "_callback", None)
        target = getattr(callback, "__self__", None)
        coro = getattr(target, "get_coro", lambda: None)() if target is not None else None
        name = getattr(coro, "__qualname__", None) or getattr(callback, "__qualname__", type(callback).__name__)
        current[name] += 1
        t0 = time.perf_counter()
        handle_run(handle)
        spent_in_callbacks[0] += time.perf_counter() - t0

    def timed_run_once(loop: Any) -> None:
        current.clear()
        spent_in_callbacks[0] = 0.0
        gc_before = gc_timer.total
        run_once(loop)
        spent = spent_in_callbacks[0]  # not the wait for I/O
        if spent > threshold:
            top = ", ".join(f"{n}x {name}" for name, n in current.most_common(4))
            in_gc = gc_timer.total - gc_before
            slow.append((round(spent, 3), f"{sum(current.values())} callbacks, {in_gc:.3f} s in GC: {top}"))

    asyncio.events.Handle._run = timed_handle  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop._run_once = timed_run_once  # type: ignore[method-assign]
    return slow


class GcPauses:
    """(generation, seconds) of every garbage collection from now on, and their running total: a
    full collection walks every object alive, so with thousands of waiting triggers it can stall
    the loop by itself."""

    def __init__(self) -> None:
        import gc

        self.pauses: list[tuple[int, float]] = []
        self.total = 0.0
        self._started: float | None = None
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            pause = time.perf_counter() - self._started
            self.pauses.append((info["generation"], pause))
            self.total += pause
            self._started = None


# =============================================================================================
# Orchestrator: emulator, run plan, one trigger process per (mode, N), tables.
# =============================================================================================


def plan_durations(n: int, lo: float, hi: float, scale: float, seed: int) -> list[float]:
    """N durations spread evenly over [lo, hi] * scale (0.1 s buckets), in a seeded random order."""
    durations = [round((lo + (hi - lo) * (i + 0.5) / n) * scale, 1) for i in range(n)]
    random.Random(seed).shuffle(durations)
    return durations


async def start_runs(
    base_url: str, token: str, task_ids: list[str], concurrency: int, ca_file: str | None = None
) -> list[str]:
    """POST one run per entry of ``task_ids`` (in order); returns the run ids in the same order."""
    import ssl

    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    ids: list[str | None] = [None] * len(task_ids)
    queue = iter(range(len(task_ids)))
    context = ssl.create_default_context(cafile=ca_file) if ca_file else True
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=context)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def worker() -> None:
            for i in queue:
                url = f"{base_url}/v2/actor-tasks/{task_ids[i]}/runs"
                async with session.post(url, json={}) as response:
                    if response.status != 201:
                        raise RuntimeError(f"start failed: {response.status} {await response.text()}")
                    ids[i] = (await response.json())["data"]["id"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [i for i in ids if i is not None]


def _drain(stream: Any, count: list[int]) -> None:
    for _line in stream:
        count[0] += 1


def parse_baselines(text: str) -> list[dict[str, Any]]:
    """``aiohttp:60,aiohttp:2@1000`` -> baseline specs (client, interval s, largest N or None)."""
    specs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        head, _, limit = part.partition("@")
        client, _, interval = head.partition(":")
        if client not in ("aiohttp", "httpx") or not interval:
            raise SystemExit(f"bad --baselines entry {part!r}: expected CLIENT:INTERVAL[@MAX_N], CLIENT aiohttp|httpx")
        specs.append({
            "kind": "baseline", "client": client, "interval": float(interval),
            "max_n": int(limit) if limit else None, "label": f"baseline {client} every {float(interval):g} s",
        })  # fmt: skip
    return specs


PROVIDER = {"kind": "provider", "client": "aiohttp", "interval": 60.0, "max_n": None, "label": "provider"}
FLOOR_SPECS = [
    {"kind": "floor-aiohttp", "client": "aiohttp", "interval": 60.0, "max_n": None,
     "label": "floor: bare aiohttp long-polls"},
    {"kind": "floor-raw", "client": "aiohttp", "interval": 60.0, "max_n": None,
     "label": "floor: raw asyncio long-polls"},
]  # fmt: skip


def measure(
    emulator: EmulatorProcess, spec: dict[str, Any], n: int, args: argparse.Namespace, home: str
) -> dict[str, Any]:
    mode = spec["kind"]
    emulator.reset()
    durations = plan_durations(n, args.min_secs, args.max_secs, args.scale, args.seed)
    ready = n / 1000 if args.ready_secs is None else args.ready_secs
    task_of: dict[float, str] = {}
    for d in sorted(set(durations)):
        task_of[d] = emulator.add_task(f"bench-{round(d * 10)}", duration_secs=d, ready_secs=ready)["id"]

    tmp = tempfile.mkdtemp(prefix="bench-trig-")
    out_file = os.path.join(tmp, "result.json")
    runs_file = os.path.join(tmp, "runs.json")
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", mode,
        "--base-url", emulator.base_url, "--token", emulator.token, "--airflow-home", home,
        "--out", out_file, "--deadline-secs", str(args.max_secs * args.scale + 900),
        "--baseline-interval", str(spec["interval"]), "--baseline-client", spec["client"],
        "--ramp-secs", str(args.ramp_secs), "--ramp-batch", str(args.ramp_batch),
    ] + (["--ca-file", emulator.ca_file] if emulator.ca_file else [])  # fmt: skip
    if args.profile and mode in args.profile_modes:
        cmd += ["--profile", args.profile]
    if args.tracemalloc:
        cmd += ["--tracemalloc", args.tracemalloc]
    if args.slow_callbacks:
        cmd += ["--slow-callbacks"]
    worker = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=bench_env())
    try:
        wait_for_line(worker.stdout, "READY", worker)
        # Keep reading what the trigger process prints (Airflow logs the triggers' lines to stdout):
        # a full pipe would block its event loop on a log write.
        log_lines = [0]
        drain = threading.Thread(target=_drain, args=(worker.stdout, log_lines), daemon=True)
        drain.start()
        t_setup = time.time()
        task_ids = [task_of[d] for d in durations]
        run_ids = asyncio.run(
            start_runs(emulator.base_url, emulator.token, task_ids, args.start_concurrency, emulator.ca_file)
        )
        setup_s = time.time() - t_setup
        stats0, cpu0, t0 = emulator.stats(), emulator.cpu_seconds(), time.time()
        with open(runs_file, "w") as f:
            json.dump({"run_ids": run_ids}, f)
        assert worker.stdin is not None
        worker.stdin.write(runs_file + "\n")
        worker.stdin.flush()
        emulator_rss_peak = 0.0
        while worker.poll() is None:  # sample the emulator's RSS while the triggers wait
            emulator_rss_peak = max(emulator_rss_peak, emulator.rss_mb())
            try:
                worker.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if worker.returncode != 0:
            raise RuntimeError(f"trigger process failed with exit code {worker.returncode}")
        cpu1, t1, stats1 = emulator.cpu_seconds(), time.time(), emulator.stats()
        drain.join(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    with open(out_file) as f:
        result = json.load(f)
    finished = {run["id"]: run for run in emulator.runs()}
    shutil.rmtree(tmp, ignore_errors=True)

    latencies, waited, floor_requests, late, statuses = [], [], 0, 0, {}
    pre_wait = []
    for rid, (started, fired, status, _message) in result["records"].items():
        run = finished[rid]
        statuses[status] = statuses.get(status, 0) + 1
        end = parse_iso(run["finishedAt"]) if run.get("finishedAt") else math.nan
        pre_wait.append(started - parse_iso(run["startedAt"]))
        waited.append(fired - started)
        if end < started:
            late += 1  # the run ended before its trigger started: no notice latency to speak of
            continue
        latencies.append(fired - end)
        floor_requests += max(1, math.ceil((end - started) / LONG_POLL_MAX - 1e-9))
    requests = stats1["total"] - stats0["total"]
    by_route = {
        k: v - stats0["by_route"].get(k, 0) for k, v in stats1["by_route"].items() if v - stats0["by_route"].get(k, 0)
    }
    run_minutes = sum(waited) / 60
    wall = result["wall1"] - result["wall0"]
    return {
        "mode": spec["label"],
        "kind": mode,
        "interval": spec["interval"],
        "n": n,
        "wall_s": wall,
        "cpu_s": result["cpu_s"],
        "cpu_cores": result["cpu_s"] / wall,
        "rss_before_mb": result["rss_before_mb"],
        "peak_rss_mb": result["peak_rss_mb"],
        "rss_growth_mb": result["peak_rss_mb"] - result["rss_before_mb"],
        "requests": requests,
        "req_per_run": requests / n,
        "req_per_run_min": requests / run_minutes if run_minutes else math.nan,
        "floor_per_run_min": floor_requests / run_minutes if run_minutes else math.nan,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "floor_requests": floor_requests,
        "max": max(latencies, default=math.nan),
        "late": late,
        "statuses": statuses,
        "by_route": by_route,
        "emu_cpu_cores": (cpu1 - cpu0) / (t1 - t0),
        "emu_rss_peak_mb": emulator_rss_peak,
        "loop_lag_max_s": result["loop_lag_max_s"],
        "loop_lag_p99_s": result["loop_lag_p99_s"],
        "loop_lag_over_0_2s": result["loop_lag_over_0_2s"],
        "stalls": result["stalls"],
        "slow_callbacks": result["slow_callbacks"],
        "gc_pause_max_s": result["gc_pause_max_s"],
        "gc_pause_total_s": result["gc_pause_total_s"],
        "gc_full_collections": result["gc_full_collections"],
        "rss_first_event_mb": result["rss_first_event_mb"],
        "setup_s": setup_s,
        "ready_s": ready,
        "pre_wait_max_s": max(pre_wait, default=math.nan),
        "log_lines": log_lines[0],
        "loadavg": load_average(),
        "profiled": bool(args.profile and mode in args.profile_modes) or bool(args.tracemalloc),
    }


def print_results(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(f"## Waiting on N runs over {'HTTPS' if args.tls else 'plain HTTP'} "
          f"(durations spread evenly over {args.min_secs * args.scale:g}-{args.max_secs * args.scale:g} s; "
          f"baselines poll at a fixed interval with a new client per poll)")  # fmt: skip
    headers = [
        "mode", "N", "wall s", "CPU s", "CPU cores", "RSS before MB", "peak RSS MB", "requests", "req/run",
        "req/run-min", "floor req/run-min", "latency p50 s", "p95 s", "max s", "loop lag max s",
        "emulator cores", "load avg 1/5/15",
    ]  # fmt: skip
    rows = [
        [
            r["mode"] + (" (profiled)" if r["profiled"] else ""), r["n"], r["wall_s"], r["cpu_s"], r["cpu_cores"],
            r["rss_before_mb"], r["peak_rss_mb"], r["requests"], r["req_per_run"], r["req_per_run_min"],
            r["floor_per_run_min"], r["p50"], r["p95"], r["max"], r["loop_lag_max_s"], r["emu_cpu_cores"],
            r["loadavg"],
        ]
        for r in results
    ]  # fmt: skip
    print(table(headers, rows))
    print()
    for r in results:
        routes = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["by_route"].items()))
        print(f"- {r['mode']} N={r['n']:,}: events {r['statuses']}; runs ended before their trigger started: "
              f"{r['late']}; runs READY for {r['ready_s']:g} s first; start phase {r['setup_s']:.1f} s "
              f"(oldest run {r['pre_wait_max_s']:.1f} s old when its trigger started); "
              f"RSS when the first event fired (all other triggers waiting) {r['rss_first_event_mb']:.0f} MB; "
              f"loop lag p99 {r['loop_lag_p99_s'] * 1000:.0f} ms, >0.2 s {r['loop_lag_over_0_2s']}x "
              f"(at [s since start, lag s]: "
              f"{', '.join(f'[{t:g}, {lag:g}]' for t, lag in r['stalls'][:12]) or 'never'}); "
              f"garbage collection: {r['gc_full_collections']} full, longest pause {r['gc_pause_max_s']:.3f} s, "
              f"{r['gc_pause_total_s']:.2f} s in all; "
              f"emulator peak RSS {r['emu_rss_peak_mb']:.0f} MB; log lines printed {r['log_lines']:,}; "
              f"requests by route: {routes}")  # fmt: skip

    for r in results:
        for spent, what in r["slow_callbacks"]:
            print(f"  - {r['mode']} N={r['n']:,}: a loop iteration ran {spent:.3f} s: {what}")
    providers = {r["n"]: r for r in results if r["kind"] == "provider"}
    pairs = [(providers[r["n"]], r) for r in results if r["kind"] == "baseline" and r["n"] in providers]
    if pairs:
        print()
        print("## Side by side: baseline / provider (above 1x = the provider does better)")
        headers = [
            "N", "baseline", "requests", "CPU s", "peak RSS", "RSS growth", "latency p50", "latency p95", "latency max"
        ]  # fmt: skip
        rows = [
            [p["n"], b["mode"], _ratio(b["requests"], p["requests"]), _ratio(b["cpu_s"], p["cpu_s"]),
             _ratio(b["peak_rss_mb"], p["peak_rss_mb"]), _ratio(b["rss_growth_mb"], p["rss_growth_mb"]),
             _ratio(b["p50"], p["p50"]), _ratio(b["p95"], p["p95"]), _ratio(b["max"], p["max"])]
            for p, b in pairs
        ]  # fmt: skip
        print(table(headers, rows))

    print()
    print("## Targets (issue 4, stated for N = 10,000; checked here at every N measured)")
    headers = [
        "N", f"CPU < {TARGET_CPU_CORES:g} core", f"peak RSS < {TARGET_PEAK_RSS_MB:g} MB", f"p50 < {TARGET_P50_S:g} s",
        f"<= {TARGET_REQ_PER_RUN_MIN:g} req/run-min (floor for this workload)",
        f">= {TARGET_REQ_RATIO:g}x fewer requests than a baseline whose latency is no better",
    ]  # fmt: skip
    rows = []
    for n, r in providers.items():
        verdicts = []
        for p, b in pairs:
            if p is not r:
                continue
            ratio = b["requests"] / r["requests"] if r["requests"] else math.inf
            not_worse = r["p50"] <= b["p50"] and r["p95"] <= b["p95"]
            verdicts.append(f"vs {b['interval']:g} s {b['mode'].split()[1]}: "
                            f"{_yes(ratio >= TARGET_REQ_RATIO and not_worse)} "
                            f"({ratio:.1f}x, p50 {r['p50']:.3f} vs {b['p50']:.2f} s)")  # fmt: skip
        rows.append([
            n,
            f"{_yes(r['cpu_cores'] < TARGET_CPU_CORES)} ({r['cpu_cores']:.3f})",
            f"{_yes(r['peak_rss_mb'] < TARGET_PEAK_RSS_MB)} "
            f"({r['peak_rss_mb']:.0f}; +{r['rss_growth_mb']:.0f} while waiting)",
            f"{_yes(r['p50'] < TARGET_P50_S)} ({r['p50']:.3f})",
            f"{_yes(r['req_per_run_min'] <= TARGET_REQ_PER_RUN_MIN)} "
            f"({r['req_per_run_min']:.2f}; floor {r['floor_per_run_min']:.2f})",
            "; ".join(verdicts) or "n/a (no baseline at this N)",
        ])  # fmt: skip
    print(table(headers, rows))


def print_floors(results: list[dict[str, Any]]) -> None:
    """The provider against the floors measured in the same invocation (above 1x: it spends more)."""
    providers = {r["n"]: r for r in results if r["kind"] == "provider"}
    floors = [r for r in results if r["kind"].startswith("floor") and r["n"] in providers]
    if not floors:
        return
    print()
    print("## Provider / floor (above 1x = the provider spends more than the floor; benchmarks/floor_clients.py)")
    headers = [
        "N", "floor", "CPU s", "RSS growth", "requests", "latency p99", "loop lag max", "GC pause max", "GC total"
    ]  # fmt: skip
    rows = [
        [f"{f['n']:,}", f["mode"], _ratio(providers[f["n"]]["cpu_s"], f["cpu_s"]),
         _ratio(providers[f["n"]]["rss_growth_mb"], f["rss_growth_mb"]),
         _ratio(providers[f["n"]]["requests"], f["requests"]), _ratio(providers[f["n"]]["p99"], f["p99"]),
         _ratio(providers[f["n"]]["loop_lag_max_s"], f["loop_lag_max_s"]),
         _ratio(providers[f["n"]]["gc_pause_max_s"], f["gc_pause_max_s"]),
         _ratio(providers[f["n"]]["gc_pause_total_s"], f["gc_pause_total_s"])]
        for f in floors
    ]  # fmt: skip
    print(table(headers, rows))


def print_goals(results: list[dict[str, Any]]) -> None:
    """Issue 12's goals, at every N measured (they are stated for N = 10,000 over TLS)."""
    print()
    print("## Goals (issue 12, stated for N = 10,000 over TLS; checked here at every N measured; worker time: "
          "benchmarks/worker_time.py)")  # fmt: skip
    headers = [
        "N, client", f"CPU <= {GOAL_CPU_CORES:g} core", f"CPU <= {GOAL_CPU_VS_POLLER:g}x the 60 s poller's",
        f"RSS growth <= {GOAL_RSS_GROWTH_MB:g} MB", f"requests <= {GOAL_REQ_VS_FLOOR:g}x floor",
        f"latency p99 <= {GOAL_P99_S:g} s", f"loop lag <= {GOAL_LOOP_LAG_S:g} s",
    ]  # fmt: skip
    rows = []
    for r in (r for r in results if r["kind"] == "provider" or r["kind"].startswith("floor")):
        pollers = [b for b in results if b["kind"] == "baseline" and b["n"] == r["n"] and b["interval"] == 60]
        if pollers:
            cpu_ratio = r["cpu_s"] / pollers[0]["cpu_s"] if pollers[0]["cpu_s"] else math.inf
            vs_poller = (
                f"{_yes(cpu_ratio <= GOAL_CPU_VS_POLLER)} "
                f"({cpu_ratio:.2f}x: {r['cpu_s']:.1f} vs {pollers[0]['cpu_s']:.1f} s)"
            )
        else:
            vs_poller = "n/a (no 60 s baseline at this N)"
        floor_ratio = r["requests"] / r["floor_requests"] if r["floor_requests"] else math.inf
        rows.append([
            f"{r['n']:,} {r['mode']}",
            f"{_yes(r['cpu_cores'] <= GOAL_CPU_CORES)} ({r['cpu_cores']:.3f})",
            vs_poller,
            f"{_yes(r['rss_growth_mb'] <= GOAL_RSS_GROWTH_MB)} (+{r['rss_growth_mb']:.0f} MB, "
            f"{r['rss_growth_mb'] * 1000 / r['n']:.1f} KB per run)",
            f"{_yes(floor_ratio <= GOAL_REQ_VS_FLOOR)} "
            f"({floor_ratio:.2f}x: {r['requests']:,} vs {r['floor_requests']:,})",
            f"{_yes(r['p99'] <= GOAL_P99_S)} ({r['p99']:.3f} s)",
            f"{_yes(r['loop_lag_max_s'] <= GOAL_LOOP_LAG_S)} ({r['loop_lag_max_s']:.3f} s)",
        ])  # fmt: skip
    print(table(headers, rows))


def _ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "n/a"
    return f"{a / b:.1f}x"


def _yes(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated N values (default 100,1000)")
    parser.add_argument("--baseline-sizes", default=None,
                        help="N values at which baselines run too (default: all --sizes; '' for none)")  # fmt: skip
    parser.add_argument("--modes", default="provider,baseline",
                        help="comma-separated: provider, baseline, floor (both floor clients of "
                             "benchmarks/floor_clients.py), floor-aiohttp, floor-raw")  # fmt: skip
    parser.add_argument("--baselines", default="aiohttp:60,aiohttp:2@1000",
                        help="baselines as CLIENT:INTERVAL[@MAX_N], comma-separated; CLIENT is aiohttp "
                             "(what dbt Cloud's "
                             "hook opens per poll) or httpx; 60 s is dbt Cloud's default check_interval "
                             "(default: aiohttp:60,aiohttp:2@1000)")  # fmt: skip
    parser.add_argument("--min-secs", type=float, default=10.0, help="shortest run (before --scale)")
    parser.add_argument("--max-secs", type=float, default=70.0, help="longest run (before --scale)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every run duration (0.1 for a quick try)")
    parser.add_argument("--ramp-secs", type=float, default=0.0, help="spread trigger creation over this many seconds")
    parser.add_argument("--ramp-batch", type=int, default=1000, help="triggers created per ramp step")
    parser.add_argument("--ready-secs", type=float, default=None,
                        help="seconds each run stays READY before RUNNING, so that no run ends before its trigger "
                             "exists (default N/1000: starting 10,000 triggers takes seconds)")  # fmt: skip
    parser.add_argument("--start-concurrency", type=int, default=200, help="concurrent start requests in the setup")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default=None, help="directory: cProfile the trigger process, write pstats + text")
    parser.add_argument("--profile-modes", default="provider", help="modes to profile with --profile")
    parser.add_argument("--tracemalloc", default=None,
                        help="directory: snapshot Python allocations when the first event fires (all other "
                             "triggers waiting) and write the top allocation sites; slows the run")  # fmt: skip
    parser.add_argument("--slow-callbacks", action="store_true",
                        help="record event-loop callbacks longer than 50 ms (where loop lag comes from) and print "
                             "the longest; costs a little on every callback")  # fmt: skip
    parser.add_argument("--json-out", default=None, help="also write the raw results to this JSON file")
    parser.add_argument("--tls", action="store_true",
                        help="the emulator serves HTTPS with a throwaway CA; the provider trusts it through the "
                             "connection's 'verify' extra, the baselines pay a TLS handshake per poll")  # fmt: skip
    # trigger-process (internal) options
    parser.add_argument(
        "--worker", choices=("provider", "baseline", "floor-aiohttp", "floor-raw"), help=argparse.SUPPRESS
    )
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", default=TOKEN, help=argparse.SUPPRESS)
    parser.add_argument("--airflow-home", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--ca-file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--deadline-secs", type=float, default=3600.0, help=argparse.SUPPRESS)
    parser.add_argument("--baseline-interval", type=float, default=60.0, help=argparse.SUPPRESS)
    parser.add_argument("--baseline-client", choices=("aiohttp", "httpx"), default="aiohttp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    baseline_sizes = (
        sizes if args.baseline_sizes is None else [int(s) for s in args.baseline_sizes.split(",") if s.strip()]
    )
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    specs = ([PROVIDER] if "provider" in modes else []) + (
        parse_baselines(args.baselines) if "baseline" in modes else []
    )
    specs += [f for f in FLOOR_SPECS if "floor" in modes or f["kind"] in modes]
    args.profile_modes = [m.strip() for m in args.profile_modes.split(",")]
    raise_open_files_limit()
    print(f"# triggerer benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average at start {load_average()}")  # fmt: skip
    home = tempfile.mkdtemp(prefix="bench-airflow-home-")
    results = []
    try:
        with EmulatorProcess(tls=args.tls) as emulator:
            print(f"# emulator pid {emulator.pid} at {emulator.base_url}" + (" (TLS)" if args.tls else ""))
            for n in sizes:
                for spec in specs:
                    if spec["kind"] == "baseline" and (n not in baseline_sizes or (spec["max_n"] or n) < n):
                        continue
                    print(f"# measuring {spec['label']} N={n:,} ...", flush=True)
                    r = measure(emulator, spec, n, args, home)
                    print(f"#   wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                          f"{r['requests']:,} requests, p50 {r['p50']:.3f} s, "
                          f"load {r['loadavg']}", flush=True)  # fmt: skip
                    results.append(r)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print_results(results, args)
    print_floors(results)
    print_goals(results)
    print(f"\nload average at end: {load_average()}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    if args.tracemalloc:
        for path in sorted(Path(args.tracemalloc).glob("*.txt")):
            print(f"\n## Memory {path.name}\n```\n{path.read_text()}```")
    if args.profile:
        for path in sorted(Path(args.profile).glob("*.txt")):
            print(
                f"\n## Profile {path.name} "
                f"(cProfile of the trigger process; full stats in {path.with_suffix('.pstats')})"
            )
            print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
