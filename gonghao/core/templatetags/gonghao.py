"""Template helpers: Bootstrap classes on form widgets, audit value display."""

from __future__ import annotations

import re

from django import template

from gonghao.core.links import record_url as _record_url

register = template.Library()


@register.filter
def bootstrap(field):
    """Render a bound field with the Bootstrap class its widget needs."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "")
    if getattr(widget, "option_template_name", None) and input_type in ("checkbox", "radio"):
        # A list of checkboxes or radios: Django would put the class on the wrapping <div> as
        # well, which Bootstrap then draws as one tiny box over the rest of the form.
        return field.as_widget(attrs={"class": "option-list"})
    if input_type == "select":
        css = "form-select"
    elif input_type in ("checkbox", "radio"):
        css = "form-check-input"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.simple_tag
def record_url(name, pk):
    """`{% url name pk %}` for the rows of a list: the URL pattern is reversed once."""
    return _record_url(name, pk)


@register.filter
def show_value(value):
    if value is None or value == "":
        return "—"
    return value


@register.filter
def drop_empty_items(html):
    """Remove empty <li></li> (validators that are switched off give no help text)."""
    return re.sub(r"<li>\s*</li>", "", str(html or ""))
