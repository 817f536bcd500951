"""ApifyGetRecordOperator's parameters are checked where the DAG is written, naming the field."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.apify.operators import ApifyGetRecordOperator
from airflow_provider_tasks.common.errors import ConfigurationError


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "output_path is not set: give the file to write the record to"),
        ({"output_path": "/tmp/x", "key": "a/b"}, "key must be an Apify record key: 1-256 characters"),
        ({"output_path": "/tmp/x", "push_json": "yes"}, "push_json must be True or False"),
        ({"push_json": True, "max_json_bytes": 0}, "max_json_bytes must be an integer >= 1"),
    ],
)
def test_bad_parameters_fail_at_once_naming_the_field(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        ApifyGetRecordOperator(task_id="get", **kwargs)


def test_a_templated_key_is_checked_when_it_is_rendered():
    operator = ApifyGetRecordOperator(task_id="get", key="shot-{{ ds_nodash }}.png", push_json=True)
    assert operator.key == "shot-{{ ds_nodash }}.png" and operator.store_id is None
    assert set(operator.template_fields) == {"store_id", "key", "output_path"}


@pytest.mark.parametrize("key", ["{% if params.png %}shot.png{% else %}OUTPUT{% endif %}", object()])
def test_a_key_from_a_jinja_statement_or_an_xcom_arg_waits_until_it_is_rendered(key):
    assert ApifyGetRecordOperator(task_id="get", key=key, push_json=True).key is key
