"""Whole-request deadline and body cap: what a dripping server and a 200 MB answer cost a call.

The Apify emulator runs in its own process; each measurement runs in a fresh subprocess (so its
peak RSS is its own) that calls ``GET /v2/users/me`` through ``ApifyHook.send`` (sync,
``requests``) or ``ApifyHook.asend`` (async, the triggerer's ``aiohttp`` path), once, no retries:

* ``drip``: the emulator sends the body one byte every ``--drip-ms`` ms (fault ``drip``); the hook's
  timeout is ``--timeout`` s. Reports the call's wall time and how it ended.
* ``big``: the emulator pads the answer to ``--big-mb`` MB (fault ``oversized``), with a
  ``Content-Length`` and chunked without one. Reports RSS before the call, peak RSS (VmHWM) after,
  and how it ended.

``--provider PATH`` runs the measured subprocesses against another checkout of the provider (for
before/after figures; the emulator always comes from this checkout). Prints a table; never asserts.

Usage::

    .venv/bin/python benchmarks/transport_limits.py
    .venv/bin/python benchmarks/transport_limits.py --provider /tmp/old-checkout
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, TOKEN, EmulatorProcess, bench_env, proc_peak_rss_mb, proc_rss_mb, table


def child(mode: str, path: str, timeout: float) -> None:
    """One measured call; prints a JSON line."""
    import asyncio

    from airflow_provider_tasks.apify import api
    from airflow_provider_tasks.apify.hooks import ApifyHook

    hook = ApifyHook(timeout=timeout)
    request = api.DIALECT.auth_check
    asynchronous = mode.endswith("async")
    if asynchronous:
        import aiohttp  # noqa: F401 - loaded before the baseline reading, like in a triggerer
    hook.send(api.get_task("demo~fails"))  # warm: connection read, session made, imports done
    rss_before = proc_rss_mb()
    started = time.monotonic()
    outcome = "ok"
    try:
        if asynchronous:

            async def call():
                try:
                    return await hook.asend(request, retry=False)
                finally:
                    await hook.aclose()

            asyncio.run(call())
        else:
            hook.send(request, retry=False)
    except Exception as error:  # reported, not judged
        outcome = f"{type(error).__name__}: {str(error)[:90]}"
    print(json.dumps({
        "seconds": time.monotonic() - started,
        "rss_before": rss_before,
        "peak": proc_peak_rss_mb(),
        "outcome": outcome,
        "module": sys.modules["airflow_provider_tasks"].__file__,
    }))


def measure(emulator: EmulatorProcess, mode: str, provider: Path, timeout: float, home: str) -> dict:
    conn = json.dumps({"conn_type": "apify", "password": TOKEN, "host": emulator.base_url})
    env = bench_env(AIRFLOW_CONN_APIFY_DEFAULT=conn, AIRFLOW_HOME=home, PYTHONPATH=str(provider))
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--timeout", str(timeout)],
        env=env, cwd=provider, capture_output=True, text=True, timeout=600,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--provider", default=str(REPO), help="checkout whose provider is measured")
    parser.add_argument("--timeout", type=float, default=5.0, help="the hook's request timeout (s)")
    parser.add_argument("--drip-ms", type=float, default=100.0)
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, "", args.timeout)
        return
    provider = Path(args.provider).resolve()
    home = tempfile.mkdtemp(prefix="transport-limits-home-")
    rows = []
    with EmulatorProcess() as emulator:
        for mode in ("sync", "async"):
            emulator.control("DELETE", "/_emulator/faults")
            emulator.control(
                "POST",
                "/_emulator/faults",
                {"kind": "drip", "seconds": args.drip_ms / 1000, "path": "^/v2/users/me$", "count": 1},
            )
            result = measure(emulator, f"drip-{mode}", provider, args.timeout, home)
            rows.append([f"drip {args.drip_ms:g} ms/byte", mode, result["seconds"], "", "", result["outcome"]])
        for chunked in (False, True):
            for mode in ("sync", "async"):
                emulator.control("DELETE", "/_emulator/faults")
                size = args.big_mb * 1000 * 1000
                emulator.control(
                    "POST",
                    "/_emulator/faults",
                    {"kind": "oversized", "size": size, "chunked": chunked, "path": "^/v2/users/me$", "count": 1},
                )
                result = measure(emulator, f"big-{mode}", provider, 60.0, home)
                shape = "chunked" if chunked else "Content-Length"
                rows.append([
                    f"{args.big_mb} MB body, {shape}", mode, result["seconds"], result["rss_before"], result["peak"],
                    result["outcome"],
                ])
    print(f"provider: {provider}  (hook timeout {args.timeout:g} s)")
    print(table(["case", "path", "wall s", "RSS before MB", "peak RSS MB", "outcome"], rows))


if __name__ == "__main__":
    main()
