from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "gonghao.crm"
    label = "crm"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from . import (  # noqa: F401  (registration)
            audit_actions,
            followups,
            permissions,
            pool,
            share_reach,
        )
