"""Pages for sharing (the shares card of the customer 360 page) and the public pool (公海)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gonghao.access.services import hidden_fields_for, require
from gonghao.accounts.services import InvalidEmployeeId, find_employee
from gonghao.core.errors import Conflict, GonghaoError, NotFound, ValidationFailed
from gonghao.core.pagination import search_count_cap
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    querystring_without_page,
    render_page,
)
from gonghao.org.models import Department

from . import contacts, pool, sharing
from . import permissions as perms
from .constants import ShareAccess
from .models import Customer
from .queries import get_customer_for, present

# --- forms ------------------------------------------------------------------------------------


class ShareForm(forms.Form):
    employee = forms.CharField(label=gettext_lazy("Employee's 工号"), max_length=64, required=False)
    department = forms.ModelChoiceField(
        label=gettext_lazy("or a department"),
        queryset=Department.objects.order_by("name"),
        required=False,
    )
    include_subdepartments = forms.BooleanField(
        label=gettext_lazy("Including its sub-departments"), required=False
    )
    access = forms.ChoiceField(label=gettext_lazy("Access"), choices=ShareAccess.choices)
    until = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Leave empty to share until revoked."),
    )


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=pool.REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PoolSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), max_length=100, required=False)


# --- the shares card --------------------------------------------------------------------------


def sharing_context(
    actor: Any, customer: Customer, form: ShareForm | None = None
) -> dict[str, Any]:
    """The shares card of the customer 360 page: live shares, and the form for who may share."""
    can_share = sharing.may_share(actor, customer)
    if can_share and form is None:
        form = ShareForm(initial={"access": ShareAccess.READ})
    return {
        "customer": customer,
        "shares": list(sharing.shares_of(customer)),
        "can_share": can_share,
        "share_form": form if can_share else None,
        "can_release": pool.may_release(actor, customer),
    }


def _share_from_form(actor: Any, customer_id: int, form: ShareForm) -> None:
    data = form.cleaned_data
    employee = None
    if data.get("employee"):
        try:
            employee = find_employee(data["employee"])
        except (InvalidEmployeeId, NotFound) as error:
            raise ValidationFailed(field_errors={"employee": [str(error.message)]}) from None
    sharing.share_customer(
        customer_id,
        actor=actor,
        employee=employee,
        department=data.get("department"),
        include_subdepartments=data.get("include_subdepartments", False),
        access=data["access"],
        until=data.get("until"),
    )


def _back_to_shares(customer_id: int):
    response = redirect("customer_detail", customer_id)
    response["Location"] += "#shares"
    return response


@login_required
@domain_errors_as_pages
def customer_shares_card(request: HttpRequest, customer_id: int):
    """The shares card of the customer page, loaded with hx-get after the page itself: every
    viewer sees it; the form and revoke buttons only for who may share."""
    actor = request.user
    customer = get_customer_for(actor, customer_id)
    return render(request, "crm/_shares.html", sharing_context(actor, customer))


@login_required
@domain_errors_as_pages
def customer_shares(request: HttpRequest, customer_id: int):
    """GET: the share form page. POST: share; htmx gets the refreshed card."""
    actor = request.user
    customer = get_customer_for(actor, customer_id, perms.SHARE)
    form = ShareForm(request.POST or None, initial={"access": ShareAccess.READ})
    if request.method == "POST" and form.is_valid():
        try:
            _share_from_form(actor, customer_id, form)
            if request.htmx:
                return render(request, "crm/_shares.html", sharing_context(actor, customer))
            messages.success(request, _("Customer shared."))
            return _back_to_shares(customer_id)
        except (ValidationFailed, Conflict) as error:
            apply_field_errors(form, error)
    if request.htmx:
        return render(request, "crm/_shares.html", sharing_context(actor, customer, form))
    return render(
        request,
        "crm/customer_share.html",
        {"form": form, "customer": customer, **sharing_context(actor, customer, form)},
    )


@login_required
@require_POST
@domain_errors_as_pages
def customer_share_revoke(request: HttpRequest, customer_id: int, share_id: int):
    actor = request.user
    sharing.revoke_share(customer_id, share_id, actor=actor)
    if request.htmx:
        customer = get_customer_for(actor, customer_id)
        return render(request, "crm/_shares.html", sharing_context(actor, customer))
    messages.success(request, _("Share revoked."))
    return _back_to_shares(customer_id)


# --- the public pool --------------------------------------------------------------------------


@login_required
@domain_errors_as_pages
def customer_pool(request: HttpRequest):
    actor = request.user
    require(actor, perms.CLAIM)
    form = PoolSearchForm(request.GET or None)
    text = form.cleaned_data.get("q", "") if form.is_valid() else ""
    cap = search_count_cap(text)
    page = paginate(request, pool.pool_for(actor, text), count_cap=cap)
    return render_page(
        request,
        "crm/pool.html",
        {
            "form": form,
            "page": page,
            "rows": [{"customer": c, "shown": present(c, actor)} for c in page.object_list],
            "hidden": {h.split(".", 1)[1] for h in hidden_fields_for(actor, perms.VIEW)},
            "querystring": querystring_without_page(request),
            "held": pool.held_from_pool(actor),
            "cap": settings.GONGHAO_POOL_CLAIM_CAP,
        },
        fragment="crm/_pool_table.html",
    )


@login_required
@domain_errors_as_pages
def pool_customer_detail(request: HttpRequest, customer_id: int):
    """A customer of the pool, read only and masked as in the pool's list, before claiming it.
    The read is audited as opening any customer is."""
    actor = request.user
    try:
        customer = pool.pool_customer_for(actor, customer_id)
    except NotFound as error:
        if error.code != "already_claimed":
            raise
        return render(
            request,
            "404.html",
            {
                "reason": error.message,
                "back_url": reverse("customer_pool"),
                "back_label": _("Back to the public pool"),
            },
            status=404,
        )
    pool.record_pool_view(customer, actor=actor)
    follow_ups, follow_up_count = pool.pool_follow_ups(customer)
    return render(
        request,
        "crm/pool_customer.html",
        {
            "customer": customer,
            "shown": present(customer, actor),
            "contacts": [
                {"contact": c, "shown": contacts.present_contact(c)}
                for c in pool.pool_contacts(customer)
            ],
            "follow_ups": follow_ups,
            "follow_up_count": follow_up_count,
            "held": pool.held_from_pool(actor),
            "cap": settings.GONGHAO_POOL_CLAIM_CAP,
        },
    )


@login_required
@require_POST
@domain_errors_as_pages
def customer_claim(request: HttpRequest, customer_id: int):
    try:
        customer = pool.claim_customer(customer_id, actor=request.user)
    except Conflict as error:
        messages.error(request, str(error.message))
        return redirect("customer_pool")
    messages.success(request, _("Customer %(name)s is yours now.") % {"name": customer.name})
    return redirect("customer_detail", customer.pk)


@login_required
@domain_errors_as_pages
def customer_release(request: HttpRequest, customer_id: int):
    actor = request.user
    customer = get_customer_for(actor, customer_id)
    if not pool.may_release(actor, customer):
        return render(request, "403.html", status=403)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool.release_customer(customer_id, actor=actor, reason=form.cleaned_data["reason"])
            messages.success(
                request,
                _("Customer %(name)s released to the public pool.") % {"name": customer.name},
            )
            return redirect("customer_list")
        except GonghaoError as error:
            apply_field_errors(form, error)
    return render(request, "crm/customer_release.html", {"form": form, "customer": customer})
