"""Airflow discovers the provider through its entry point, with the declarative connection form."""

from __future__ import annotations

import importlib

from airflow_provider_tasks import get_provider_info
from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS


def test_every_listed_module_and_class_imports():
    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"] + [c["hook-class-name"] for c in info["connection-types"]]:
        module, _, name = path.rpartition(".")
        assert getattr(importlib.import_module(module), name)


def test_providers_manager_sees_hook_link_and_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-tasks" in manager.providers
    assert manager.hooks["apify"].hook_class_name == "airflow_provider_tasks.apify.hooks.ApifyHook"
    assert "airflow_provider_tasks.apify.links.ApifyRunLink" in manager.extra_links_class_names
    form = manager.field_behaviours["apify"]
    assert form["relabeling"]["password"] == "API token" and "login" in form["hidden_fields"]


def test_hooks_offer_the_same_form_for_lines_that_read_it_from_the_hook():
    from airflow_provider_tasks.apify.hooks import ApifyHook
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

    forms = {entry["connection-type"]: entry["ui-field-behaviour"] for entry in get_provider_info()["connection-types"]}
    for hook in (ApifyHook, LobstrHook):
        assert "get_ui_field_behaviour" in hook.__dict__  # Airflow looks only at the class itself
        behaviour = hook.get_ui_field_behaviour()
        form = forms[hook.conn_type]
        hidden = form["hidden-fields"] if AIRFLOW_V_3_0_PLUS else [f for f in form["hidden-fields"] if f != "extra"]
        assert behaviour == {
            "hidden_fields": hidden,
            "relabeling": form["relabeling"],
            "placeholders": form["placeholders"],
        }


def test_extra_is_shown_on_airflow_2_so_its_test_button_works():
    """Airflow 2.11's Test button reads the Extra box's JSON editor, which a hidden Extra lacks."""
    from airflow_provider_tasks.apify.hooks import ApifyHook
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

    for hook in (ApifyHook, LobstrHook):
        hidden = hook.get_ui_field_behaviour()["hidden_fields"]
        assert ("extra" in hidden) is AIRFLOW_V_3_0_PLUS, hidden


def test_run_link_points_at_the_console_and_is_on_every_run_class():
    from airflow_provider_tasks.apify.links import ApifyRunLink
    from airflow_provider_tasks.apify.operators import ApifyRunActorOperator, ApifyRunTaskOperator
    from airflow_provider_tasks.apify.sensors import ApifyRunSensor

    assert ApifyRunLink().url_for("abc", None) == "https://console.apify.com/actors/runs/abc"
    for cls in (ApifyRunTaskOperator, ApifyRunActorOperator, ApifyRunSensor):
        assert any(isinstance(link, ApifyRunLink) for link in cls.operator_extra_links)
