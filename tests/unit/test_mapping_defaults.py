"""Every operator and sensor of the provider can be mapped (``.partial().expand()``) with Airflow's
own defaults: a mixin whose first base is no operator once made Airflow 3.3's ``partial()`` take
``inlets=None``/``outlets=None`` for the operator's, and each mapped task failed to start
("'NoneType' object is not iterable")."""

from __future__ import annotations

import importlib
import inspect

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG, BaseOperator

from airflow_provider_tasks import get_provider_info


def _operator_classes() -> list[type]:
    info = get_provider_info()
    found = []
    for section in ("operators", "sensors"):
        for entry in info[section]:
            for name in entry["python-modules"]:
                module = importlib.import_module(name)
                found += [
                    value
                    for value in vars(module).values()
                    if inspect.isclass(value)
                    and issubclass(value, BaseOperator)
                    and value.__module__ == module.__name__
                    and not inspect.isabstract(value)
                    and not value.__name__.startswith("_")
                ]
    return found


def _own_parameter(operator_class: type) -> str:
    """A parameter of the operator itself (not of BaseOperator): one that can be mapped over."""
    base = set(inspect.signature(BaseOperator.__init__).parameters)
    for cls in operator_class.mro():
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if name not in base and name != "self" and parameter.kind is parameter.KEYWORD_ONLY:
                return name
    raise AssertionError(f"{operator_class.__name__} has no parameter of its own")


@pytest.mark.parametrize("operator_class", _operator_classes(), ids=lambda cls: cls.__name__)
def test_a_mapped_task_keeps_airflows_defaults(operator_class):
    with DAG("mapping_defaults", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        mapped = operator_class.partial(task_id="mapped").expand(**{_own_parameter(operator_class): ["a", "b"]})
    assert list(mapped.inlets) == [] and list(mapped.outlets) == [], (mapped.inlets, mapped.outlets)
