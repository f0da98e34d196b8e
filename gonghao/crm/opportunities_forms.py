"""Web forms for opportunities and pipeline stages; fields a role hides are removed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .constants import Currency


def _stage_choices(stages) -> list[tuple[str, str]]:
    return [(stage.code, str(stage)) for stage in stages]


class OpportunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty to use the stage's default."),
    )
    expected_close = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, hidden: set[str] = frozenset(), stages=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stages is not None:
            # Only on creation: later moves go through the stage control (and its history).
            self.fields["stage"] = forms.ChoiceField(
                label=_("Stage"), choices=_stage_choices(stages)
            )
            self.order_fields(["name", "stage"])
        for name in hidden:
            self.fields.pop(name, None)


class MoveForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"))

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = _stage_choices(stages)


class OpportunitySearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    closing_after = forms.DateField(
        label=_("Closing from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closing_before = forms.DateField(
        label=_("Closing until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        choices=[
            ("-updated", _("Recently updated")),
            ("name", _("Name A→Z")),
            ("close", _("Closing soonest")),
            ("-close", _("Closing latest")),
            ("-amount", _("Largest amount")),
            ("amount", _("Smallest amount")),
        ],
        required=False,
    )

    def __init__(self, *args, stages=(), hidden: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", _("Any stage")), *_stage_choices(stages)]
        if "amount" in hidden:
            self.fields["sort"].choices = [
                c for c in self.fields["sort"].choices if "amount" not in c[0]
            ]


class StageForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=50)
    name_en = forms.CharField(label=_("Name (English)"), max_length=50)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, initial=0)
    probability = forms.IntegerField(
        label=_("Default probability (%)"), min_value=0, max_value=100, initial=0
    )
    is_won = forms.BooleanField(label=_("Won"), required=False)
    is_lost = forms.BooleanField(label=_("Lost"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
