"""Permissions of the accounts app beyond the identity basics in the access catalogue."""

from django.utils.translation import gettext_lazy as _

from gonghao.access.catalogue import register_permission

MFA_RESET = register_permission("mfa.reset", _("Reset employees' second factors"))
SESSION_MANAGE = register_permission(
    "session.manage", _("See and end other employees' sessions and API tokens")
)
