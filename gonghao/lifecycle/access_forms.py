"""Web forms of access reviews and role-change requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gonghao.access.models import Role
from gonghao.org.models import Department

from .access_models import CampaignScope, Repeat, RoleRequestKind, UndecidedDefault
from .constants import MAX_REASON


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    scope = forms.ChoiceField(label=_("Review"), choices=CampaignScope.choices)
    department = forms.ModelChoiceField(
        label=_("Department (with its sub-departments)"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
    )
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), to_field_name="code", required=False
    )
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    undecided_default = forms.ChoiceField(
        label=_("At the due date, undecided grants are"),
        choices=[
            (UndecidedDefault.REVOKE, _("revoked")),
            (UndecidedDefault.KEEP, _("kept")),
        ],
    )
    repeat = forms.ChoiceField(label=_("Repeat"), choices=Repeat.choices)


class DecisionForm(forms.Form):
    items = forms.TypedMultipleChoiceField(
        label=_("Items"), coerce=int, error_messages={"required": _("Choose at least one item.")}
    )
    decision = forms.ChoiceField(choices=[("keep", _("Keep")), ("revoke", _("Revoke"))])
    comment = forms.CharField(
        label=_("Comment (required to revoke)"),
        max_length=MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, item_ids: list[int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(pk, str(pk)) for pk in item_ids or []]


class RoleRequestForm(forms.Form):
    employee_id = forms.CharField(label=_("Employee's 工号"), max_length=64)
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), to_field_name="code"
    )
    kind = forms.ChoiceField(label=_("Change"), choices=RoleRequestKind.choices)
    expires_at = forms.DateTimeField(
        label=_("Grant until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    justification = forms.CharField(
        label=_("Justification"),
        max_length=MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )
