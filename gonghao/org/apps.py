from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "gonghao.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from . import audit_actions  # noqa: F401
