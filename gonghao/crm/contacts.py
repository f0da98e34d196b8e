"""Contacts of a customer: scoped reads, masked presentation, audited writes and reveal."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gonghao.audit.services import diff, record
from gonghao.core import clock
from gonghao.core.errors import NotFound, ValidationFailed

from . import audit_actions
from . import permissions as perms
from .masking import mask
from .models import Contact, Customer
from .queries import get_customer_for, require_any_access
from .validation import clean_text, normalise_phone

CONTACT_FIELDS = ("name", "title", "phone", "email", "wechat", "is_primary", "notes")
# Personal data of a contact: masked everywhere unless revealed (audited).
CONTACT_SENSITIVE = ("phone", "email", "wechat")
CONTACT_LIMITS = {"name": 100, "title": 100, "wechat": 64, "notes": 5000}


# --- reading ----------------------------------------------------------------------------------


def contacts_for(actor: Any, customer_id: int) -> QuerySet[Contact]:
    """The live contacts of a customer the actor can see (403 / 404 as for the customer)."""
    return live_contacts(get_customer_for(actor, customer_id))


def live_contacts(customer: Customer) -> QuerySet[Contact]:
    """The live contacts of a customer the caller has already checked (get_customer_for)."""
    return Contact.objects.filter(customer=customer, deleted_at__isnull=True).order_by(
        "-is_primary", "name", "id"
    )


def get_contact_for(actor: Any, contact_id: int, permission: str = perms.VIEW) -> Contact:
    """A live contact whose customer the actor can see (else 404) and may act on (else 403)."""
    require_any_access(actor)
    contact = Contact.objects.filter(pk=contact_id, deleted_at__isnull=True).first()
    if contact is None:
        raise NotFound(code="contact_not_found")
    try:
        contact.customer = get_customer_for(actor, contact.customer_id, permission)
    except NotFound:
        # The same answer as a contact that does not exist: no probing other scopes.
        raise NotFound(code="contact_not_found") from None
    return contact


def present_contact(contact: Contact, *, reveal: tuple[str, ...] = ()) -> dict[str, Any]:
    """The contact for display: personal data masked unless named in `reveal` (checked, audited)."""
    data: dict[str, Any] = {
        "id": contact.pk,
        "customer_id": contact.customer_id,
        "name": contact.name,
        "title": contact.title,
        "is_primary": contact.is_primary,
        "notes": contact.notes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }
    for name in CONTACT_SENSITIVE:
        value = getattr(contact, name)
        data[name] = value if name in reveal else mask(name, value)
    return data


# --- validation -------------------------------------------------------------------------------


def clean_contact_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and normalise contact input; raise ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(data) - set(CONTACT_FIELDS)
    for name in sorted(unknown):
        errors[name] = [_("Unknown field.")]
    for name, value in data.items():
        if name in unknown:
            continue
        if name == "is_primary":
            if not isinstance(value, bool):
                errors[name] = [_("True or false is expected.")]
            else:
                cleaned[name] = value
            continue
        text = clean_text(name, value, CONTACT_LIMITS.get(name), errors)
        if text is not None:
            cleaned[name] = text
    if (not partial or "name" in cleaned) and not cleaned.get("name") and "name" not in errors:
        errors["name"] = [_("A name is required.")]
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"])
        except ValueError:
            errors["phone"] = [_("Not a valid phone number.")]
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
            cleaned["email"] = cleaned["email"].lower()
        except ValidationError:
            errors["email"] = [_("Not a valid e-mail address.")]
    if cleaned.get("wechat") and any(c.isspace() for c in cleaned["wechat"]):
        errors["wechat"] = [_("A WeChat ID has no spaces.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


# --- writing ----------------------------------------------------------------------------------


def _snapshot(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in CONTACT_FIELDS}


def _masked(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Before/after for the audit log with personal data masked: the log holds no clear PII."""
    return {
        name: [mask(name, v) if v else v for v in values] if name in CONTACT_SENSITIVE else values
        for name, values in changes.items()
    }


def _lock_customer(customer_id: int) -> Customer:
    # Serialises primary-contact changes of one customer (SQLite: IMMEDIATE transactions).
    return Customer.objects.select_for_update().get(pk=customer_id)


def _unset_other_primaries(customer: Customer, keep: int | None) -> list[str]:
    others = Contact.objects.filter(customer=customer, is_primary=True, deleted_at__isnull=True)
    if keep is not None:
        others = others.exclude(pk=keep)
    names = list(others.values_list("name", flat=True))
    others.update(is_primary=False, updated_at=clock.now())
    return names


def create_contact(customer_id: int, *, actor: Any, data: dict[str, Any]) -> Contact:
    """Add a contact to a customer the actor may edit; a new primary replaces the old one."""
    get_customer_for(actor, customer_id, perms.EDIT)
    cleaned = clean_contact_fields(data, partial=False)
    with transaction.atomic():
        customer = _lock_customer(customer_id)
        contact = Contact(customer=customer, created_by=actor, **cleaned)
        changes = {k: v for k, v in diff({}, _snapshot(contact)).items() if v[1] not in ("", False)}
        if contact.is_primary:
            replaced = _unset_other_primaries(customer, keep=None)
            if replaced:
                changes["replaced_primary"] = [replaced, None]
        contact.save()
        record(
            audit_actions.CONTACT_CREATE,
            actor=actor,
            target=customer,
            params={"contact": contact.name},
            changes=_masked(changes),
        )
    return contact


def update_contact(contact_id: int, *, actor: Any, data: dict[str, Any]) -> Contact:
    """Change a contact; nothing is written (nor audited) when nothing changes."""
    found = get_contact_for(actor, contact_id, perms.EDIT)
    cleaned = clean_contact_fields(data, partial=True)
    with transaction.atomic():
        customer = _lock_customer(found.customer_id)
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        before = _snapshot(contact)
        for name, value in cleaned.items():
            setattr(contact, name, value)
        changes = diff(before, _snapshot(contact))
        if not changes:
            contact.customer = customer
            return contact
        if contact.is_primary and "is_primary" in changes:
            replaced = _unset_other_primaries(customer, keep=contact.pk)
            if replaced:
                changes["replaced_primary"] = [replaced, None]
        contact.save()
        record(
            audit_actions.CONTACT_UPDATE,
            actor=actor,
            target=customer,
            params={"contact": contact.name},
            changes=_masked(changes),
        )
    contact.customer = customer
    return contact


def delete_contact(contact_id: int, *, actor: Any) -> Contact:
    """Soft-delete a contact (its interactions keep pointing at it)."""
    get_contact_for(actor, contact_id, perms.EDIT)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("customer").get(pk=contact_id)
        contact.deleted_at = clock.now()
        was_primary = contact.is_primary
        contact.is_primary = False
        contact.save(update_fields=["deleted_at", "is_primary", "updated_at"])
        record(
            audit_actions.CONTACT_DELETE,
            actor=actor,
            target=contact.customer,
            params={"contact": contact.name},
            changes={"deleted_at": [None, contact.deleted_at.isoformat()]}
            | ({"is_primary": [True, False]} if was_primary else {}),
        )
    return contact


def reveal_contact_fields(contact_id: int, *, actor: Any, fields: list[str]) -> dict[str, str]:
    """Show a contact's personal data in clear: explicit and audited, for view_sensitive holders."""
    wanted = [f for f in dict.fromkeys(fields) if f in CONTACT_SENSITIVE]
    if not wanted or len(wanted) != len(set(fields)):
        raise ValidationFailed(
            field_errors={
                "fields": [_("Choose among: %(f)s") % {"f": ", ".join(CONTACT_SENSITIVE)}]
            }
        )
    contact = get_contact_for(actor, contact_id, perms.VIEW_SENSITIVE)
    with transaction.atomic():
        record(
            audit_actions.CONTACT_REVEAL,
            actor=actor,
            target=contact.customer,
            params={"field": ",".join(wanted), "contact": contact.name},
        )
    return {name: getattr(contact, name) for name in wanted}
