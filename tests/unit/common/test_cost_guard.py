"""The cost guard's pure parts: parameter checks, the comparison, the trigger's plain kwargs."""

from __future__ import annotations

import json
import math

import pytest

from airflow_provider_tasks.apify.operators import ApifyRunActorOperator, ApifyRunTaskOperator
from airflow_provider_tasks.common.errors import ConfigurationError, CostLimitExceeded
from airflow_provider_tasks.common.snapshot import Snapshot, check_cost
from airflow_provider_tasks.lobstr.operators import LobstrRunSquidOperator


def snapshot(cost: float | None, *, terminal: bool = False) -> Snapshot:
    return Snapshot("r1", "RUNNING", terminal, False, None, "https://console/r1", cost=cost, cost_unit="USD")


@pytest.mark.parametrize("bad", [0, -1, 0.0, math.nan, math.inf, "5", True])
@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda v: ApifyRunTaskOperator(task_id="t", actor_task_id="demo~x", max_cost_usd=v), "max_cost_usd"),
        (lambda v: ApifyRunActorOperator(task_id="t", actor_id="demo~x", max_cost_usd=v), "max_cost_usd"),
        (lambda v: LobstrRunSquidOperator(task_id="t", squid_id="abc", max_credits=v), "max_credits"),
    ],
)
def test_a_cost_limit_must_be_a_positive_finite_number_named_in_the_error(make, field, bad):
    with pytest.raises(ConfigurationError, match=rf"^{field} must be a positive finite number \(> 0\) or None, got"):
        make(bad)


def test_a_valid_limit_becomes_the_operators_cost_limit():
    assert ApifyRunTaskOperator(task_id="t", actor_task_id="demo~x", max_cost_usd=2).cost_limit == 2.0
    assert LobstrRunSquidOperator(task_id="t", squid_id="abc", max_credits=50).cost_limit == 50.0
    assert LobstrRunSquidOperator(task_id="t", squid_id="abc").cost_limit is None


def test_check_cost_raises_only_past_the_limit_on_a_run_still_going():
    check_cost(snapshot(0.5), None, "Apify")
    check_cost(snapshot(0.5), 0.5, "Apify")  # at the limit is within it
    check_cost(snapshot(None), 0.1, "Apify")  # not reported: nothing to compare
    check_cost(snapshot(9.0, terminal=True), 0.1, "Apify")  # ended: nothing left to save
    with pytest.raises(CostLimitExceeded) as caught:
        check_cost(snapshot(0.5001), 0.5, "Apify")
    assert str(caught.value) == "Apify run r1 has cost 0.5001 USD so far, past the limit of 0.5 USD"
    assert caught.value.console_url == "https://console/r1"


def test_the_trigger_carries_the_limit_as_plain_json_and_only_when_set():
    from airflow_provider_tasks.apify.triggers import ApifyRunTrigger

    with_limit = ApifyRunTrigger(run_id="r1", conn_id="apify_default", cost_limit=0.25).serialize()[1]
    assert json.loads(json.dumps(with_limit))["cost_limit"] == 0.25
    assert "cost_limit" not in ApifyRunTrigger(run_id="r1", conn_id="apify_default").serialize()[1]
    rebuilt = ApifyRunTrigger(**with_limit)
    assert rebuilt.cost_limit == 0.25 and rebuilt.serialize() == ApifyRunTrigger(**with_limit).serialize()
