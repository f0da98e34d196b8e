"""Audit action codes of the CRM, with their summaries (the brief's "添加新客户信息：张三")."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

CUSTOMER_CREATE = register("customer.create", _("Added customer %(target)s"))
CUSTOMER_UPDATE = register("customer.update", _("Edited customer %(target)s"))
CUSTOMER_DELETE = register("customer.delete", _("Deleted customer %(target)s"))
CUSTOMER_RESTORE = register("customer.restore", _("Restored customer %(target)s"))
CUSTOMER_TRANSFER = register(
    "customer.transfer", _("Transferred customer %(target)s from %(from)s to %(to)s")
)
CUSTOMER_VIEW = register("customer.view", _("Viewed customer %(target)s"))
CUSTOMER_REVEAL = register("customer.reveal", _("Revealed the %(field)s of customer %(target)s"))
CUSTOMER_EXPORT = register("customer.export", _("Exported %(count)s customers"))
