"""Streaming an Apify dataset to a JSON Lines file: the provider versus the official apify-client.

The emulator runs in its own process and serves generated datasets (``POST /_emulator/datasets``).
Each measurement runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own:

* ``provider``: ``ApifyHook.iter_dataset_items`` (the checked JSON Lines pages parsed line by
  line) in batches + ``common.writers.write_pages(..., "jsonl")``, the parsing path that
  ``ApifyDatasetItemsOperator`` takes for ``json`` and ``csv``, at each ``--page-sizes`` value
  (``default`` = the operator's default page size);
* ``provider-jsonl``: ``ApifyHook.iter_dataset_jsonl`` + ``write_jsonl_chunks``, what the operator
  does for ``format="jsonl"``: the API's own JSON Lines pages written as bytes, never parsed;
* ``apify-client``: ``ApifyClient(...).dataset(id).iterate_items()`` (its default chunk of 1,000
  items per request), each item written as ``json.dumps(item) + "\\n"``;
* ``apify-client+airflow``: the same after importing ``airflow.sdk`` and the provider (and
  looking a connection up), so its process carries the same heap as an Airflow task: Python's
  cyclic GC costs more with a big heap, and an operator always runs with Airflow loaded;

Prints a table (median of ``--repeat`` runs for the speed, the largest peak RSS); never asserts.

Usage::

    .venv/bin/python benchmarks/dataset_streaming.py                       # 100k and 1M items
    .venv/bin/python benchmarks/dataset_streaming.py --sizes 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
    proc_rss_mb,
    self_peak_rss_mb,
    table,
)

IMPLS = ("provider", "provider-jsonl", "apify-client", "apify-client+airflow")


def operator_default_page_size() -> int:
    """The page size ``ApifyDatasetItemsOperator`` uses when none is given."""
    from airflow_provider_tasks.apify import api
    from airflow_provider_tasks.apify.operators import ApifyDatasetItemsOperator

    return int(getattr(ApifyDatasetItemsOperator, "max_page_size", api.MAX_PAGE_SIZE))


# -- the measured subprocess ----------------------------------------------------------------------


def worker_main(args: argparse.Namespace) -> int:
    os.environ["AIRFLOW_HOME"] = args.airflow_home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW_CONN_APIFY_DEFAULT"] = json.dumps(
        {"conn_type": "apify", "password": args.token, "host": args.base_url}
    )
    if args.worker == "provider":
        import requests  # the sync transport imports it lazily: keep imports out of the timing

        from airflow_provider_tasks.apify.hooks import ApifyHook
        from airflow_provider_tasks.apify.operators import PARSED_BATCH
        from airflow_provider_tasks.common.jsonl import batched
        from airflow_provider_tasks.common.writers import write_pages

        page_size = operator_default_page_size() if args.page_size == "default" else int(args.page_size)
        # A task runner has Airflow's connection machinery loaded before execute(): do the same
        # (the first lookup imports the supervisor module and sets up the secrets backends).
        ApifyHook.get_connection("apify_default")

        def stream() -> int:
            hook = ApifyHook("apify_default")
            items = hook.iter_dataset_items(args.dataset_id, page_size=page_size)
            try:
                return write_pages(first_marked(batched(items, PARSED_BATCH)), args.output, "jsonl").item_count
            finally:
                hook.close()

    elif args.worker == "provider-jsonl":
        import requests  # noqa: F401

        from airflow_provider_tasks.apify.hooks import ApifyHook
        from airflow_provider_tasks.common.writers import write_jsonl_chunks

        page_size = operator_default_page_size() if args.page_size == "default" else int(args.page_size)
        ApifyHook.get_connection("apify_default")

        def stream() -> int:
            """What ``ApifyDatasetItemsOperator(format="jsonl")`` does: JSON Lines pages written unparsed."""
            hook = ApifyHook("apify_default")
            chunks = hook.iter_dataset_jsonl(args.dataset_id, page_size=page_size)

            def marked():
                for chunk in chunks:
                    if not first:
                        first.append(time.perf_counter())
                    yield chunk

            try:
                return write_jsonl_chunks(marked(), args.output).item_count
            finally:
                hook.close()

    else:
        from apify_client import ApifyClient

        if args.worker == "apify-client+airflow":  # same heap as a task in Airflow (see README)
            import airflow.sdk  # noqa: F401

            from airflow_provider_tasks.apify.hooks import ApifyHook

            ApifyHook.get_connection("apify_default")

        page_size = 0

        def stream() -> int:
            client = ApifyClient(args.token, api_url=args.base_url)
            count = 0
            with open(args.output, "w", encoding="utf-8") as f:
                for item in first_marked(client.dataset(args.dataset_id).iterate_items()):
                    f.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
            return count

    first: list[float] = []

    def first_marked(iterable: Any) -> Any:
        """Pass ``iterable`` through, noting when its first element arrives."""
        for element in iterable:
            if not first:
                first.append(time.perf_counter())
            yield element

    rss_before = proc_rss_mb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    count = stream()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    result = {
        "items": count,
        "seconds": elapsed,
        "first_s": (first[0] - t0) if first else float("nan"),
        "cpu_s": cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": self_peak_rss_mb(),
        "bytes": os.path.getsize(args.output),
        "page_size": page_size,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# -- orchestrator ---------------------------------------------------------------------------------


def run_one(
    emulator: EmulatorProcess, impl: str, dataset_id: str, page_size: str, tmp: str, home: str
) -> dict[str, Any]:
    output = os.path.join(tmp, f"{impl}.jsonl")
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", impl, "--dataset-id", dataset_id,
        "--base-url", emulator.base_url, "--token", emulator.token, "--output", output,
        "--airflow-home", home, "--page-size", page_size,
    ]  # fmt: skip
    emu_cpu0 = emulator.cpu_seconds()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=1800, env=bench_env())
    emu_cpu = emulator.cpu_seconds() - emu_cpu0
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{impl} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result = json.loads(line[len("RESULT "):])
    with open(output, "rb") as f:  # sanity: one line per item, the first item is item 0
        first = json.loads(f.readline())
    result["first_id_ok"] = first.get("id") == 0
    result["emu_cpu_s"] = emu_cpu
    os.unlink(output)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="dataset sizes in items (default 100000,1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the table shows the median speed")
    parser.add_argument("--page-sizes", default="1000,default",
                        help="provider page sizes; 'default' = the operator's default "
                             "(default: 1000,default)")  # fmt: skip
    parser.add_argument("--impls", default=",".join(IMPLS), help=f"any of {','.join(IMPLS)} (default: all)")
    parser.add_argument("--json-out", default=None,
                        help="also write the table's rows to this JSON file (benchmarks/plots.py reads it)")
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--dataset-id", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", default=TOKEN, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--airflow-home", help=argparse.SUPPRESS)
    parser.add_argument("--page-size", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    page_sizes = [p.strip() for p in args.page_sizes.split(",") if p.strip()]
    print(f"# dataset streaming benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average at start {load_average()}")  # fmt: skip
    tmp = tempfile.mkdtemp(prefix="bench-dataset-")
    home = tempfile.mkdtemp(prefix="bench-airflow-home-")
    rows = []
    try:
        with EmulatorProcess() as emulator:
            cells = [("provider", p) for p in page_sizes if "provider" in impls]
            cells += [(impl, "default") for impl in IMPLS[1:] if impl in impls]
            warm_up = emulator.add_dataset(10)["id"]
            for impl, page in cells:  # fills the bytecode cache (see bench_env); not measured
                run_one(emulator, impl, warm_up, page, tmp, home)
            for size in sizes:
                dataset_id = emulator.add_dataset(size)["id"]
                for impl, page in cells:
                    runs = []
                    for _ in range(args.repeat):
                        r = run_one(emulator, impl, dataset_id, page, tmp, home)
                        if r["items"] != size or not r["first_id_ok"]:
                            raise RuntimeError(
                                f"{impl} wrote {r['items']} items of {size} (first id ok: {r['first_id_ok']})"
                            )
                        runs.append(r)
                        print(f"#   {impl} page {r['page_size'] or 1000} {size:,}: {size / r['seconds']:,.0f} items/s, "
                              f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
                    median = statistics.median(r["seconds"] for r in runs)
                    rows.append([
                        impl, runs[0]["page_size"] or "1000 (client default)", size, median, size / median,
                        statistics.median(r["first_s"] for r in runs),
                        statistics.median(r["cpu_s"] for r in runs), max(r["peak_rss_mb"] for r in runs),
                        max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs), runs[0]["bytes"] / 1e6,
                        statistics.median(r["emu_cpu_s"] for r in runs) / median, load_average(),
                    ])  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    print()
    print(f"## Dataset -> JSON Lines file (median of {args.repeat}; RSS = largest of the runs)")
    headers = [
        "implementation", "page size", "items", "seconds", "items/s", "first page s", "CPU s", "peak RSS MB",
        "RSS growth MB", "file MB", "emulator cores", "load avg 1/5/15",
    ]  # fmt: skip
    print(table(headers, rows))
    print(f"\nload average at end: {load_average()}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([dict(zip(headers, row, strict=True)) for row in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
