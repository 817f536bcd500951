"""The connection forms of the platforms, for the Airflow lines that read them from the hook.

The provider-info dict (``get_provider_info``) is the one source of each form. Airflow 3.2 and
later read it there (``ui-field-behaviour`` and ``conn-fields``); earlier lines read only the
hook class's own ``get_ui_field_behaviour()`` and ``get_connection_form_widgets()``, which the
platform hooks build with these functions.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, DECLARATIVE_CONNECTION_FORM

HookClass = TypeVar("HookClass", bound=type)


def _connection_type(conn_type: str) -> dict[str, Any]:
    from airflow_provider_tasks import get_provider_info

    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == conn_type:
            found: dict[str, Any] = entry
            return found
    return {}


def ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """Hidden, relabelled and placeholder fields of ``conn_type``'s form, in the hook-method shape.

    Airflow 2.x keeps Extra visible: its ``connection_form.js`` reads the Extra box's JSON editor
    when the Test button is pressed, and that editor exists only if Extra was shown when the page
    loaded. Hidden, the button does nothing (the same happens to Airflow's own SMTP form).
    """
    form = _connection_type(conn_type).get("ui-field-behaviour", {})
    if not form:
        return {}
    hidden = list(form.get("hidden-fields", []))
    if not AIRFLOW_V_3_0_PLUS:
        hidden = [field for field in hidden if field != "extra"]
    return {
        "hidden_fields": hidden,
        "relabeling": dict(form.get("relabeling", {})),
        "placeholders": dict(form.get("placeholders", {})),
    }


def connection_form_widgets(conn_type: str) -> dict[str, Any]:
    """The extra fields of ``conn_type``'s form (``verify``) as WTForms text fields.

    Airflow 2.11's UI renders them with Flask-AppBuilder's text widget; 3.0 and 3.1 have no
    Flask-AppBuilder and only read the field's label and description. Raises ImportError (which
    Airflow logs and skips) where WTForms is not installed.
    """
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
    """Give a platform hook class its own ``get_ui_field_behaviour()`` and, before Airflow 3.2,
    ``get_connection_form_widgets()``, built from its ``conn_type``'s provider-info entry.

    Airflow reads those only from the hook class's own ``__dict__`` (inherited methods do not
    count), so each platform hook is decorated rather than the shared base given them.
    """

    def behaviour(cls: Any) -> dict[str, Any]:
        return ui_field_behaviour(cls.conn_type)

    def widgets(cls: Any) -> dict[str, Any]:
        return connection_form_widgets(cls.conn_type)

    setattr(hook_class, "get_ui_field_behaviour", classmethod(behaviour))  # noqa: B010
    if not DECLARATIVE_CONNECTION_FORM:
        setattr(hook_class, "get_connection_form_widgets", classmethod(widgets))  # noqa: B010
    return hook_class
