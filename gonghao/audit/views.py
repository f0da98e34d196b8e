"""The audit log page for auditors."""

from __future__ import annotations

from django.http import HttpRequest

from gonghao.access.services import has_permission
from gonghao.core.views import paginate, permission_required, querystring_without_page, render_page

from .forms import AuditFilterForm
from .queries import AuditFilter, events_for


@permission_required("audit.view")
def event_list(request: HttpRequest):
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilter()
    if form.is_valid():
        filters = AuditFilter(**form.cleaned_data)
        events = events_for(request.user, filters)
    elif form.is_bound:
        events = events_for(request.user, filters).none()
    else:
        events = events_for(request.user, filters)
    return render_page(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": paginate(request, events, per_page=50),
            "querystring": querystring_without_page(request),
            "can_verify": has_permission(request.user, "audit.verify"),
        },
        fragment="audit/_event_table.html",
    )
