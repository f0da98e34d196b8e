from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "gonghao.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from . import audit_actions, jobs  # noqa: F401  (registration side effects)
        from .services import begin_request, end_request

        request_started.connect(begin_request, dispatch_uid="messaging.begin_request")
        request_finished.connect(end_request, dispatch_uid="messaging.end_request")
