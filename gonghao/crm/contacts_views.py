"""Pages for contacts and follow-ups: contact forms, audited reveal, the timeline, my follow-ups."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission
from gonghao.accounts.stepup import step_up_required
from gonghao.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghao.core.views import apply_field_errors, domain_errors_as_pages

from . import contacts, followups
from . import permissions as perms
from .constants import InteractionKind
from .models import Contact, Customer
from .queries import get_customer_for, require_any_access

TIMELINE_LENGTH = 50

# --- forms ------------------------------------------------------------------------------------


class ContactForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    wechat = forms.CharField(label=gettext_lazy("WeChat ID"), max_length=64, required=False)
    is_primary = forms.BooleanField(label=gettext_lazy("Primary contact"), required=False)
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=InteractionKind.choices)
    contact_id = forms.ChoiceField(label=gettext_lazy("Contact"), required=False)
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Leave empty for now."),
    )
    content = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    outcome = forms.CharField(label=gettext_lazy("Outcome"), max_length=300, required=False)
    next_follow_up = forms.DateField(
        label=gettext_lazy("Next follow-up"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, customer: Customer, contacts: list[Contact] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        live = contacts
        if live is None:
            live = Contact.objects.filter(customer=customer, deleted_at__isnull=True)
        self.fields["contact_id"].choices = [("", "—"), *((c.pk, c.name) for c in live)]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["contact_id"] = int(data["contact_id"]) if data.get("contact_id") else None
        return data


# --- shared context ---------------------------------------------------------------------------


def may(actor: Any, customer: Customer, permission: str) -> bool:
    """The actor holds `permission` and its scope covers this customer."""
    return has_permission(actor, permission) and reach_of(actor, permission).covers(
        customer.owner_id, customer.owner_department_id, customer.pk
    )


def contacts_context(actor: Any, customer: Customer) -> dict[str, Any]:
    """The contacts block of the customer 360 page (personal data masked).

    `customer` comes from get_customer_for: visibility is checked once per page.
    """
    live = contacts.live_contacts(customer)
    return {
        "contacts": [{"contact": c, "shown": contacts.present_contact(c)} for c in live],
        "can_edit_contacts": may(actor, customer, perms.EDIT),
        "can_reveal_contacts": may(actor, customer, perms.VIEW_SENSITIVE),
    }


def timeline_context(
    actor: Any,
    customer: Customer,
    form: InteractionForm | None = None,
    *,
    contacts: list[Contact] | None = None,
) -> dict[str, Any]:
    """The timeline fragment's context: the latest interactions and the record form.

    `customer` comes from get_customer_for: visibility is checked once per page; `contacts`,
    when the page has read them already, fill the form's choices without reading them again.
    """
    timeline = followups.interactions_of(customer)
    can_record = has_permission(actor, perms.INTERACTION_CREATE)
    if can_record and form is None:
        form = InteractionForm(
            customer=customer, contacts=contacts, initial={"kind": InteractionKind.CALL}
        )
    return {
        "customer": customer,
        "interactions": list(timeline[:TIMELINE_LENGTH]),
        "interaction_count": timeline.count(),
        "can_record": can_record,
        "interaction_form": form if can_record else None,
        "me": actor,
    }


# --- contacts ---------------------------------------------------------------------------------


def _back_to(customer_id: int, anchor: str):
    response = redirect("customer_detail", customer_id)
    response["Location"] += f"#{anchor}"
    return response


@login_required
@domain_errors_as_pages
def contact_create(request: HttpRequest, customer_id: int):
    actor = request.user
    customer = get_customer_for(actor, customer_id, perms.EDIT)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = contacts.create_contact(customer_id, actor=actor, data=form.cleaned_data)
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return _back_to(customer_id, "contacts")
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(
        request, "crm/contact_form.html", {"form": form, "customer": customer, "contact": None}
    )


@login_required
@domain_errors_as_pages
def contact_edit(request: HttpRequest, contact_id: int):
    actor = request.user
    contact = contacts.get_contact_for(actor, contact_id, perms.EDIT)
    shown = contacts.present_contact(contact)
    # Masked personal data is not put into the form: an empty field keeps its value.
    initial = {k: v for k, v in shown.items() if k not in contacts.CONTACT_SENSITIVE}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {
            k: v
            for k, v in form.cleaned_data.items()
            if not (k in contacts.CONTACT_SENSITIVE and v == "")
        }
        try:
            contacts.update_contact(contact_id, actor=actor, data=data)
            messages.success(request, _("Contact saved."))
            return _back_to(contact.customer_id, "contacts")
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(
        request,
        "crm/contact_form.html",
        {"form": form, "customer": contact.customer, "contact": contact, "masked": shown},
    )


@login_required
@require_POST
@domain_errors_as_pages
def contact_delete(request: HttpRequest, contact_id: int):
    contact = contacts.delete_contact(contact_id, actor=request.user)
    messages.success(request, _("Contact %(name)s deleted.") % {"name": contact.name})
    return _back_to(contact.customer_id, "contacts")


@login_required
@require_POST
@domain_errors_as_pages
@step_up_required("contact.reveal", permission=perms.VIEW_SENSITIVE)
def contact_reveal(request: HttpRequest, contact_id: int, field: str):
    try:
        values = contacts.reveal_contact_fields(contact_id, actor=request.user, fields=[field])
    except ValidationFailed:
        return render(request, "404.html", status=404)
    return render(request, "crm/_revealed.html", {"value": values[field]})


# --- interactions -----------------------------------------------------------------------------


@login_required
@domain_errors_as_pages
def customer_timeline(request: HttpRequest, customer_id: int):
    """The follow-ups card of the customer page, loaded with hx-get after the page itself."""
    actor = request.user
    customer = get_customer_for(actor, customer_id)
    return render(request, "crm/_timeline.html", timeline_context(actor, customer))


@login_required
@domain_errors_as_pages
def interaction_create(request: HttpRequest, customer_id: int):
    """GET: the form page. POST: record; htmx gets the refreshed timeline fragment."""
    actor = request.user
    customer = get_customer_for(actor, customer_id)
    if not has_permission(actor, perms.INTERACTION_CREATE):
        raise PermissionDenied()
    form = InteractionForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            followups.record_interaction(customer_id, actor=actor, data=form.service_data())
            if request.htmx:
                return render(request, "crm/_timeline.html", timeline_context(actor, customer))
            messages.success(request, _("Follow-up recorded."))
            return _back_to(customer_id, "timeline")
        except ValidationFailed as error:
            apply_field_errors(form, error)
    if request.htmx:
        return render(request, "crm/_timeline.html", timeline_context(actor, customer, form))
    return render(request, "crm/interaction_form.html", {"form": form, "customer": customer})


@login_required
@require_POST
@domain_errors_as_pages
def follow_up_done(request: HttpRequest, interaction_id: int):
    try:
        interaction = followups.mark_follow_up_done(interaction_id, actor=request.user)
    except Conflict as error:
        messages.error(request, str(error.message))
        return redirect("follow_ups")
    messages.success(request, _("Follow-up marked done."))
    if request.POST.get("back") == "customer":
        return _back_to(interaction.customer_id, "timeline")
    return redirect("follow_ups")


@login_required
@domain_errors_as_pages
def follow_ups(request: HttpRequest):
    """My follow-ups: due today and overdue."""
    actor = request.user
    require_any_access(actor)
    return render(request, "crm/followups.html", followups.follow_up_lists(actor, limit=200))
