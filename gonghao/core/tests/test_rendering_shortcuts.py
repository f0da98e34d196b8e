"""Two rendering shortcuts give exactly what Django gives: select boxes written in Python
(core/forms_renderer.py) and record links reversed once (core/links.py)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse, set_script_prefix

from gonghao.core.forms_renderer import FormRenderer
from gonghao.core.links import record_url


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "Ä & <b>"), ("q", 'say "hi"')])
    grouped = forms.ChoiceField(
        choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("other", "Other")]
    )
    several = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    numbers = forms.TypedChoiceField(choices=[(10, "ten"), (20, "twenty")], coerce=int)


def normalised(html: str) -> str:
    # The stock templates leave an empty line after each option (their include's newline).
    return re.sub(r"\n\s*\n", "\n", str(html)).strip()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"plain": "a", "grouped": "pear", "several": ["1", "3"], "numbers": "20"},
        {"plain": 'x"><script>', "several": ["<b>"]},
    ],
)
def test_selects_are_written_as_django_writes_them(data):
    form = Everything(data or None)
    stock, ours = DjangoTemplates(), FormRenderer()
    for field in form:
        attrs = {"class": "form-select", "data-x": 'a"b', "required": True, "disabled": False}
        widget = field.field.widget
        context = widget.get_context(field.html_name, field.value(), {**attrs, "id": field.auto_id})
        expected = normalised(stock.render(widget.template_name, context))
        assert normalised(ours.render(widget.template_name, context)) == expected
        assert "<script>" not in expected


def test_record_links_are_those_reverse_gives():
    for name in ("customer_detail", "opportunity_detail", "employee_request_detail"):
        for pk in (1, 42, 10**12):
            assert record_url(name, pk) == reverse(name, args=[pk])
    try:
        set_script_prefix("/crm/")
        assert record_url("customer_detail", 7) == reverse("customer_detail", args=[7])
        assert record_url("customer_detail", 7).startswith("/crm/")
    finally:
        set_script_prefix("/")
