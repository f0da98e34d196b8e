"""The CRM's permissions and the customer fields a role may hide."""

from django.utils.translation import gettext_lazy as _

from gonghao.access.catalogue import register_hideable_field, register_permission

VIEW = register_permission("customer.view", _("View customers"))
CREATE = register_permission("customer.create", _("Create customers"))
EDIT = register_permission("customer.edit", _("Edit customers"))
DELETE = register_permission("customer.delete", _("Delete customers"))
RESTORE = register_permission("customer.restore", _("Restore deleted customers"))
TRANSFER = register_permission("customer.transfer", _("Transfer customers to another owner"))
EXPORT = register_permission("customer.export", _("Export customers"))
VIEW_SENSITIVE = register_permission(
    "customer.view_sensitive", _("Reveal customers' personal data (phone, e-mail, ID number)")
)
SHARE = register_permission(
    "customer.share", _("Share customers in your scope with other employees or departments")
)
CLAIM = register_permission("customer.claim", _("See the public pool and claim customers from it"))

# Fields a role can hide entirely (pages, API, exports and search alike).
HIDEABLE = {
    "industry": register_hideable_field("customer.industry", _("Customer industry")),
    "level": register_hideable_field("customer.level", _("Customer level")),
    "source": register_hideable_field("customer.source", _("Customer source")),
    "phone": register_hideable_field("customer.phone", _("Customer phone")),
    "email": register_hideable_field("customer.email", _("Customer e-mail")),
    "id_number": register_hideable_field("customer.id_number", _("Customer ID number")),
    "address": register_hideable_field("customer.address", _("Customer address")),
    "tags": register_hideable_field("customer.tags", _("Customer tags")),
    "notes": register_hideable_field("customer.notes", _("Customer notes")),
}

# Follow-ups: service staff log service requests on customers they may only view.
INTERACTION_CREATE = register_permission(
    "interaction.create", _("Record follow-ups (interactions) on customers you can see")
)

# Opportunities have their own owner and scope.
OPPORTUNITY_VIEW = register_permission("opportunity.view", _("View opportunities"))
OPPORTUNITY_CREATE = register_permission("opportunity.create", _("Create opportunities"))
OPPORTUNITY_EDIT = register_permission(
    "opportunity.edit", _("Edit opportunities and move them through the pipeline")
)
OPPORTUNITY_DELETE = register_permission("opportunity.delete", _("Delete opportunities"))
PIPELINE_MANAGE = register_permission("pipeline.manage", _("Configure the pipeline's stages"))

OPPORTUNITY_HIDEABLE = {
    "amount": register_hideable_field("opportunity.amount", _("Opportunity amount")),
    "probability": register_hideable_field("opportunity.probability", _("Opportunity probability")),
}
