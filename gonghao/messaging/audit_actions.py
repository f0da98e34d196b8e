"""Audit action codes of the messaging app. Params carry the template code and the masked
recipient, never the body: bodies may hold one-time passwords and codes."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

MESSAGE_QUEUE = register("message.queue", _("Queued message %(template)s to %(recipient)s"))
MESSAGE_FAIL = register(
    "message.fail",
    _("Gave up sending message %(template)s to %(recipient)s after %(attempts)s attempts"),
)
