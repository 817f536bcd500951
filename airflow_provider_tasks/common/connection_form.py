"""The platforms' connection forms for Airflow lines that read them from the hook, built from the provider-info
dict (``get_provider_info``), the one source of each form (Airflow 3.2+ reads it there)."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, DECLARATIVE_CONNECTION_FORM

HookClass = TypeVar("HookClass", bound=type)


def _connection_type(conn_type: str) -> dict[str, Any]:
    from airflow_provider_tasks import get_provider_info

    entries: list[dict[str, Any]] = get_provider_info()["connection-types"]
    return next((entry for entry in entries if entry["connection-type"] == conn_type), {})


def ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """Hidden, relabelled and placeholder fields of ``conn_type``'s form, in the hook-method shape. Airflow 2.x keeps
    Extra shown: its Test button reads Extra's JSON editor, which exists only if Extra was shown at page load."""
    form = _connection_type(conn_type).get("ui-field-behaviour", {})
    if not form:
        return {}
    return {
        "hidden_fields": [field for field in form.get("hidden-fields", []) if AIRFLOW_V_3_0_PLUS or field != "extra"],
        "relabeling": dict(form.get("relabeling", {})),
        "placeholders": dict(form.get("placeholders", {})),
    }


def connection_form_widgets(conn_type: str) -> dict[str, Any]:
    """The form's extra fields (``verify``) as WTForms text fields, with Flask-AppBuilder's widget where installed
    (2.11; 3.0/3.1 read only label and description). ImportError (Airflow logs and skips it) without WTForms."""
    string_field = importlib.import_module("wtforms").StringField
    try:
        text_widget = importlib.import_module("flask_appbuilder.fieldwidgets").BS3TextFieldWidget
        widget: dict[str, Any] = {"widget": text_widget()}
    except ImportError:
        widget = {}
    fields = _connection_type(conn_type).get("conn-fields", {})
    return {
        name: string_field(field["label"], description=field.get("description", ""), **widget)
        for name, field in fields.items()
    }


def with_connection_form(hook_class: HookClass) -> HookClass:
    """Give a platform hook class its own ``get_ui_field_behaviour()`` and, before 3.2,
    ``get_connection_form_widgets()``: Airflow reads them only from the class's own ``__dict__``, not a base's."""
    behaviour = classmethod(lambda cls: ui_field_behaviour(cls.conn_type))
    setattr(hook_class, "get_ui_field_behaviour", behaviour)  # noqa: B010
    if not DECLARATIVE_CONNECTION_FORM:
        widgets = classmethod(lambda cls: connection_form_widgets(cls.conn_type))
        setattr(hook_class, "get_connection_form_widgets", widgets)  # noqa: B010
    return hook_class
