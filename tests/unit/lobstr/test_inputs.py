"""Task inputs of LobstrRunSquidOperator, checked before any API call (pure parsing, no HTTP)."""

from __future__ import annotations

import csv
import io

import pytest

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.validation import has_template
from airflow_provider_tasks.lobstr.inputs import fingerprint, normalize_tasks, params_key, to_csv
from airflow_provider_tasks.lobstr.operators import LobstrRunSquidOperator

SQUID = "1a88c8c8d90d3cbbd068752ec21a9c09"


def test_urls_and_param_dicts_become_params_objects():
    tasks = normalize_tasks([" https://example.com/a ", {"keyword": "pizza", "location": "Paris", "max": 5}])
    assert tasks == [{"url": "https://example.com/a"}, {"keyword": "pizza", "location": "Paris", "max": 5}]


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ('["https://example.com/a", {"keyword": "pizza"}]', [{"url": "https://example.com/a"}, {"keyword": "pizza"}]),
        ("['https://example.com/a']", [{"url": "https://example.com/a"}]),  # a Python list, as Jinja renders it
        (("https://example.com/a",), [{"url": "https://example.com/a"}]),
    ],
)
def test_a_rendered_template_holding_a_list_is_read_as_one(rendered, expected):
    assert normalize_tasks(rendered) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["https://example.com/a", "example.com/b"], r"tasks\[1\] is not an http\(s\) URL: 'example.com/b'"),
        ([{"url": "ftp://example.com"}], r"tasks\[0\]\['url'\] is not an http\(s\) URL"),
        ([{"keyword": None}], r"tasks\[0\]\['keyword'\] is NoneType None"),
        ([{"keyword": ["a"]}], r"tasks\[0\]\['keyword'\] is list"),
        ([{"keyword": "  "}], r"tasks\[0\]\['keyword'\] is an empty string"),
        ([{}], r"tasks\[0\] is an empty dict"),
        ([42], r"tasks\[0\] is int 42"),
        ([], r"tasks is empty: give at least one task .*or leave tasks unset"),
        ("pizza", r"tasks must be a list of tasks .*got the string 'pizza'"),
        ({"url": "https://example.com"}, r"tasks must be a list of tasks .* not dict"),
    ],
)
def test_bad_inputs_are_named_with_what_is_allowed(value, message):
    with pytest.raises(ConfigurationError, match=message) as raised:
        normalize_tasks(value)
    assert "URL string" in str(raised.value)


def test_templates_and_xcom_args_are_left_for_rendering():
    assert has_template("{{ ti.xcom_pull('make') }}") and has_template(["{{ params.url }}"])
    assert has_template(object())  # an XComArg, say
    assert not has_template(["https://example.com", {"keyword": "pizza", "max": 3}])


def test_operator_checks_a_literal_list_when_the_dag_is_parsed():
    with pytest.raises(ConfigurationError, match=r"tasks\[0\] is not an http\(s\) URL"):
        LobstrRunSquidOperator(task_id="run", squid_id=SQUID, tasks=["nope"])
    with pytest.raises(ConfigurationError, match="replace_tasks=True needs tasks"):
        LobstrRunSquidOperator(task_id="run", squid_id=SQUID, replace_tasks=True)
    with pytest.raises(ConfigurationError, match="upload_threshold"):
        LobstrRunSquidOperator(task_id="run", squid_id=SQUID, tasks=["https://a.example"], upload_threshold=0)
    templated = LobstrRunSquidOperator(task_id="run", squid_id=SQUID, tasks="{{ ti.xcom_pull('make') }}")
    assert "tasks" in templated.template_fields


def test_csv_has_every_key_as_a_column_and_values_as_text():
    tasks = [{"url": "https://example.com/a"}, {"keyword": "pizza, thin", "location": "Paris", "open": True}]
    rows = list(csv.DictReader(io.StringIO(to_csv(tasks).decode())))
    assert rows == [
        {"url": "https://example.com/a", "keyword": "", "location": "", "open": ""},
        {"url": "", "keyword": "pizza, thin", "location": "Paris", "open": "true"},
    ]


def test_identity_ignores_key_order_and_value_types_and_fingerprint_names_the_step():
    assert params_key({"a": "1", "b": "x"}) == params_key({"b": "x", "a": 1})
    tasks = [{"url": "https://example.com/a"}]
    assert fingerprint(SQUID, tasks, False) == fingerprint(SQUID, [{"url": "https://example.com/a"}], False)
    assert fingerprint(SQUID, tasks, False) != fingerprint(SQUID, tasks, True)
    assert fingerprint(SQUID, tasks, False) != fingerprint("0" * 32, tasks, False)
