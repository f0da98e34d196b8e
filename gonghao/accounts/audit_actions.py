"""Audit action codes of the accounts app, with their summaries."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

LOGIN_SUCCEEDED = register("auth.login.succeeded", _("Logged in"))
LOGIN_FAILED = register("auth.login.failed", _("Login failed for %(target)s: %(reason)s"))
LOCKOUT = register("auth.lockout", _("工号 %(target)s locked until %(until)s after failed logins"))
LOGOUT = register("auth.logout", _("Logged out"))
SESSION_EXPIRED = register("auth.session.expired", _("Session ended: %(reason)s"))
PASSWORD_CHANGE = register("auth.password.change", _("Changed the password of %(target)s"))
PASSWORD_SET = register("auth.password.set", _("Set a one-time password for %(target)s"))
TOKEN_CREATE = register("auth.token.create", _("Created API token %(name)s"))
TOKEN_REVOKE = register("auth.token.revoke", _("Revoked API token %(name)s of %(target)s"))
EMPLOYEE_ID_ALLOCATE = register("employee_id.allocate", _("Allocated 工号 %(target)s"))
EMPLOYEE_CREATE = register("employee.create", _("Created employee %(target)s"))
EMPLOYEE_UPDATE = register("employee.update", _("Changed employee %(target)s"))
LANGUAGE_CHANGE = register(
    "employee.language", _("Set the preferred language of %(target)s to %(language)s")
)
MFA_ACTIVATED = register("auth.mfa.activated", _("Activated the second factor %(type)s"))
MFA_DEACTIVATED = register("auth.mfa.deactivated", _("Removed the second factor %(type)s"))
MFA_FAILED = register("auth.mfa.failed", _("Wrong second-factor code for %(target)s"))
MFA_RECOVERY_CODES_GENERATED = register(
    "auth.mfa.recovery_codes_generated", _("Generated new recovery codes")
)
MFA_RESET = register("auth.mfa.reset", _("Reset the second factors of %(target)s"))
PASSWORD_RESET_REQUESTED = register(
    "auth.password_reset.requested", _("Password reset code asked for %(identifier)s: %(reason)s")
)
PASSWORD_RESET_FAILED = register(
    "auth.password_reset.failed", _("Password reset refused for %(identifier)s: %(reason)s")
)
PASSWORD_RESET_COMPLETED = register(
    "auth.password_reset.completed", _("Reset the forgotten password of %(target)s")
)
SESSION_END = register("auth.session.end", _("Ended %(count)s session(s) of %(target)s"))
STEP_UP_REFUSED = register(
    "auth.step_up.refused", _("Asked to confirm the identity again before %(action)s")
)
REAUTHENTICATED = register("auth.reauthenticated", _("Confirmed the identity again (%(method)s)"))
LOGIN_NOT_ALLOWED = register(
    "auth.login.not_allowed", _("Login of %(target)s refused by role restrictions: %(reason)s")
)
MFA_CODE_SENT = register("auth.mfa.code_sent", _("One-time login code for %(target)s: %(reason)s"))
