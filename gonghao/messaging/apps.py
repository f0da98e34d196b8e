from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "gonghao.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from . import audit_actions, jobs  # noqa: F401  (registration side effects)
