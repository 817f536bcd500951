"""The wait schedule shared by workers and triggers."""

from __future__ import annotations

import itertools
import time

import pytest

from airflow_provider_tasks.common.waiting import MIN_POLL_GAP, Deadline, RunWatcher, Snapshot, poll_schedule


def test_long_poll_holds_the_whole_window_whatever_the_interval():
    for interval in (0.3, 0.5, 60):
        steps = list(itertools.islice(poll_schedule(interval=interval, long_poll=True, window=60), 4))
        assert 57 <= steps[0].server_wait <= 60 and [s.server_wait for s in steps[1:]] == [60, 60, 60]
        assert all(step.gap >= MIN_POLL_GAP for step in steps)
        if interval == 60:  # each request goes out as the previous window ends: no time unheard
            assert steps[1].gap == pytest.approx(steps[0].server_wait) and steps[2].gap == 60


def test_a_longer_interval_still_spaces_long_polls_by_the_interval():
    steps = list(itertools.islice(poll_schedule(interval=300, long_poll=True, window=60), 3))
    assert steps[1].gap == pytest.approx(300 - (60 - steps[0].server_wait)) and steps[2].gap == 300


def test_plain_polling_spaces_looks_by_the_interval_never_below_a_second():
    steps = list(itertools.islice(poll_schedule(interval=5, long_poll=False), 3))
    assert [(s.gap, s.server_wait) for s in steps] == [(5, 0), (5, 0), (5, 0)]
    assert next(poll_schedule(interval=0.2, long_poll=False)).gap == MIN_POLL_GAP


def test_waits_are_capped_by_the_deadline():
    assert Deadline(time.time() + 2).bound(60) <= 2


def snap(status="RUNNING", progress=None, unknown=False, terminal=False):
    return Snapshot("r1", status, terminal, False, None, None, unknown=unknown, progress=progress)


class Log:
    def __init__(self):
        self.lines = []

    def info(self, msg, *args):
        self.lines.append(("info", msg % args))

    def warning(self, msg, *args):
        self.lines.append(("warning", msg % args))


def test_watcher_logs_changes_at_most_once_a_minute_by_its_clock():
    now = [0.0]
    log = Log()
    watcher = RunWatcher(log, "Lobstr.io", clock=lambda: now[0])
    watcher.see(snap(progress="0 results"))  # first look: logged at once
    now[0] = 10
    watcher.see(snap(progress="5 results"))  # changed, but within the minute
    now[0] = 59.9
    watcher.see(snap(progress="9 results"))
    assert [line for _, line in log.lines] == ["Lobstr.io run r1 is RUNNING (0 results)"]
    now[0] = 60
    watcher.see(snap(progress="9 results"))  # a minute later the latest state is told
    now[0] = 200
    watcher.see(snap(progress="9 results"))  # nothing changed: nothing to say
    assert [line for _, line in log.lines][1:] == ["Lobstr.io run r1 is RUNNING (9 results)"]


def test_watcher_says_nothing_when_the_first_look_finds_the_run_ended():
    log = Log()
    watcher = RunWatcher(log, "Apify", clock=lambda: 0.0)
    watcher.see(snap("SUCCEEDED", terminal=True))
    assert log.lines == []


def test_watcher_warns_once_per_unknown_status():
    log = Log()
    now = [0.0]
    watcher = RunWatcher(log, "Apify", clock=lambda: now[0])
    for _ in range(3):
        now[0] += 100
        watcher.see(snap("RESURRECTING", unknown=True))
    warnings = [line for level, line in log.lines if level == "warning"]
    assert len(warnings) == 1 and "'RESURRECTING'" in warnings[0] and "does not know" in warnings[0]
