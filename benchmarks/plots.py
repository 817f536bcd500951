"""Draw the Performance page's plots from the benchmarks' machine-readable output.

    .venv/bin/python benchmarks/triggerer.py --sizes 100,1000 --baselines aiohttp:60,aiohttp:2 \\
        --json-out benchmarks/results/triggerer.json
    .venv/bin/python benchmarks/dataset_streaming.py --sizes 100000 --json-out benchmarks/results/dataset_streaming.json
    .venv-docs/bin/python benchmarks/plots.py       # matplotlib is in the docs toolchain

reads ``benchmarks/results/*.json`` and writes SVGs to ``docs/img/performance/``: notice latency
against pollers, CPU and peak RSS against N, requests per run-minute, and dataset throughput
against apify-client. A plot shows only what the JSON holds: no figure is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend is chosen

matplotlib.rcParams["svg.hashsalt"] = "airflow-provider-tasks"  # stable ids: the same data draws the same file

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUT = HERE.parent / "docs" / "img" / "performance"


def by_mode(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The triggerer results grouped by mode, each sorted by N."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        grouped[result["mode"]].append(result)
    return {label: sorted(rows, key=lambda r: r["n"]) for label, rows in grouped.items()}


def save(figure: Any, name: str) -> None:
    figure.tight_layout()
    figure.savefig(OUT / f"{name}.svg", metadata={"Date": None})  # no date: a rerun with the same data is no diff
    plt.close(figure)
    print(f"wrote {OUT / name}.svg")


def notice_latency(modes: dict[str, list[dict[str, Any]]]) -> None:
    """p50 and p95 of the time from a run's end to the trigger's event, at the largest N each mode ran."""
    labels, p50, p95 = [], [], []
    for label, rows in modes.items():
        largest = rows[-1]
        labels.append(f"{label}\nN={largest['n']:,}")
        p50.append(max(largest["p50"], 1e-3))
        p95.append(max(largest["p95"], 1e-3))
    figure, axes = plt.subplots(figsize=(8, 3.6))
    positions = range(len(labels))
    axes.bar([p - 0.2 for p in positions], p50, width=0.4, label="p50")
    axes.bar([p + 0.2 for p in positions], p95, width=0.4, label="p95")
    axes.set_xticks(list(positions), labels, fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("run end → event (s, log)")
    axes.set_title("Notice latency: long-poll against pollers")
    axes.legend()
    save(figure, "notice-latency")


def cpu_and_rss(modes: dict[str, list[dict[str, Any]]]) -> None:
    figure, (cpu, rss) = plt.subplots(1, 2, figsize=(9, 3.6))
    for label, rows in modes.items():
        ns = [r["n"] for r in rows]
        cpu.plot(ns, [r["cpu_cores"] for r in rows], marker="o", label=label)
        rss.plot(ns, [r["peak_rss_mb"] for r in rows], marker="o", label=label)
    for axes, title, unit in ((cpu, "CPU of the trigger process", "cores"), (rss, "Peak RSS", "MB")):
        axes.set_xscale("log")
        axes.set_xlabel("runs waited on at once (N, log)")
        axes.set_ylabel(unit)
        axes.set_title(title)
    cpu.legend(fontsize=7)
    save(figure, "cpu-rss")


def requests_per_run(modes: dict[str, list[dict[str, Any]]]) -> None:
    figure, axes = plt.subplots(figsize=(8, 3.6))
    labels = list(modes)
    sizes = sorted({r["n"] for rows in modes.values() for r in rows})
    width = 0.8 / max(len(sizes), 1)
    for i, n in enumerate(sizes):
        values = [next((r["req_per_run_min"] for r in modes[label] if r["n"] == n), 0.0) for label in labels]
        axes.bar([p + (i - (len(sizes) - 1) / 2) * width for p in range(len(labels))], values, width=width,
                 label=f"N={n:,}")
    axes.set_xticks(list(range(len(labels))), labels, fontsize=8)
    axes.set_ylabel("requests per run-minute")
    axes.set_title("API requests while waiting")
    axes.legend()
    save(figure, "requests-per-run")


def dataset_throughput(rows: list[dict[str, Any]]) -> None:
    figure, axes = plt.subplots(figsize=(8, 3.6))
    labels = [f"{row['implementation']}\npage {row['page size']}\n{row['items']:,} items" for row in rows]
    axes.bar(range(len(rows)), [row["items/s"] for row in rows])
    axes.set_xticks(list(range(len(rows))), labels, fontsize=7)
    axes.set_ylabel("items per second")
    axes.set_title("Dataset → JSON Lines file")
    save(figure, "dataset-throughput")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    triggerer = args.results / "triggerer.json"
    if triggerer.exists():
        modes = by_mode(json.loads(triggerer.read_text()))
        notice_latency(modes)
        cpu_and_rss(modes)
        requests_per_run(modes)
    streaming = args.results / "dataset_streaming.json"
    if streaming.exists():
        dataset_throughput(json.loads(streaming.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
