"""The lifecycle app's permissions."""

from django.utils.translation import gettext_lazy as _

from gonghao.access.catalogue import register_permission

REQUEST = register_permission(
    "employee.request", _("Request new employees for your department (onboarding)")
)
APPROVE = register_permission(
    "employee.approve", _("Approve, reject or return onboarding requests")
)
OFFBOARD = register_permission(
    "employee.offboard",
    _("Offboard employees: take the 工号 back and hand their records over"),
)
