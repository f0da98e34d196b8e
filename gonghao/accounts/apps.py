from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gonghao.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account import signals as allauth_signals
        from allauth.usersessions import signals as usersessions_signals
        from django.contrib.auth.signals import user_logged_in

        from . import audit_actions, permissions, signals  # noqa: F401  (registration)

        # signals.on_logged_in stamps the last login together with the audit event (one
        # commit, not two), and the account adapter's `login` records the session in that same
        # commit, without allauth's re-check of every earlier session of the employee (see
        # user_sessions.track_new_session).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        allauth_signals.user_logged_in.disconnect(receiver=usersessions_signals.on_user_logged_in)
