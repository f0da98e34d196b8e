"""Audit action codes of access reviews and role-change requests, with their summaries."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

REVIEW_START = register(
    "access_review.start",
    _("Started access review #%(campaign)s (%(name)s) with %(items)s items"),
)
REVIEW_DECIDE = register(
    "access_review.decide",
    _("Access review #%(campaign)s: %(decision)s role %(role)s of %(target)s"),
)
REVIEW_CLOSE = register(
    "access_review.close",
    _("Closed access review #%(campaign)s; %(undecided)s undecided items got %(default)s"),
)
REVIEW_REMIND = register(
    "access_review.remind",
    _("Reminded %(target)s of %(pending)s undecided items in access review #%(campaign)s"),
)
ROLE_REQUEST_CREATE = register(
    "role_request.create",
    _("Filed role-change request #%(request)s: %(kind)s role %(role)s for %(target)s"),
)
ROLE_REQUEST_APPROVE = register(
    "role_request.approve",
    _("Approved role-change request #%(request)s: %(kind)s role %(role)s for %(target)s"),
)
ROLE_REQUEST_REJECT = register(
    "role_request.reject",
    _("Rejected role-change request #%(request)s: %(kind)s role %(role)s for %(target)s"),
)
ROLE_REQUEST_WITHDRAW = register(
    "role_request.withdraw",
    _("Withdrew role-change request #%(request)s: %(kind)s role %(role)s for %(target)s"),
)
