"""Web pages of access reviews (campaigns, my queue, the report and its CSV) and of
role-change requests (list, form, one request and its actions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gonghao.access import services as access
from gonghao.accounts import services as accounts
from gonghao.core import home
from gonghao.core.csv_export import render_csv
from gonghao.core.errors import GonghaoError, NotFound, ValidationFailed
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    permission_required,
    querystring_without_page,
)

from . import reviews, role_requests
from .access_forms import CampaignForm, DecisionForm, RejectForm, RoleRequestForm
from .access_models import CampaignStatus, Decision, RoleChangeRequest, RoleRequestStatus
from .access_permissions import REVIEW_MANAGE, ROLE_REQUEST_APPROVE
from .usage import grants_of, last_used

_CAMPAIGN_FIELDS = {"department_id": "department"}


def _with_last_use(items) -> list:
    items = list(items)
    used = last_used(grants_of(items))
    for item in items:
        item.last_used_at = used.get(item.grant_id)
    return items


# --- access reviews ----------------------------------------------------------------------------


@login_required
@domain_errors_as_pages
def review_list(request: HttpRequest):
    status = request.GET.get("status", "")
    queryset = reviews.with_counts(reviews.restrict_campaigns(request.user))
    if status in CampaignStatus.values:
        queryset = queryset.filter(status=status)
    page = paginate(request, queryset)
    for campaign in page:
        campaign.counts = reviews.counts_of(campaign)
    pending = reviews.items_for_reviewer(request.user, decision=Decision.PENDING)
    return render(
        request,
        "lifecycle/review_list.html",
        {
            "page": page,
            "status": status,
            "statuses": CampaignStatus.choices,
            "querystring": querystring_without_page(request),
            "can_manage": access.has_permission(request.user, REVIEW_MANAGE),
            "my_pending": pending.filter(campaign__status=CampaignStatus.OPEN).count(),
        },
    )


@permission_required(REVIEW_MANAGE)
@domain_errors_as_pages
def review_create(request: HttpRequest):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = reviews.start_campaign(
                actor=request.user,
                name=data["name"],
                scope=data["scope"],
                department=data["department"],
                role=data["role"],
                due_date=data["due_date"],
                undecided_default=data["undecided_default"],
                repeat=data["repeat"],
            )
        except ValidationFailed as error:
            error.field_errors = {
                _CAMPAIGN_FIELDS.get(k, k): v for k, v in error.field_errors.items()
            }
            apply_field_errors(form, error)
        else:
            messages.success(request, _("The access review has started."))
            return redirect("access_review_detail", campaign_id=campaign.pk)
    return render(request, "lifecycle/review_form.html", {"form": form})


@login_required
@domain_errors_as_pages
def review_detail(request: HttpRequest, campaign_id: int):
    campaign = reviews.get_campaign_for(request.user, campaign_id)
    page = paginate(request, reviews.report_items_for(request.user, campaign), per_page=50)
    page.object_list = _with_last_use(page.object_list)
    return render(
        request,
        "lifecycle/review_detail.html",
        {
            "campaign": campaign,
            "counts": reviews.counts_of(campaign),
            "page": page,
            "querystring": querystring_without_page(request),
        },
    )


@login_required
@domain_errors_as_pages
def review_report_csv(request: HttpRequest, campaign_id: int):
    campaign = reviews.get_campaign_for(request.user, campaign_id)
    rows = reviews.render_report_rows(request.user, campaign)
    response = StreamingHttpResponse(
        render_csv(rows[0], rows[1:]), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="access-review-{campaign.pk}.csv"'
    return response


@login_required
@domain_errors_as_pages
def review_queue(request: HttpRequest):
    """The reviewer's queue; one form decides every ticked item (keep or revoke)."""
    decision = request.GET.get("decision", Decision.PENDING)
    queryset = reviews.items_for_reviewer(
        request.user, decision=decision if decision in Decision.values else None
    )
    page = paginate(request, queryset, per_page=50)
    page.object_list = _with_last_use(page.object_list)
    pending_ids = [i.pk for i in page.object_list if i.decision == Decision.PENDING]
    form = DecisionForm(request.POST or None, item_ids=pending_ids)
    if request.method == "POST":
        form.fields["items"].choices = [(pk, str(pk)) for pk in _posted_ids(request)]
        if form.is_valid():
            data = form.cleaned_data
            try:
                decided = reviews.decide_items(
                    data["items"],
                    actor=request.user,
                    decision=data["decision"],
                    comment=data["comment"],
                )
            except ValidationFailed as error:
                error.field_errors = {
                    ("items" if k == "item_ids" else k): v for k, v in error.field_errors.items()
                }
                apply_field_errors(form, error)
            except GonghaoError as error:
                if isinstance(error, NotFound):
                    raise
                form.add_error(None, str(error.message))
            else:
                messages.success(request, _("%(count)s items decided.") % {"count": len(decided)})
                return redirect(request.get_full_path())
    return render(
        request,
        "lifecycle/review_queue.html",
        {
            "page": page,
            "form": form,
            "decision": decision,
            "decisions": Decision.choices,
            "querystring": querystring_without_page(request),
        },
        status=400 if form.errors else 200,
    )


def _posted_ids(request: HttpRequest) -> list[int]:
    found = []
    for raw in request.POST.getlist("items"):
        if raw.isdigit() and len(raw) < 19:
            found.append(int(raw))
    return found


# --- role-change requests ----------------------------------------------------------------------


@login_required
@domain_errors_as_pages
def role_request_list(request: HttpRequest):
    status = request.GET.get("status", "")
    queryset = role_requests.list_requests_for(
        request.user, status=status if status in RoleRequestStatus.values else None
    )
    return render(
        request,
        "lifecycle/role_request_list.html",
        {
            "page": paginate(request, queryset),
            "status": status,
            "statuses": RoleRequestStatus.choices,
            "querystring": querystring_without_page(request),
        },
    )


@login_required
@domain_errors_as_pages
def role_request_create(request: HttpRequest):
    role_requests.refuse_unless_may_file_any(request.user)
    initial = {"employee_id": request.GET.get("employee", ""), "role": request.GET.get("role")}
    form = RoleRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            employee = accounts.find_employee(data["employee_id"])
            created = role_requests.file_role_request(
                actor=request.user,
                employee=employee,
                role_code=data["role"].code,
                kind=data["kind"],
                expires_at=data["expires_at"],
                justification=data["justification"],
            )
        except NotFound as error:
            form.add_error("employee_id", str(error.message))
        except GonghaoError as error:
            if isinstance(error, ValidationFailed) and error.field_errors:
                apply_field_errors(form, error)
            elif isinstance(error, accounts.InvalidEmployeeId):
                form.add_error("employee_id", str(error.message))
            else:
                form.add_error(None, str(error.message))
        else:
            messages.success(request, _("The role-change request was filed."))
            return redirect("role_request_detail", request_id=created.pk)
    return render(request, "lifecycle/role_request_form.html", {"form": form})


@login_required
@domain_errors_as_pages
def role_request_detail(request: HttpRequest, request_id: int):
    return _render_role_request(request, role_requests.get_request_for(request.user, request_id))


def _render_role_request(
    request: HttpRequest, found: RoleChangeRequest, reject_form: RejectForm | None = None
) -> HttpResponse:
    is_open = found.status == RoleRequestStatus.SUBMITTED
    return render(
        request,
        "lifecycle/role_request_detail.html",
        {
            "req": found,
            "reject_form": reject_form or RejectForm(),
            "can_decide": is_open and access.has_permission(request.user, ROLE_REQUEST_APPROVE),
            "can_withdraw": is_open and found.requested_by_id == request.user.pk,
        },
    )


@login_required
@require_POST
@domain_errors_as_pages
def role_request_action(request: HttpRequest, request_id: int, action: str):
    found = role_requests.get_request_for(request.user, request_id)
    reject_form = RejectForm(request.POST)
    try:
        if action == "approve":
            role_requests.approve_role_request(found, actor=request.user)
            messages.success(request, _("Approved: the change is applied."))
        elif action == "withdraw":
            role_requests.withdraw_role_request(found, actor=request.user)
        elif action == "reject":
            if not reject_form.is_valid():
                return _render_role_request(request, found, reject_form=reject_form)
            role_requests.reject_role_request(
                found, actor=request.user, reason=reject_form.cleaned_data["reason"]
            )
        else:
            return render(request, "404.html", status=404)
    except GonghaoError as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, str(error.message))
    return redirect("role_request_detail", request_id=request_id)


@home.register
def home_review_queue(request: HttpRequest) -> home.HomeSection | None:
    """A reminder on the home page while the employee has access-review items to decide."""
    if not getattr(request.user, "is_authenticated", False):
        return None
    pending = reviews.items_for_reviewer(request.user, decision=Decision.PENDING).filter(
        campaign__status=CampaignStatus.OPEN
    )
    count = pending.count()
    if not count:
        return None
    first_due = pending.order_by("campaign__due_date").values_list("campaign__due_date", flat=True)
    return home.HomeSection(
        "lifecycle/_home_reviews.html", {"pending": count, "due_date": first_due.first()}
    )
