"""The exactly-once start algorithm, with scripted outcomes (its HTTP path is tested against the emulator)."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.errors import ApiError, ServerError, TransportError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.common.starting import start_once, task_instance_marker

POLICY = RetryPolicy(max_attempts=4, initial_wait=0, jitter=0)


class Script:
    def __init__(self, outcomes, existing=None):
        self.outcomes = list(outcomes)
        self.existing = existing
        self.starts = 0
        self.lookups = 0

    def start(self):
        self.starts += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def find(self, since):
        self.lookups += 1
        return self.existing


def test_unsent_failure_is_retried_blindly():
    script = Script([TransportError("refused", request_sent=False), "run-1"])
    assert start_once(script.start, script.find, POLICY, what="x") == "run-1"
    assert (script.starts, script.lookups) == (2, 0)


def test_ambiguous_failure_adopts_the_run_instead_of_starting_again():
    script = Script([TransportError("reset", request_sent=True)], existing="run-1")
    assert start_once(script.start, script.find, POLICY, what="x") == "run-1"
    assert (script.starts, script.lookups) == (1, 1)


def test_ambiguous_failure_with_no_run_found_starts_again():
    script = Script([ServerError(502, None, "bad gateway", platform="P", method="POST", path="/r"), "run-2"])
    assert start_once(script.start, script.find, POLICY, what="x") == "run-2"
    assert (script.starts, script.lookups) == (2, 1)


def test_giving_up_still_checks_for_a_created_run():
    script = Script([TransportError("reset", request_sent=True)] * 4)
    with pytest.raises(TransportError):
        start_once(script.start, script.find, POLICY, what="x")
    assert script.starts == 4 and script.lookups == 4


def test_client_errors_are_not_retried():
    script = Script([ApiError(400, "invalid-input", "bad", platform="P", method="POST", path="/r")])
    with pytest.raises(ApiError):
        start_once(script.start, script.find, POLICY, what="x")
    assert (script.starts, script.lookups) == (1, 0)


def test_task_instance_marker_is_stable_per_task_instance_and_distinct_between_them():
    from types import SimpleNamespace

    def ti(**changes):
        fields = {"dag_id": "d", "task_id": "t", "run_id": "manual__1", "map_index": -1, "try_number": 1}
        return SimpleNamespace(**{**fields, **changes})

    marker = task_instance_marker(ti())
    assert marker == task_instance_marker(ti(try_number=3)) and marker.startswith("ti-") and len(marker) == 23
    assert marker == task_instance_marker(ti(map_index=None))  # unmapped, whatever the line calls it
    others = {task_instance_marker(ti(**{k: v})) for k, v in
              {"dag_id": "e", "task_id": "u", "run_id": "manual__2", "map_index": 0}.items()}
    assert len(others) == 4 and marker not in others
    assert task_instance_marker(object()) is None
