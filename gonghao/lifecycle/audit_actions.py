"""Audit action codes of onboarding requests, with their summaries."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

REQUEST_CREATE = register(
    "employee_request.create",
    _("Filed onboarding request #%(request)s for %(name)s (工号 %(employee_id)s)"),
)
REQUEST_UPDATE = register(
    "employee_request.update",
    _("Edited and resubmitted onboarding request #%(request)s (工号 %(employee_id)s)"),
)
REQUEST_APPROVE = register(
    "employee_request.approve",
    _("Approved onboarding request #%(request)s: 工号 %(employee_id)s is active"),
)
REQUEST_REJECT = register(
    "employee_request.reject",
    _("Rejected onboarding request #%(request)s; 工号 %(employee_id)s retired"),
)
REQUEST_RETURN = register(
    "employee_request.return",
    _("Sent onboarding request #%(request)s (工号 %(employee_id)s) back for changes"),
)
REQUEST_WITHDRAW = register(
    "employee_request.withdraw",
    _("Withdrew onboarding request #%(request)s; 工号 %(employee_id)s retired"),
)
