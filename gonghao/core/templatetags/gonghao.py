"""Template helpers: Bootstrap classes on form widgets, audit value display."""

from __future__ import annotations

import re

from django import template

register = template.Library()


@register.filter
def bootstrap(field):
    """Render a bound field with the Bootstrap class its widget needs."""
    input_type = getattr(field.field.widget, "input_type", "")
    if input_type == "select":
        css = "form-select"
    elif input_type in ("checkbox", "radio"):
        css = "form-check-input"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.filter
def show_value(value):
    if value is None or value == "":
        return "—"
    return value


@register.filter
def drop_empty_items(html):
    """Remove empty <li></li> (validators that are switched off give no help text)."""
    return re.sub(r"<li>\s*</li>", "", str(html or ""))
