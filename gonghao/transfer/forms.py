from django import forms
from django.utils.translation import gettext_lazy as _

from gonghao.crm.constants import CustomerLevel, CustomerStatus

from .models import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What to export"),
        choices=[
            ("customers", _("Customers")),
            ("contacts", _("Contacts")),
            ("interactions", _("Follow-ups")),
            ("opportunities", _("Opportunities")),
        ],
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("xlsx", _("Excel (.xlsx)")), ("csv", _("CSV (UTF-8)"))]
    )
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *CustomerStatus.choices], required=False
    )
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", "—"), *CustomerLevel.choices], required=False
    )
