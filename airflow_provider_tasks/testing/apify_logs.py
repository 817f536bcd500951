"""Run logs of the Apify emulator: what a run writes, on the emulator's clock, and how it is served.

``GET /v2/logs/{runId}`` (and ``GET /v2/actor-runs/{runId}/log``) answer ``text/plain``, one line
per entry, each ``<ISO timestamp> <message>`` (``raw=1`` is accepted and changes nothing here: the
official client follows logs with it and splits them at those timestamps). Only the trailing
``log_max_chars`` characters are kept (Apify keeps 5M; a test can set a small cap on the emulator).
``stream=1`` keeps the answer open and sends each line as the run writes it, ending when the run
ends (or the emulator resets or stops, or the client goes away): one future and one timer per
followed log, woken by the run's next line or, while nothing is due, once a second to notice a
client that left.

Like a run's status, its log is never stored: the lines are *computed* from the run's timeline, so
``advance`` writes every line due in the time skipped. What a run writes::

    when RUNNING starts   ACTOR: Pulling Docker image ... / Creating ... / Starting Docker container.
                          INFO  Input: <the run's input as JSON>   (a secret in the input shows here)
    during RUNNING        INFO  Progress: k/n requests handled      (n = the behaviour's log_lines,
                                                                     spread evenly)
    when RUNNING ends     SUCCEEDED: INFO  Crawl finished ... / ACTOR: Actor finished successfully.
                          FAILED:    ERROR <status message> / ACTOR: Actor exited with code 1.
                          TIMED-OUT: ACTOR: Timed out after N seconds, ...
                          ABORTED:   ACTOR: Run is being aborted.
    aborted via the API   ACTOR: Run was aborted. (at the abort; nothing planned after it is written)

A run that never leaves READY has an empty log. Following a log with nothing in it yet answers an
empty stream that ends at once, as Apify does (its official client opens the stream again after a
pause until something comes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from aiohttp import web

from airflow_provider_tasks.testing.apify_models import Run, iso
from airflow_provider_tasks.testing.ids import stable_id

LOG_MAX_CHARS = 5_000_000
"""Characters of a log Apify keeps: the trailing ones."""

CLIENT_CHECK_SECS = 1.0
"""How often a followed log that has nothing new looks whether its client went away."""

Entry = tuple[float, str]
"""A log line: the monotonic moment it is written and its message."""


def log_entries(run: Run) -> list[Entry]:
    """Every line ``run`` writes (or will write, left alone), in order; see the module docstring."""
    timeline = run.timeline
    names = [name for name, _ in timeline.phases]
    running = names.index("RUNNING")
    start = timeline.phase_end(running - 1)
    end = timeline.phase_end(running)
    entries: list[Entry] = []
    if math.isfinite(start):
        build = stable_id(f"build:{run.actor.id}")
        entries += [
            (start, f"ACTOR: Pulling Docker image of build {build} from registry."),
            (start, "ACTOR: Creating Docker container."),
            (start, "ACTOR: Starting Docker container."),
            (start, f"INFO  Input: {json.dumps(run.input, separators=(',', ':'), default=str)}"),
        ]
        count = run.behaviour.log_lines
        entries += [
            (start + (end - start) * k / (count + 1), f"INFO  Progress: {k}/{count} requests handled")
            for k in range(1, count + 1)
        ]
        entries += [(end, message) for message in _final_lines(run)]
    aborted = timeline.abort_started
    if aborted is not None:
        entries = [entry for entry in entries if entry[0] <= aborted]
        entries.append((aborted, "ACTOR: Run was aborted."))
    return entries


def _final_lines(run: Run) -> list[str]:
    outcome = run.timeline.outcome
    if outcome == "SUCCEEDED":
        return [
            f"INFO  Crawl finished: {run.behaviour.item_count} items stored.",
            "ACTOR: Actor finished successfully (exit code 0).",
        ]
    if outcome == "FAILED":
        return [f"ERROR {run.behaviour.status_message or 'Actor failed'}", "ACTOR: Actor exited with code 1."]
    if outcome == "TIMED-OUT":
        return [f"ACTOR: Timed out after {run.options.get('timeoutSecs')} seconds, stopping the Actor."]
    return ["ACTOR: Run is being aborted."]


def render(run: Run, entries: list[Entry]) -> str:
    """The lines as the API sends them: ``<timestamp> <message>\n``."""
    return "".join(f"{iso(run.wall(moment))} {message}\n" for moment, message in entries)


def written_by(entries: list[Entry], t: float) -> int:
    """How many of ``entries`` are written at time ``t``."""
    return sum(1 for moment, _ in entries if moment <= t)


def trailing(text: str, max_chars: int) -> str:
    """The trailing ``max_chars`` characters of ``text``: what Apify keeps of a long log."""
    return text[-max_chars:] if len(text) > max_chars else text


class LogFollower:
    """What a log answer needs from the emulator (its lock, clock and wake-ups), so this module does
    not import the route layer. ``current(run)`` is False once a reset dropped the run."""

    def __init__(self, server: Any, current: Callable[[Run], bool]) -> None:
        self.server = server
        self.current = current

    def snapshot(self, run: Run) -> tuple[float, list[Entry], float, bool]:
        """``(now, entries written by now, moment of the next change, whether the log is final)``."""
        with self.server.lock:
            t = self.server.clock.monotonic()
            entries = log_entries(run)
            terminal_at = run.terminal_at()
            final = t >= terminal_at or self.server.closing or not self.current(run)
        done = written_by(entries, t)
        upcoming = [moment for moment, _ in entries[done:]]
        next_change = min([terminal_at, *upcoming])
        return t, entries[:done], next_change, final

    def whole(self, run: Run, *, max_chars: int) -> str:
        _, entries, _, _ = self.snapshot(run)
        return trailing(render(run, entries), max_chars)

    async def stream(self, request: web.Request, run: Run, *, max_chars: int) -> web.StreamResponse:
        """Send what is written, then each line as it is written, until the run ends."""
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        sent = 0
        try:
            while True:
                t, entries, next_change, final = self.snapshot(run)
                if not entries:  # nothing logged yet: Apify answers an empty stream at once
                    break
                if len(entries) > sent:
                    text = render(run, entries[sent:])
                    await response.write((trailing(text, max_chars) if sent == 0 else text).encode())
                    sent = len(entries)
                if final or _gone(request):
                    break
                await self.server.wait_for_change(run.id, min(next_change - t, CLIENT_CHECK_SECS))
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):  # the client went away
            pass
        return response


def _gone(request: web.Request) -> bool:
    """True once the client closed its connection."""
    transport = request.transport
    return transport is None or transport.is_closing()
