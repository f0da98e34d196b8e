from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "gonghao.reports"
    label = "reports"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from . import dashboards, permissions  # noqa: F401  (registration)
