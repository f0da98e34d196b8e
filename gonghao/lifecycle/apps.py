from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "gonghao.lifecycle"
    label = "lifecycle"
    verbose_name = _("Employee lifecycle")

    def ready(self) -> None:
        # Registration side effects: audit actions, permissions, jobs, message templates.
        from . import (  # noqa: F401
            access_audit_actions,
            access_handover,
            access_jobs,
            access_permissions,
            audit_actions,
            handover_steps,
            jobs,
            permissions,
        )
