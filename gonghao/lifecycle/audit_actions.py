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

# Offboarding, erasure, dormant accounts. The target is the employee unless said otherwise.
OFFBOARD_SCHEDULE = register(
    "employee.offboard.schedule",
    _("Scheduled the offboarding of %(target)s for %(effective)s (successor: %(successor)s)"),
)
OFFBOARD_CANCEL = register(
    "employee.offboard.cancel", _("Cancelled the offboarding of %(target)s due %(effective)s")
)
OFFBOARD = register(
    "employee.offboard",
    _(
        "Offboarded %(target)s: 工号 taken back, %(moved)s records handed over to "
        "%(successor)s, %(sessions)s sessions and %(tokens)s API tokens ended"
    ),
)
# The target is the moved record (customer, opportunity…), so it shows in that record's trail.
HANDOVER_MOVE = register(
    "handover.move",
    _("Handed %(kind)s %(target)s over from %(from)s to %(to)s (offboarding of %(employee_id)s)"),
)
PII_ERASE = register(
    "employee.pii_erase",
    _("Erased the personal data of departed employee %(target)s (%(fields)s)"),
)
DORMANT_DISABLE = register(
    "employee.dormant_disable",
    _("Disabled %(target)s: no login for %(days)s days"),
)
ENABLE = register("employee.enable", _("Re-enabled the account of %(target)s"))
HANDOVER_EXPORT = register(
    "handover.export", _("Exported the handover report of %(target)s (%(count)s lines)")
)
