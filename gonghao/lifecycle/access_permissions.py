"""Permissions of access reviews and role-change requests."""

from django.utils.translation import gettext_lazy as _

from gonghao.access.catalogue import register_permission

REVIEW_MANAGE = register_permission(
    "access_review.manage", _("Start access review campaigns and read their reports")
)
ROLE_REQUEST_APPROVE = register_permission(
    "role_request.approve", _("Approve or reject role-change requests")
)
