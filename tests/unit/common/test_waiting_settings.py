"""Validation of waiting settings and JSON inputs (issue 9): each error names the field."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.validation import (
    require_finite_json,
    require_json_list_of_objects,
    require_json_object,
    require_poll_interval,
    require_positive_seconds,
)


@pytest.mark.parametrize("value", [0, -1, 0.0, timedelta(0), timedelta(seconds=-3), math.nan, math.inf, True, "60"])
def test_a_wait_limit_must_be_positive_and_finite(value):
    with pytest.raises(ConfigurationError, match=r"^timeout must be a positive number of seconds"):
        require_positive_seconds("timeout", value)


def test_a_wait_limit_accepts_seconds_and_timedeltas():
    assert require_positive_seconds("timeout", 0.5) == 0.5
    assert require_positive_seconds("timeout", timedelta(hours=1)) == 3600.0


def test_poll_interval_below_the_platform_minimum_names_the_parameter_and_the_rule():
    with pytest.raises(ConfigurationError) as caught:
        require_poll_interval("poke_interval", 1, 5, "Lobstr.io asks clients not to poll more often than every 5 s")
    assert str(caught.value) == (
        "poke_interval must be a number of seconds >= 5 (Lobstr.io asks clients not to poll more often "
        "than every 5 s), got 1"
    )
    assert require_poll_interval("poll_interval", 5, 5) == 5.0
    with pytest.raises(ConfigurationError, match="poll_interval"):
        require_poll_interval("poll_interval", math.nan, 0.1)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": math.nan}, "run_input.a"),
        ({"a": [1, {"b": [0.5, -math.inf]}]}, "run_input.a[1].b[1]"),
        ({"x": {"y": {"z": math.inf}}}, "run_input.x.y.z"),
    ],
)
def test_non_finite_numbers_are_named_by_their_path(value, path):
    with pytest.raises(ConfigurationError, match=rf"^{__import__('re').escape(path)} must be a finite number"):
        require_json_object("run_input", value)


def test_finite_json_and_templates_pass():
    require_finite_json("run_input", {"a": [1, 2.5, "{{ ds }}", None, {"b": True}]})
    require_finite_json("run_input", "{{ params.input }}")  # a template is checked once rendered
    with pytest.raises(ConfigurationError, match=r"^webhooks\[0\]\.payload\.n must be a finite number"):
        require_json_list_of_objects("webhooks", [{"payload": {"n": math.nan}}])
