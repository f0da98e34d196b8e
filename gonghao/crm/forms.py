"""Web forms of the CRM; fields a role hides are removed before the form is shown."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .constants import CustomerKind, CustomerLevel, CustomerSource, CustomerStatus

# The customer list's orders (keys of queries.SORTS) as the page names them.
# The page's sort menu. "Recently added" (newest record first) is also what the API calls
# -created (newest creation time first): the menu offers that order once.
SORT_CHOICES = [
    ("-updated", _("Recently updated")),
    ("-added", _("Recently added")),
    ("name", _("Name A→Z")),
    ("-name", _("Name Z→A")),
    ("created", _("Oldest")),
    ("level", _("Level")),
]


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", "—"), *CustomerLevel.choices], required=False
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", "—"), *CustomerSource.choices], required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=CustomerStatus.choices)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    tags = forms.CharField(
        label=_("Tags"), max_length=300, required=False, help_text=_("Separate tags with commas.")
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False
    )

    def __init__(self, *args, hidden: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        for code in hidden:
            self.fields.pop(code.split(".", 1)[1], None)


class OwnerForm(forms.Form):
    owner = forms.CharField(label=_("New owner's 工号"), max_length=64)


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *CustomerStatus.choices], required=False
    )
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", _("Any level")), *CustomerLevel.choices], required=False
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("Any source")), *CustomerSource.choices], required=False
    )
    # Left empty, a list keeps its default order (queries.applied_sort): the most recently
    # updated first, or for a search the most recently added; the table says which applies.
    sort = forms.ChoiceField(
        label=_("Sort"),
        choices=[("", _("Default order")), *SORT_CHOICES],
        required=False,
    )
    shared = forms.ChoiceField(
        label=_("Shared"),
        choices=[("", _("All I can see")), ("with_me", _("Shared with me"))],
        required=False,
    )
