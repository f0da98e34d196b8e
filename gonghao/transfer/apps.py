from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    name = "gonghao.transfer"
    label = "transfer"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from . import audit_actions  # noqa: F401  (registration)
