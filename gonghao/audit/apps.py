from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_chain_heads(using, **kwargs) -> None:
    """After migrate (and after a test flush): the heads of every chain writers may lock."""
    if using == DEFAULT_DB_ALIAS and connections[using].vendor == "postgresql":
        from .services import ensure_chain_heads

        ensure_chain_heads()


class AuditConfig(AppConfig):
    name = "gonghao.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        post_migrate.connect(create_chain_heads, sender=self, dispatch_uid="audit_chain_heads")
