from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "gonghao.lifecycle"
    label = "lifecycle"
    verbose_name = _("Employee lifecycle")

    def ready(self) -> None:
        from . import (  # noqa: F401  (registration side effects)
            audit_actions,
            handover_steps,
            jobs,
            permissions,
        )
