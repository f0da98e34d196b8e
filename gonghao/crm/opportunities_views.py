"""Opportunity pages: list, pipeline board with htmx moves, detail with history, forms, stages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gonghao.access.services import has_permission
from gonghao.core.errors import GonghaoError, ValidationFailed
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    querystring_without_page,
    render_page,
)

from . import opportunities as opps
from .opportunities_forms import MoveForm, OpportunityForm, OpportunitySearchForm, StageForm
from .queries import CustomerFilter, get_customer_for, listed_customers


def _filters_from(form: OpportunitySearchForm) -> opps.OpportunityFilter:
    data = form.cleaned_data if form.is_valid() else {}
    return opps.OpportunityFilter(
        q=data.get("q", ""),
        stage=data.get("stage", ""),
        closing_before=data.get("closing_before"),
        closing_after=data.get("closing_after"),
        sort=data.get("sort") or "-updated",
    )


@login_required
@domain_errors_as_pages
def opportunity_list(request: HttpRequest):
    actor = request.user
    hidden = opps.hidden_for(actor)
    form = OpportunitySearchForm(request.GET or None, stages=opps.active_stages(), hidden=hidden)
    page = paginate(request, opps.opportunities_for(actor, _filters_from(form)))
    return render_page(
        request,
        "crm/opportunity_list.html",
        {
            "form": form,
            "page": page,
            "hidden": hidden,
            "querystring": querystring_without_page(request),
            "can_create": has_permission(actor, opps.CREATE),
            "can_manage": has_permission(actor, opps.MANAGE),
        },
        fragment="crm/_opportunity_table.html",
    )


def _board_context(request: HttpRequest, error: str = "") -> dict:
    actor = request.user
    columns = opps.board_for(actor)
    can_edit = has_permission(actor, opps.EDIT)
    stages = [column.stage for column in columns]
    edit_reach = opps.reach_of(actor, opps.EDIT) if can_edit else None
    for column in columns:
        for card in column.cards:
            card.movable = bool(
                edit_reach and edit_reach.covers(card.owner_id, card.owner_department_id)
            )
    return {
        "columns": columns,
        "stages": stages,
        "show_amount": "amount" not in opps.hidden_for(actor),
        "error": error,
        "can_manage": has_permission(actor, opps.MANAGE),
        "can_create": has_permission(actor, opps.CREATE),
    }


@login_required
@domain_errors_as_pages
def opportunity_board(request: HttpRequest):
    return render_page(
        request,
        "crm/opportunity_board.html",
        _board_context(request),
        fragment="crm/_opportunity_board.html",
    )


@login_required
@require_POST
@domain_errors_as_pages
def opportunity_move(request: HttpRequest, opportunity_id: int):
    """Move a card: from the board (htmx: the refreshed board) or the detail page."""
    actor = request.user
    error = ""
    try:
        opps.move_opportunity(opportunity_id, actor=actor, stage_code=request.POST.get("stage", ""))
    except ValidationFailed as failure:
        messages_ = [m for ms in failure.field_errors.values() for m in ms]
        error = " ".join(str(m) for m in messages_) or str(failure.message)
    if request.POST.get("next") == "detail":
        if error:
            messages.error(request, error)
        return redirect("opportunity_detail", opportunity_id)
    if getattr(request, "htmx", False):
        return render(request, "crm/_opportunity_board.html", _board_context(request, error))
    if error:
        messages.error(request, error)
    return redirect("opportunity_board")


@login_required
@domain_errors_as_pages
def opportunity_detail(request: HttpRequest, opportunity_id: int):
    actor = request.user
    opportunity = opps.get_opportunity_for(actor, opportunity_id)
    can_edit = opps.may(actor, opps.EDIT, opportunity)
    move_form = None
    if can_edit:
        move_form = MoveForm(initial={"stage": opportunity.stage.code}, stages=opps.active_stages())
    return render(
        request,
        "crm/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "shown": opps.present(opportunity, actor),
            "hidden": opps.hidden_for(actor),
            "history": opps.history_of(actor, opportunity_id),
            "can_edit": can_edit,
            "can_delete": opps.may(actor, opps.DELETE, opportunity),
            "move_form": move_form,
        },
    )


class _CustomerChoice(forms.Form):
    customer = forms.TypedChoiceField(label=gettext_lazy("Customer"), coerce=int)


def _form_data(form: OpportunityForm) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k != "stage"}
    if data.get("amount") is None:
        data.pop("amount", None)
    if data.get("probability") is None:
        data.pop("probability", None)
    return data


@login_required
@domain_errors_as_pages
def opportunity_create(request: HttpRequest):
    actor = request.user
    if not has_permission(actor, opps.CREATE):
        return render(request, "403.html", status=403)
    fixed_customer = None
    raw = request.GET.get("customer", "")
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            return render(request, "404.html", status=404)
        fixed_customer = get_customer_for(actor, int(raw))
    chooser = None
    if fixed_customer is None:
        chooser = _CustomerChoice(request.POST or None)
        # Read as the list page reads it (a rep's own customers and shares, each part from
        # its own index on PostgreSQL); a scope of several parts could otherwise walk the
        # whole table's name index.
        visible = listed_customers(actor, CustomerFilter(sort="name"))[0:500]
        chooser.fields["customer"].choices = [(c.pk, c.name) for c in visible]
    hidden = opps.hidden_for(actor, opps.CREATE)
    form = OpportunityForm(
        request.POST or None,
        hidden=hidden,
        stages=opps.active_stages().filter(is_won=False, is_lost=False),
        initial={"currency": "CNY"},
    )
    if request.method == "POST" and form.is_valid() and (chooser is None or chooser.is_valid()):
        customer_id = fixed_customer.pk if fixed_customer else chooser.cleaned_data["customer"]
        try:
            opportunity = opps.create_opportunity(
                actor=actor,
                customer_id=customer_id,
                data=_form_data(form),
                stage_code=form.cleaned_data.get("stage"),
            )
            messages.success(request, _("Opportunity %(name)s added.") % {"name": opportunity})
            return redirect("opportunity_detail", opportunity.pk)
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(
        request,
        "crm/opportunity_form.html",
        {"form": form, "chooser": chooser, "customer": fixed_customer, "opportunity": None},
    )


@login_required
@domain_errors_as_pages
def opportunity_edit(request: HttpRequest, opportunity_id: int):
    actor = request.user
    opportunity = opps.get_opportunity_for(actor, opportunity_id, opps.EDIT)
    hidden = opps.hidden_for(actor, opps.EDIT)
    initial = {
        k: v
        for k, v in opps.present(opportunity, actor, hidden).items()
        if k in opps.EDITABLE_FIELDS
    }
    form = OpportunityForm(request.POST or None, hidden=hidden, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        if "amount" in data and data["amount"] is None:
            data["amount"] = 0  # an emptied amount is zero, as on creation
        if "probability" in data and data["probability"] is None:
            data.pop("probability")  # an emptied probability keeps the current one
        try:
            opps.update_opportunity(opportunity_id, actor=actor, data=data)
            messages.success(request, _("Opportunity saved."))
            return redirect("opportunity_detail", opportunity_id)
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return render(
        request,
        "crm/opportunity_form.html",
        {
            "form": form,
            "chooser": None,
            "customer": opportunity.customer,
            "opportunity": opportunity,
        },
    )


@login_required
@require_POST
@domain_errors_as_pages
def opportunity_delete(request: HttpRequest, opportunity_id: int):
    opportunity = opps.delete_opportunity(opportunity_id, actor=request.user)
    messages.success(request, _("Opportunity %(name)s deleted.") % {"name": opportunity.name})
    return redirect("opportunity_list")


@login_required
@domain_errors_as_pages
def customer_opportunities(request: HttpRequest, customer_id: int):
    """Fragment for the customer page (loaded with hx-get): the opportunities the viewer sees."""
    actor = request.user
    rows = list(opps.customer_opportunities_for(actor, customer_id)[:100])
    return render(
        request,
        "crm/_customer_opportunities.html",
        {
            "rows": rows,
            "customer_id": customer_id,
            "hidden": opps.hidden_for(actor),
            "can_create": has_permission(actor, opps.CREATE),
        },
    )


@login_required
@domain_errors_as_pages
def stage_list(request: HttpRequest):
    """Configure the pipeline: the stages in order, a form to add one or change one."""
    actor = request.user
    if not has_permission(actor, opps.MANAGE):
        return render(request, "403.html", status=403)
    editing = None
    raw = request.POST.get("stage_id") or request.GET.get("edit") or ""
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            return render(request, "404.html", status=404)
        editing = opps.get_stage(int(raw))
    initial = {name: getattr(editing, name) for name in opps.STAGE_FIELDS_ALL} if editing else {}
    form = StageForm(request.POST or None, initial=initial or {"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            if editing:
                data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
                opps.update_stage(editing.pk, actor=actor, data=data)
                messages.success(request, _("Stage saved."))
            else:
                opps.create_stage(actor=actor, data=form.cleaned_data)
                messages.success(request, _("Stage added."))
            return redirect("stage_list")
        except ValidationFailed as error:
            apply_field_errors(form, error)
        except GonghaoError as error:
            form.add_error(None, str(error.message))
    return render(
        request,
        "crm/stage_list.html",
        {"form": form, "editing": editing, "stages": opps.stages_for(actor)},
    )
