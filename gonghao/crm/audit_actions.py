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

# Contacts and follow-ups: the target is the customer, so they show in the customer's trail.
CONTACT_CREATE = register("contact.create", _("Added contact %(contact)s to customer %(target)s"))
CONTACT_UPDATE = register("contact.update", _("Edited contact %(contact)s of customer %(target)s"))
CONTACT_DELETE = register("contact.delete", _("Deleted contact %(contact)s of customer %(target)s"))
CONTACT_REVEAL = register(
    "contact.reveal", _("Revealed the %(field)s of contact %(contact)s of customer %(target)s")
)
INTERACTION_CREATE = register(
    "interaction.create", _("Recorded a %(kind)s with customer %(target)s")
)
INTERACTION_FOLLOW_UP_DONE = register(
    "interaction.follow_up_done", _("Marked a follow-up with customer %(target)s done")
)
OPPORTUNITY_CREATE = register("opportunity.create", _("Added opportunity %(target)s"))
OPPORTUNITY_UPDATE = register("opportunity.update", _("Edited opportunity %(target)s"))
OPPORTUNITY_DELETE = register("opportunity.delete", _("Deleted opportunity %(target)s"))
OPPORTUNITY_STAGE = register(
    "opportunity.stage", _("Moved opportunity %(target)s from %(from)s to %(to)s")
)
STAGE_CREATE = register("stage.create", _("Added pipeline stage %(target)s"))
STAGE_UPDATE = register("stage.update", _("Edited pipeline stage %(target)s"))

# Sharing and the public pool (公海).
CUSTOMER_SHARE = register("customer.share", _("Shared customer %(target)s with %(recipient)s"))
CUSTOMER_UNSHARE = register(
    "customer.unshare", _("Stopped sharing customer %(target)s with %(recipient)s")
)
CUSTOMER_POOL_RETURN = register(
    "customer.pool_return",
    _(
        "Customer %(target)s returned to the public pool from %(from)s: "
        "not followed up for %(days)s days"
    ),
)
CUSTOMER_POOL_RELEASE = register(
    "customer.pool_release", _("Released customer %(target)s to the public pool: %(reason)s")
)
CUSTOMER_POOL_VIEW = register(
    "customer.pool_view", _("Viewed customer %(target)s in the public pool")
)
CUSTOMER_POOL_CLAIM = register(
    "customer.pool_claim", _("Claimed customer %(target)s from the public pool")
)
