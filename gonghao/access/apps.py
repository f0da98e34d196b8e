from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "gonghao.access"
    label = "access"
    verbose_name = _("Access control")

    def ready(self) -> None:
        from . import audit_actions  # noqa: F401
