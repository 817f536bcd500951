"""The wait schedule shared by workers and triggers."""

from __future__ import annotations

import itertools
import time

from airflow_provider_tasks.common.waiting import Deadline, poll_schedule


def test_long_poll_never_sleeps_and_starts_with_a_jittered_long_poll():
    steps = list(itertools.islice(poll_schedule(Deadline(None), interval=60, long_poll=True), 4))
    assert all(step.sleep == 0 for step in steps)
    assert 30 <= steps[0].server_wait <= 60 and [s.server_wait for s in steps[1:]] == [60, 60, 60]


def test_plain_polling_looks_at_once_then_sleeps_the_interval():
    steps = list(itertools.islice(poll_schedule(Deadline(None), interval=5, long_poll=False), 3))
    assert [(s.sleep, s.server_wait) for s in steps] == [(0, 0), (5, 0), (5, 0)]


def test_waits_are_capped_by_the_deadline():
    step = next(poll_schedule(Deadline(time.time() + 2), interval=60, long_poll=True))
    assert step.server_wait <= 2
