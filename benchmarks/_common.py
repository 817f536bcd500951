"""Helpers shared by the benchmark scripts: the emulator as a separate process, its control API,
process CPU/RSS readings and plain-text tables. Standard library only, so importing this module
costs nothing that a measurement would see."""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-token-0123456789abcdef"
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


PYCACHE_PREFIX = os.path.join(tempfile.gettempdir(), "airflow-provider-tasks-bench-pycache")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for measured subprocesses: bytecode caching on, in a private cache tree.

    Sandboxes like CI often set ``PYTHONDONTWRITEBYTECODE=1``; then every import compiles from
    source, which a real deployment never does. ``PYTHONPYCACHEPREFIX`` keeps the ``.pyc`` files
    under the temp directory (the venv and the work tree stay untouched).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE_PREFIX
    env.update(extra)
    return env


def raise_open_files_limit() -> tuple[int, int]:
    """Lift the soft RLIMIT_NOFILE to the hard limit (10,000 held long-polls need 10,000 sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process (Linux ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def proc_rss_mb(pid: int | str = "self") -> float:
    """Current resident set size of a process in MB."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


def proc_peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a process in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return math.nan


def self_peak_rss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank-with-interpolation percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (readable as plain text too)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=False)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class EmulatorProcess:
    """``python -m airflow_provider_tasks.testing.apify_emulator`` on a free port of 127.0.0.1.

    Stopped (SIGTERM to its own pid, then SIGKILL after a grace period) on ``stop()``/exit.
    """

    def __init__(self, python: str = sys.executable, token: str = TOKEN, *, tls: bool = False) -> None:
        self.token = token
        command = [python, "-m", "airflow_provider_tasks.testing.apify_emulator", "--port", "0", "--token", token]
        self.proc = subprocess.Popen(
            command + (["--tls"] if tls else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
            env=bench_env(),
            preexec_fn=raise_open_files_limit,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "base_url=" not in line:
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.base_url = line.split("base_url=", 1)[1].split()[0]
        #: with ``tls``: the emulator's throwaway CA (clients trust it through the connection's ``verify``)
        self.ca_file: str | None = line.split("ca_file=", 1)[1].split()[0] if "ca_file=" in line else None
        self._ssl: ssl.SSLContext | None = None
        if self.ca_file is not None:
            self._ssl = ssl.create_default_context(cafile=self.ca_file)
        self.pid = self.proc.pid

    # -- control API (no auth) -----------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None, timeout: float = 120) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout, context=self._ssl) as response:
            return json.loads(response.read())["data"]

    def reset(self) -> None:
        self.control("POST", "/_emulator/reset")

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "/_emulator/stats")

    def runs(self) -> list[dict[str, Any]]:
        return self.control("GET", "/_emulator/runs", timeout=300)

    def add_task(self, name: str, duration_secs: float, **kwargs: Any) -> dict[str, Any]:
        return self.control("POST", "/_emulator/tasks", {"name": name, "duration_secs": duration_secs, **kwargs})

    def add_dataset(self, item_count: int) -> dict[str, Any]:
        return self.control("POST", "/_emulator/datasets", {"item_count": item_count})

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return proc_rss_mb(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_iso(value: str) -> float:
    """Epoch seconds of an API timestamp such as ``2024-01-15T09:00:00.123Z``."""
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def wait_for_line(stream: Any, expected: str, proc: subprocess.Popen[str], timeout: float = 120) -> str:
    """Read ``stream`` until a line starting with ``expected`` (raises if the process dies first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"process {proc.pid} ended (rc={proc.wait()}) before printing {expected!r}")
        if line.startswith(expected):
            return line.strip()
        sys.stderr.write(line)
    raise TimeoutError(f"no {expected!r} line within {timeout} s")
