"""What ``import airflow_provider_tasks.apify.operators`` adds on top of ``import airflow.sdk``.

DAG files import operators at parse time, in every DAG-processor and worker process, so this
cost is paid often. Each repetition is a fresh interpreter that imports ``airflow.sdk`` and then
the module under test, timing each step; the table shows medians. It also lists which heavy
modules (HTTP clients, tenacity, the emulator, ...) each import leaves loaded, and the modules
that cost the most (``-X importtime``).

Two settings, as a deployment and as a sandbox see it:

* ``with .pyc cache``: bytecode caching on (in a private cache tree, see ``_common.bench_env``),
  after a warm-up run, as in any normal installation;
* ``no .pyc cache``: every module compiled from source, which is what happens where
  ``PYTHONDONTWRITEBYTECODE=1`` is set and nothing was precompiled (this sandbox and CI).

Usage::

    .venv/bin/python benchmarks/import_time.py [--repeat 9] [--module airflow_provider_tasks.apify.operators]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, bench_env, load_average, table

TARGET_MS = 150.0
HEAVY = (
    "aiohttp",
    "aiohttp.web",
    "tenacity",
    "requests",
    "urllib3",
    "httpx",
    "yarl",
    "multidict",
    "apify_client",
    "airflow_provider_tasks.testing",
    "airflow_provider_tasks.testing.apify_emulator",
    "airflow_provider_tasks.apify.hooks",
    "airflow_provider_tasks.common.http",
    "airflow_provider_tasks.apify.triggers",
)

PROBE = r"""
import json, sys, time
module = sys.argv[1]
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
sys.stderr.write("@@MARK@@\n"); sys.stderr.flush()
before = set(sys.modules)
__import__(module)
t2 = time.perf_counter()
heavy = json.loads(sys.argv[2])
print(json.dumps({
    "sdk_ms": (t1 - t0) * 1000,
    "module_ms": (t2 - t1) * 1000,
    "added": len(set(sys.modules) - before),
    "state": {name: ("airflow.sdk" if name in before else "added") if name in sys.modules else "not loaded" for name in heavy},
}))
"""  # noqa: E501 - the probe's source, run as is


def probe(module: str, env: dict[str, str], importtime: bool = False) -> tuple[dict, str]:
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + ["-c", PROBE, module, json.dumps(HEAVY)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"import probe failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def top_imports(stderr: str, count: int) -> list[tuple[str, int, int]]:
    """(module, self us, cumulative us) of imports after the marker, most expensive (self) first."""
    rows = []
    after = stderr.split("@@MARK@@", 1)[-1]
    for line in after.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        rows.append((name, int(self_us), int(cumulative_us)))
    return sorted(rows, key=lambda r: -r[1])[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="fresh interpreters per setting (median shown)")
    parser.add_argument("--module", action="append", dest="modules",
                        help="module to time (repeatable; default airflow_provider_tasks.apify.operators)")  # fmt: skip
    parser.add_argument("--top", type=int, default=12, help="how many of the costliest imports to list")
    args = parser.parse_args(argv)
    modules = args.modules or ["airflow_provider_tasks.apify.operators"]
    print(f"# import time benchmark: python {sys.version.split()[0]}, load average at start {load_average()}")

    home = tempfile.mkdtemp(prefix="bench-airflow-home-")
    empty_cache = tempfile.mkdtemp(prefix="bench-empty-pycache-")
    warm = bench_env(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    cold = dict(warm, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty_cache)
    rows, states, tops = [], {}, {}
    try:
        for module in modules:
            probe(module, warm)  # warm-up: fills the bytecode cache
            for label, env in (("with .pyc cache", warm), ("no .pyc cache", cold)):
                runs = [probe(module, env)[0] for _ in range(args.repeat)]
                module_ms = statistics.median(r["module_ms"] for r in runs)
                rows.append([
                    module, label, statistics.median(r["sdk_ms"] for r in runs), module_ms,
                    min(r["module_ms"] for r in runs), max(r["module_ms"] for r in runs), runs[0]["added"],
                    f"{'met' if module_ms < TARGET_MS else 'MISSED'} (< {TARGET_MS:g} ms)", load_average(),
                ])  # fmt: skip
                states[module] = runs[0]["state"]
            tops[module] = top_imports(probe(module, warm, importtime=True)[1], args.top)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(empty_cache, ignore_errors=True)

    print()
    print(f"## Import time added on top of `import airflow.sdk` (median of {args.repeat} fresh interpreters)")
    headers = ["module", "setting", "airflow.sdk ms", "added ms (median)", "min ms", "max ms", "modules added",
               "target", "load avg 1/5/15"]  # fmt: skip
    print(table(headers, rows))
    for module in modules:
        print()
        print(f"## Heavy modules after `import airflow.sdk; import {module}`")
        print(table(["module", "loaded?"], [[name, {"added": "LOADED by this import",
                                                    "airflow.sdk": "loaded already by airflow.sdk"}.get(state, state)]
                                           for name, state in states[module].items()]))  # fmt: skip
        print()
        print(f"## Costliest imports under `import {module}` (-X importtime, with .pyc cache, one run)")
        print(table(["module", "self ms", "cumulative ms"], [[n, s / 1000, c / 1000] for n, s, c in tops[module]]))
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
