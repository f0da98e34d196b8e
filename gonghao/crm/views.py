"""Customer pages: list and search, the customer 360 page, create, edit, delete, transfer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission, hidden_fields_for
from gonghao.accounts.services import find_employee
from gonghao.accounts.stepup import step_up_required
from gonghao.core.errors import GonghaoError, ValidationFailed
from gonghao.core.pagination import search_count_cap
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    querystring_without_page,
    render_page,
)
from gonghao.transfer.services import import_batch_of

from . import permissions as perms
from . import services
from .constants import CustomerKind, CustomerStatus
from .contacts_views import contacts_context
from .exports import export_rows, render_csv
from .forms import SORT_CHOICES, CustomerForm, CustomerSearchForm, OwnerForm
from .queries import (
    CustomerFilter,
    get_customer_for,
    listed_customers,
    present,
    sort_for,
)

AUDIT_TRAIL_LENGTH = 20


def _rows(customers, actor):
    # Choice labels translated once per page: get_FOO_display re-reads (and re-translates)
    # every choice of the field on each call, which showed in the page's profile.
    kinds = {value: str(label) for value, label in CustomerKind.choices}
    statuses = {value: str(label) for value, label in CustomerStatus.choices}
    return [
        {
            "customer": c,
            "shown": present(c, actor),
            "kind": kinds.get(c.kind, c.kind),
            "status": statuses.get(c.status, c.status),
        }
        for c in customers
    ]


def _filters_from(form: CustomerSearchForm, *, deleted: bool = False) -> CustomerFilter:
    data = form.cleaned_data if form.is_valid() else {}
    return CustomerFilter(
        q=data.get("q", ""),
        status=data.get("status", ""),
        level=data.get("level", ""),
        source=data.get("source", ""),
        sort=data.get("sort", ""),
        deleted=deleted,
        shared=data.get("shared", ""),
    )


@login_required
@domain_errors_as_pages
def customer_list(request: HttpRequest):
    deleted = request.GET.get("deleted") == "1"
    form = CustomerSearchForm(request.GET or None)
    filters = _filters_from(form, deleted=deleted)
    # A search counts its matches up to a cap ("1,000+ customers"); a plain list exactly.
    cap = search_count_cap(filters.q)
    page = paginate(request, listed_customers(request.user, filters), count_cap=cap)
    actor = request.user
    return render_page(
        request,
        "crm/customer_list.html",
        {
            "form": form,
            "page": page,
            "rows": _rows(page.object_list, actor),
            "hidden": {h.split(".", 1)[1] for h in hidden_fields_for(actor, perms.VIEW)},
            "deleted": deleted,
            "order": dict(SORT_CHOICES)[sort_for(actor, filters)],
            "querystring": querystring_without_page(request),
            "can_create": has_permission(actor, perms.CREATE),
            "can_export": has_permission(actor, perms.EXPORT),
            "can_restore": has_permission(actor, perms.RESTORE),
        },
        fragment="crm/_customer_table.html",
    )


@login_required
@domain_errors_as_pages
def customer_detail(request: HttpRequest, customer_id: int):
    """The customer 360: details and contacts in the page; follow-ups, shares and (for
    auditors) the audit trail are cards loaded with hx-get after it, each its own request, so
    the audited page read stays a fixed, small number of queries."""
    actor = request.user
    customer = get_customer_for(
        actor, customer_id, annotations={"import_batch_id": import_batch_of("customer")}
    )
    services.record_view(customer, actor=actor)

    def may(permission: str) -> bool:
        return has_permission(actor, permission) and reach_of(actor, permission).covers(
            customer.owner_id, customer.owner_department_id, customer.pk
        )

    return render(
        request,
        "crm/customer_detail.html",
        {
            "customer": customer,
            "shown": present(customer, actor),
            "can_edit": may(perms.EDIT),
            "can_delete": may(perms.DELETE),
            "can_transfer": may(perms.TRANSFER),
            "can_reveal": may(perms.VIEW_SENSITIVE),
            "can_view_audit": has_permission(actor, "audit.view"),
            # Import batches are private to whoever uploaded them: only they get the link.
            "import_batch_is_mine": customer.created_by_id == actor.pk,
            **contacts_context(actor, customer),
        },
    )


@login_required
@domain_errors_as_pages
def customer_audit_trail(request: HttpRequest, customer_id: int):
    """The audit-trail card of the customer page (audit.view holders), loaded with hx-get."""
    from gonghao.audit.queries import AuditFilter, events_for

    actor = request.user
    customer = get_customer_for(actor, customer_id)
    if not has_permission(actor, "audit.view"):
        return render(request, "403.html", status=403)
    trail = AuditFilter(target_type="crm.customer", target_id=str(customer.pk))
    return render(
        request,
        "crm/_audit_trail.html",
        {"audit_trail": list(events_for(actor, trail)[:AUDIT_TRAIL_LENGTH])},
    )


@login_required
@require_POST
@domain_errors_as_pages
@step_up_required("customer.reveal", permission=perms.VIEW_SENSITIVE)
def customer_reveal(request: HttpRequest, customer_id: int, field: str):
    try:
        values = services.reveal_fields(customer_id, actor=request.user, fields=[field])
    except ValidationFailed:
        return render(request, "404.html", status=404)
    return render(request, "crm/_revealed.html", {"value": values[field]})


@login_required
@domain_errors_as_pages
def customer_create(request: HttpRequest):
    actor = request.user
    if not has_permission(actor, perms.CREATE):
        return render(request, "403.html", status=403)
    hidden = hidden_fields_for(actor, perms.CREATE)
    form = CustomerForm(request.POST or None, hidden=hidden, initial={"status": "lead"})
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(actor=actor, data=form.cleaned_data)
            messages.success(request, _("Customer %(name)s added.") % {"name": customer.name})
            return redirect("customer_detail", customer.pk)
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(request, "crm/customer_form.html", {"form": form, "customer": None})


@login_required
@domain_errors_as_pages
def customer_edit(request: HttpRequest, customer_id: int):
    actor = request.user
    customer = get_customer_for(actor, customer_id, perms.EDIT)
    hidden = hidden_fields_for(actor, perms.EDIT)
    shown = present(customer, actor, permission=perms.EDIT, reveal=())
    # Masked personal data is not put into the form: an unchanged field keeps its value.
    initial = {k: v for k, v in shown.items() if k not in ("phone", "email", "id_number")}
    form = CustomerForm(request.POST or None, hidden=hidden, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {
            k: v
            for k, v in form.cleaned_data.items()
            if not (k in ("phone", "email", "id_number") and v == "")
        }
        try:
            services.update_customer(customer_id, actor=actor, data=data)
            messages.success(request, _("Customer saved."))
            return redirect("customer_detail", customer_id)
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(
        request, "crm/customer_form.html", {"form": form, "customer": customer, "masked": shown}
    )


@login_required
@require_POST
@domain_errors_as_pages
def customer_delete(request: HttpRequest, customer_id: int):
    customer = services.delete_customer(customer_id, actor=request.user)
    messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.name})
    return redirect("customer_list")


@login_required
@require_POST
@domain_errors_as_pages
def customer_restore(request: HttpRequest, customer_id: int):
    customer = services.restore_customer(customer_id, actor=request.user)
    messages.success(request, _("Customer %(name)s restored.") % {"name": customer.name})
    return redirect("customer_detail", customer.pk)


@login_required
@domain_errors_as_pages
@step_up_required("customer.transfer", permission=perms.TRANSFER)
def customer_transfer(request: HttpRequest, customer_id: int):
    actor = request.user
    customer = get_customer_for(actor, customer_id, perms.TRANSFER)
    form = OwnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_owner = find_employee(form.cleaned_data["owner"])
            services.transfer_customer(customer_id, actor=actor, new_owner=new_owner)
            messages.success(request, _("Customer transferred to %(who)s.") % {"who": new_owner})
            return redirect("customer_detail", customer_id)
        except GonghaoError as error:
            if isinstance(error, ValidationFailed):
                apply_field_errors(form, error)
            else:
                form.add_error("owner", str(error.message))
    return render(request, "crm/customer_transfer.html", {"form": form, "customer": customer})


def _downloading(request: HttpRequest) -> bool:
    return request.GET.get("download") == "csv"


@login_required
@domain_errors_as_pages
@step_up_required("customer.export", permission=perms.EXPORT, when=_downloading)
def customer_export(request: HttpRequest):
    actor = request.user
    if not has_permission(actor, perms.EXPORT):
        return render(request, "403.html", status=403)
    form = CustomerSearchForm(request.GET or None)
    if request.GET.get("download") == "csv":
        header, rows = export_rows(actor, _filters_from(form))
        response = StreamingHttpResponse(
            render_csv(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="customers.csv"'
        return response
    return render(request, "crm/customer_export.html", {"form": form})
