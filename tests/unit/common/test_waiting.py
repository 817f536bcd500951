"""The wait schedule shared by workers and triggers."""

from __future__ import annotations

import itertools
import time

import pytest

from airflow_provider_tasks.common.errors import CostLimitExceeded, RunTimeoutError
from airflow_provider_tasks.common.progress_log import ProgressLog
from airflow_provider_tasks.common.snapshot import Snapshot
from airflow_provider_tasks.common.waiting import MIN_POLL_GAP, Deadline, Look, Sleep, poll_schedule, wait_steps


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
    progress = ProgressLog(log, "Lobstr.io", clock=lambda: now[0])
    progress.record(snap(progress="0 results"))  # first look: logged at once
    now[0] = 10
    progress.record(snap(progress="5 results"))  # changed, but within the minute
    now[0] = 59.9
    progress.record(snap(progress="9 results"))
    assert [line for _, line in log.lines] == ["Lobstr.io run r1 is RUNNING (0 results)"]
    now[0] = 60
    progress.record(snap(progress="9 results"))  # a minute later the latest state is told
    now[0] = 200
    progress.record(snap(progress="9 results"))  # nothing changed: nothing to say
    assert [line for _, line in log.lines][1:] == ["Lobstr.io run r1 is RUNNING (9 results)"]


def test_watcher_says_nothing_when_the_first_look_finds_the_run_ended():
    log = Log()
    progress = ProgressLog(log, "Apify", clock=lambda: 0.0)
    progress.record(snap("SUCCEEDED", terminal=True))
    assert log.lines == []


def test_watcher_warns_once_per_unknown_status():
    log = Log()
    now = [0.0]
    progress = ProgressLog(log, "Apify", clock=lambda: now[0])
    for _ in range(3):
        now[0] += 100
        progress.record(snap("RESURRECTING", unknown=True))
    warnings = [line for level, line in log.lines if level == "warning"]
    assert len(warnings) == 1 and "'RESURRECTING'" in warnings[0] and "does not know" in warnings[0]


# -- the sans-IO waiting plan: the test is its driver, so nothing sleeps --------------------------


def play(plan, answers):
    """Drive ``plan``: a Sleep is noted and answered with None, a Look with the next answer."""
    steps, answer = [], None
    try:
        while True:
            step = plan.send(answer)
            steps.append(step)
            answer = next(answers) if isinstance(step, Look) else None
    except StopIteration as done:
        return steps, done.value


def test_plan_looks_until_the_run_is_terminal_and_returns_that_look():
    ended = snap("SUCCEEDED", terminal=True)
    plan = wait_steps(Deadline(None), platform="Apify", interval=60, long_poll=True, window=60)
    steps, last = play(plan, iter([snap(), snap(), ended]))
    assert last is ended
    looks = [step for step in steps if isinstance(step, Look)]
    assert len(looks) == 3 and 57 <= looks[0].server_wait <= 60 and looks[1].server_wait == 60
    # answered at once (no server held them), so each next look waits out the rest of its gap
    assert [type(step) for step in steps] == [Look, Sleep, Look, Sleep, Look]
    assert 56 <= steps[1].seconds <= 60 and 59 <= steps[3].seconds <= 60


def test_plan_sleeps_between_plain_polls_and_right_after_a_look_it_was_told_of():
    plan = wait_steps(Deadline(None), platform="Apify", interval=5, long_poll=False, just_looked=True)
    steps, _ = play(plan, iter([snap(), snap("SUCCEEDED", terminal=True)]))
    assert [type(step) for step in steps] == [Sleep, Look, Sleep, Look]
    assert all(0 < step.seconds <= 5 for step in steps if isinstance(step, Sleep))
    assert all(step.server_wait == 0 for step in steps if isinstance(step, Look))


def test_plan_raises_the_timeout_with_the_last_status_once_the_deadline_passes():
    plan = wait_steps(Deadline(time.time() - 1), platform="Apify", interval=60, long_poll=True, window=60)
    with pytest.raises(RunTimeoutError, match="last status RUNNING"):
        play(plan, iter([snap()]))


def test_plan_stops_at_the_first_answer_over_the_cost_limit():
    costly = Snapshot("r1", "RUNNING", False, False, None, None, cost=2.5, cost_unit="USD")
    plan = wait_steps(Deadline(None), platform="Apify", interval=60, long_poll=True, window=60, cost_limit=1.0)
    with pytest.raises(CostLimitExceeded):
        play(plan, iter([costly]))
