"""Validating and writing each kind of import.

Validation reads every row and collects every problem (never stopping at the first); writing
happens only for a file without problems, in bulk, inside the caller's transaction. The bulk
path skips the models' save(), so it derives the customers' search columns itself.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.utils import translation
from phonenumbers import PhoneMetadata

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission
from gonghao.accounts import employee_ids
from gonghao.core.errors import ValidationFailed

from .columns import COLUMNS, normalise_title, titles_index
from .errors import error

Progress = Callable[[int], None]
PROGRESS_EVERY = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset("".join(FORMULA_START))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTERNATIONAL_PHONE = re.compile(r"\+[\d\s\-()]{6,24}")
_MAINLAND_MOBILE = re.compile(r"(?:\+?86)?(1\d{10})")
_PHONE_SEPARATORS = str.maketrans("", "", " -()")
_TRUE = {"1", "y", "yes", "true", "是", "√", "x"}
_FALSE = {"", "0", "n", "no", "false", "否"}


@dataclass
class Validated:
    """The outcome of validation: cleaned rows (None where a row has errors) and the errors."""

    rows: list[Any] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    @property
    def valid(self) -> int:
        return sum(1 for r in self.rows if r is not None)


# --- header ------------------------------------------------------------------------------------


def map_header(kind: str, header: list[str]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Column key → position; errors for missing required, unknown and repeated columns."""
    index = titles_index(kind)
    positions: dict[str, int] = {}
    problems: list[dict[str, Any]] = []
    for position, title in enumerate(header):
        normal = normalise_title(title)
        if not normal:
            continue
        key = index.get(normal)
        if key is None:
            problems.append(error(1, title[:60], "unknown_column", title=title[:60]))
        elif key in positions:
            problems.append(error(1, title[:60], "duplicate_column", title=title[:60]))
        else:
            positions[key] = position
    for column in COLUMNS[kind]:
        if column.required and column.key not in positions:
            title = column.title()
            problems.append(error(1, title, "missing_column", title=title))
    return positions, problems


# --- cells -------------------------------------------------------------------------------------


def is_blank(row: list[str]) -> bool:
    """A row with nothing in it (spreadsheets keep some between blocks): skipped, not counted."""
    return not "".join(row).strip()


def looks_like_formula(value: str, *, phone: bool = False) -> bool:
    if not value.startswith(FORMULA_START):
        return False
    # "+86 138 1234 5678" is a phone number, not a formula.
    return not (phone and _INTERNATIONAL_PHONE.fullmatch(value))


def _mainland_patterns() -> tuple[re.Pattern, list[re.Pattern]]:
    """libphonenumber's own patterns for China, compiled once: the same verdict as
    phonenumbers.is_valid_number for an 11-digit mobile, without parsing."""
    meta = PhoneMetadata.metadata_for_region("CN")
    kinds = (meta.mobile, meta.fixed_line, meta.toll_free, meta.premium_rate, meta.shared_cost)
    return re.compile(meta.general_desc.national_number_pattern), [
        re.compile(d.national_number_pattern) for d in kinds if d and d.national_number_pattern
    ]


_CN_GENERAL, _CN_TYPES = _mainland_patterns()


def normalise_phone(raw: str) -> str | None:
    """E.164, or None when not a valid number. Mainland mobiles skip the full parser."""
    compact = raw.translate(_PHONE_SEPARATORS)
    match = _MAINLAND_MOBILE.fullmatch(compact)
    if match is not None:
        digits = match.group(1)
        if _CN_GENERAL.fullmatch(digits) and any(p.fullmatch(digits) for p in _CN_TYPES):
            return "+86" + digits
        return None
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_boolean(value: str) -> bool | None:
    folded = value.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def parse_date(value: str) -> datetime.date | None:
    text = value.strip().split(" ")[0].replace("/", "-").replace(".", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
        return None


def choice_map(choices) -> tuple[dict[str, str], str]:
    """Accepted spellings → code: the code, and the label in English and in Chinese."""
    mapping: dict[str, str] = {}
    for code, label in choices.choices:
        mapping[code.casefold()] = code
        for language in ("en", "zh-hans"):
            with translation.override(language):
                mapping[str(label).casefold()] = code
    return mapping, ", ".join(choices.values)


def _text_cells(
    row: list[str], positions: dict[str, int], limits: dict[str, int]
) -> tuple[dict[str, str], list[tuple[str, str, dict[str, Any]]]]:
    """The row's text per column, stripped; problems as (column, code, params)."""
    values: dict[str, str] = {}
    problems: list[tuple[str, str, dict[str, Any]]] = []
    width = len(row)
    # One search over the whole row; cells are searched one by one only when it finds any.
    controls = _CONTROL.search("".join(row)) is not None
    for key, position in positions.items():
        value = row[position].strip() if position < width else ""
        if value:
            if value[0] in _FORMULA_CHARS and looks_like_formula(value, phone=key == "phone"):
                problems.append((key, "formula", {}))
                continue
            if controls and key != "notes" and _CONTROL.search(value):
                problems.append((key, "control_characters", {}))
                continue
            limit = limits.get(key)
            if limit is not None and len(value) > limit:
                problems.append((key, "too_long", {"limit": limit}))
                continue
        values[key] = value
    return values, problems


# A plain address (ASCII dot-atom, host names, a letters-only top-level domain): a strict
# subset of what Django's validate_email accepts, so a match is valid without the validator's
# Unicode-aware domain patterns, which cost ten times more per row. Anything else is asked of
# validate_email itself: the verdicts are the same.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    re.IGNORECASE | re.ASCII,
)


def _check_email(value: str) -> bool:
    if len(value) <= 320 and _PLAIN_EMAIL.fullmatch(value):
        return True
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


class EmployeeLookup:
    """工号 → (pk, department, active), loaded in one query for all the 工号 a file names."""

    def __init__(self, raw_ids: set[str]) -> None:
        from gonghao.accounts.models import Employee, EmployeeStatus

        self.normal = {raw: employee_ids.normalise(raw) for raw in raw_ids}
        wanted = {n for n in self.normal.values() if employee_ids.is_valid(n)}
        self.found: dict[str, tuple[int, int | None, bool]] = {}
        self.answers: dict[str, tuple] = {}
        wanted_list = sorted(wanted)
        for start in range(0, len(wanted_list), 500):
            for pk, employee_id, department_id, status in Employee.objects.filter(
                employee_id__in=wanted_list[start : start + 500]
            ).values_list("pk", "employee_id", "department_id", "status"):
                self.found[employee_id] = (pk, department_id, status == EmployeeStatus.ACTIVE)

    def resolve(self, raw: str) -> tuple[str, tuple[int, int | None, bool] | None, str | None]:
        """(normalised 工号, the employee or None, an error code or None); memoised per text."""
        answer = self.answers.get(raw)
        if answer is None:
            answer = self.answers[raw] = self._resolve(raw)
        return answer

    def _resolve(self, raw: str) -> tuple[str, tuple[int, int | None, bool] | None, str | None]:
        normal = self.normal.get(raw) or employee_ids.normalise(raw)
        if not employee_ids.is_valid(normal):
            return normal, None, "invalid_employee_id"
        found = self.found.get(normal)
        if found is None:
            return normal, None, "unknown_employee"
        if not found[2]:
            return normal, found, "inactive_employee"
        return normal, found, None


# --- customers ---------------------------------------------------------------------------------

CUSTOMER_LIMITS = {
    "name": 200,
    "industry": 100,
    "address": 300,
    "tags": 300,
    "notes": 5000,
    "email": 254,
    "id_number": 32,
    "phone": 40,
    "owner": 64,
}
CUSTOMER_TEXT = ("name", "industry", "address", "notes")


def validate_customers(
    actor: Any, rows: list[list[str]], positions: dict[str, int], progress: Progress
) -> Validated:
    from gonghao.crm import permissions as perms
    from gonghao.crm.constants import CustomerKind, CustomerLevel, CustomerSource, CustomerStatus
    from gonghao.crm.models import Customer, fold
    from gonghao.crm.validation import valid_mainland_id

    reach = reach_of(actor, perms.CREATE)
    kinds, kinds_allowed = choice_map(CustomerKind)
    levels, levels_allowed = choice_map(CustomerLevel)
    sources, sources_allowed = choice_map(CustomerSource)
    statuses, statuses_allowed = choice_map(CustomerStatus)
    choice_columns = (
        ("kind", kinds, kinds_allowed),
        ("level", levels, levels_allowed),
        ("source", sources, sources_allowed),
        ("status", statuses, statuses_allowed),
    )
    owner_position = positions.get("owner")
    owners = EmployeeLookup(
        {
            row[owner_position].strip()
            for row in rows
            if owner_position is not None
            and owner_position < len(row)
            and row[owner_position].strip()
        }
    )
    result = Validated(total=len(rows))
    seen: dict[tuple[str, str], int] = {}
    errors = result.errors
    cleaned_rows = result.rows
    for number, row in enumerate(rows, start=2):
        if is_blank(row):
            continue
        values, problems = _text_cells(row, positions, CUSTOMER_LIMITS)
        data: dict[str, Any] = {name: values.get(name, "") for name in CUSTOMER_TEXT}
        if not data["name"] and "name" in values:
            problems.append(("name", "required", {}))
        for key, mapping, allowed in choice_columns:
            raw = values.get(key, "")
            if raw:
                code = mapping.get(raw.casefold())
                if code is None:
                    problems.append(
                        (key, "invalid_choice", {"value": raw[:50], "allowed": allowed})
                    )
                else:
                    data[key] = code
        data.setdefault("kind", CustomerKind.COMPANY)
        data.setdefault("status", CustomerStatus.LEAD)
        data.setdefault("level", "")
        data.setdefault("source", "")
        phone = values.get("phone", "")
        if phone:
            e164 = normalise_phone(phone)
            if e164 is None:
                problems.append(("phone", "invalid_phone", {"value": phone[:40]}))
            phone = e164 or ""
        data["phone"] = phone
        email = values.get("email", "")
        if email:
            if _check_email(email):
                email = email.lower()
            else:
                problems.append(("email", "invalid_email", {"value": email[:80]}))
        data["email"] = email
        id_number = values.get("id_number", "").upper()
        if id_number and not valid_mainland_id(id_number):
            problems.append(("id_number", "invalid_id_number", {}))
        data["id_number"] = id_number
        tags = values.get("tags", "")
        if tags:
            tags = ",".join(
                dict.fromkeys(t.strip() for t in re.split(r"[,，;；]", tags) if t.strip())
            )
        data["tags"] = tags
        owner_raw = values.get("owner", "")
        if owner_raw:
            normal, owner, code = owners.resolve(owner_raw)
            if code is not None:
                problems.append(("owner", code, {"value": normal[:64]}))
            elif not reach.covers(owner[0], owner[1]):
                problems.append(("owner", "owner_out_of_scope", {"value": normal}))
            else:
                data["owner_id"], data["owner_department_id"] = owner[0], owner[1]
        else:
            data["owner_id"], data["owner_department_id"] = actor.pk, actor.department_id
        folded = fold(data["name"])
        key = (folded, phone)
        if data["name"]:
            first = seen.get(key)
            if first is not None:
                problems.append(("name", "duplicate_in_file", {"first": first}))
            else:
                seen[key] = number
        if problems:
            for column, code, params in problems:
                errors.append(error(number, column, code, **params))
            cleaned_rows.append(None)
        else:
            data["name_folded"] = folded
            data["phone_digits"] = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
            data["_row"] = number
            cleaned_rows.append(data)
        if number % PROGRESS_EVERY == 0:
            progress(number - 1)
    _existing_duplicates(result, Customer)
    return result


def _existing_duplicates(result: Validated, customer_model) -> None:
    """Rows whose name and phone match a live customer: looked up by the indexed columns."""
    by_phone: dict[str, list[dict[str, Any]]] = {}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for data in result.rows:
        if data is None:
            continue
        if data["phone"]:
            by_phone.setdefault(data["phone_digits"], []).append(data)
        else:
            by_name.setdefault(data["name"], []).append(data)
    clashes: list[tuple[dict[str, Any], int]] = []
    alive = customer_model.objects.filter(deleted_at__isnull=True)
    # Few large lookups: each query costs more to compile than to run on the indexed column.
    per_query = max(500, min(10_000, _max_parameters() - 10))
    phones = sorted(by_phone)
    for start in range(0, len(phones), per_query):
        found = alive.filter(phone_digits__in=phones[start : start + per_query]).values_list(
            "pk", "name_folded", "phone", "phone_digits"
        )
        for pk, name_folded, phone, digits in found:
            for data in by_phone.get(digits, ()):
                if data["name_folded"] == name_folded and data["phone"] == phone:
                    clashes.append((data, pk))
    names = sorted(by_name)
    for start in range(0, len(names), per_query):
        found = alive.filter(name__in=names[start : start + per_query], phone="").values_list(
            "pk", "name"
        )
        for pk, name in found:
            clashes.extend((data, pk) for data in by_name.get(name, ()))
    if not clashes:
        return
    flagged = {id(data): pk for data, pk in clashes}
    for position, data in enumerate(result.rows):
        if data is not None and id(data) in flagged:
            result.errors.append(
                error(data["_row"], "name", "duplicate_existing", id=flagged[id(data)])
            )
            result.rows[position] = None
    result.errors.sort(key=lambda e: e["row"])


CUSTOMER_INSERT_FIELDS = (
    "kind",
    "name",
    "industry",
    "level",
    "source",
    "status",
    "owner_id",
    "owner_department_id",
    "phone",
    "phone_digits",
    "name_folded",
    "email",
    "id_number",
    "address",
    "tags",
    "notes",
)


def _max_parameters() -> int:
    """Django assumes SQLite's old limit of 999 parameters; ask the library for the real one."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 30000


def write_customers(actor: Any, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT … RETURNING id of every row (`_insert_many`).

    The rows are validated and normalised already, search columns included, so the ORM's
    per-field preparation (most of bulk_create's time at this volume) is skipped; the
    statement and the values are exactly what bulk_create would send.
    """
    from gonghao.core import clock
    from gonghao.crm.models import Customer
    from gonghao.crm.search_index import index_rows

    now = connection.ops.adapt_datetimefield_value(clock.now())
    meta = Customer._meta
    columns = [meta.get_field(name).column for name in CUSTOMER_INSERT_FIELDS]
    columns += ["created_by_id", "updated_by_id", "created_at", "updated_at"]
    stamp = (actor.pk, actor.pk, now, now)
    fields = CUSTOMER_INSERT_FIELDS
    ids = _insert_many(
        meta.db_table,
        columns,
        [(*(data[name] for name in fields), *stamp) for data in rows],
        returning=meta.pk.column,
    )
    # The search index is kept in the import's transaction, like Customer.save() keeps it.
    index_rows(
        (pk, data["name_folded"], data["phone_digits"]) for pk, data in zip(ids, rows, strict=True)
    )
    return ids


def link_records(batch_id: int, kind: str, ids: list[int]) -> None:
    """One ImportedRecord row per created record (no per-object ORM work)."""
    from .models import ImportedRecord

    meta = ImportedRecord._meta
    columns = [meta.get_field(name).column for name in ("batch", "kind", "object_id")]
    _insert_many(meta.db_table, columns, [(batch_id, kind, pk) for pk in ids])


def _insert_many(
    table: str, columns: list[str], rows: list[tuple[Any, ...]], returning: str = ""
) -> list[int]:
    """INSERT the rows; with `returning` (a column), that column of each, in the rows' order.

    PostgreSQL gets one single-row INSERT per row, pipelined by psycopg (no round trip each):
    2.3 times the rate of multi-row INSERTs on the import benchmark, whose long statements it
    parses and plans anew each time. SQLite, which has no round trips to save, gets multi-row
    INSERTs of up to 1,000 rows: one statement parsed per batch.
    """
    quote = connection.ops.quote_name
    width = len(columns)
    # Identifiers come from the model's metadata, values are parameters.
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608
    row_marks = "(" + ", ".join(["%s"] * width) + ")"
    tail = f" RETURNING {quote(returning)}" if returning else ""
    values: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if not rows:
                return values
            # psycopg's own cursor (Django's wrapper passes no `returning`), its errors turned
            # into Django's as the wrapper would.
            raw = cursor.cursor
            with connection.wrap_database_errors:
                raw.executemany(head + row_marks + tail, rows, returning=bool(returning))
                while returning:
                    values.append(raw.fetchone()[0])
                    if not raw.nextset():
                        break
            return values
        per_batch = max(1, min(1000, _max_parameters() // width))
        for start in range(0, len(rows), per_batch):
            chunk = rows[start : start + per_batch]
            params = [value for row in chunk for value in row]
            cursor.execute(head + ", ".join([row_marks] * len(chunk)) + tail, params)
            if returning:
                values.extend(row[0] for row in cursor.fetchall())
    return values


# --- contacts ----------------------------------------------------------------------------------

CONTACT_LIMITS = {"name": 100, "title": 100, "wechat": 64, "notes": 5000, "email": 254}


def validate_contacts(
    actor: Any, rows: list[list[str]], positions: dict[str, int], progress: Progress
) -> Validated:
    from gonghao.crm import permissions as perms
    from gonghao.crm.contacts import clean_contact_fields
    from gonghao.crm.models import Contact, Customer

    reach = reach_of(actor, perms.EDIT)
    wanted: set[int] = set()
    id_position = positions.get("customer_id")
    for row in rows:
        raw = row[id_position].strip() if id_position is not None and id_position < len(row) else ""
        if raw.isdigit() and len(raw) < 19:
            wanted.add(int(raw))
    editable: set[int] = set()
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        chunk = Customer.objects.filter(pk__in=ids[start : start + 500], deleted_at__isnull=True)
        if not reach.nothing:
            editable |= set(chunk.filter(reach.q()).values_list("pk", flat=True))
    with_primary = set(
        Contact.objects.filter(
            customer_id__in=editable, is_primary=True, deleted_at__isnull=True
        ).values_list("customer_id", flat=True)
    )
    result = Validated(total=len(rows))
    for number, row in enumerate(rows, start=2):
        if is_blank(row):
            continue
        values, problems = _text_cells(row, positions, CONTACT_LIMITS)
        raw_id = values.pop("customer_id", "")
        customer_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else None
        if customer_id is None or customer_id not in editable:
            problems.append(("customer_id", "unknown_customer", {"value": raw_id[:20]}))
        primary_raw = values.pop("is_primary", "")
        primary = parse_boolean(primary_raw)
        if primary is None:
            problems.append(("is_primary", "invalid_boolean", {"value": primary_raw[:20]}))
            primary = False
        phone = values.get("phone", "")
        if phone:
            e164 = normalise_phone(phone)
            if e164 is None:
                problems.append(("phone", "invalid_phone", {"value": phone[:40]}))
            else:
                values["phone"] = e164
        data: dict[str, Any] = {}
        if not problems:
            try:
                data = clean_contact_fields(
                    {k: v for k, v in values.items() if k != "phone"}, partial=False
                )
                data["phone"] = values.get("phone", "")
            except ValidationFailed as failure:
                for column, messages in failure.field_errors.items():
                    problems.append((column, "invalid_value", {"detail": " ".join(messages)}))
        if primary and customer_id in editable:
            if customer_id in with_primary:
                problems.append(("is_primary", "primary_taken", {}))
            else:
                with_primary.add(customer_id)
        if problems:
            result.errors.extend(error(number, c, code, **p) for c, code, p in problems)
            result.rows.append(None)
        else:
            data.update(customer_id=customer_id, is_primary=primary)
            result.rows.append(data)
        if number % PROGRESS_EVERY == 0:
            progress(number - 1)
    return result


def write_contacts(actor: Any, rows: list[dict[str, Any]]) -> list[int]:
    from gonghao.crm.models import Contact

    created = Contact.objects.bulk_create(
        [Contact(created_by_id=actor.pk, **data) for data in rows], batch_size=2000
    )
    return [c.pk for c in created]


# --- employees ---------------------------------------------------------------------------------

EMPLOYEE_LIMITS = {"name": 100, "email": 254, "roles": 300, "phone": 40}


def validate_employees(
    actor: Any, rows: list[list[str]], positions: dict[str, int], progress: Progress
) -> Validated:
    from gonghao.access.models import Role
    from gonghao.accounts.services import clean_employee_name
    from gonghao.org.models import Department, Position

    departments = {
        d.code.casefold(): d.pk for d in Department.objects.filter(is_active=True).only("code")
    }
    job_positions = {
        p.code.casefold(): p.pk for p in Position.objects.filter(is_active=True).only("code")
    }
    roles = set(Role.objects.values_list("code", flat=True))
    may_grant = has_permission(actor, "role.manage")
    manager_position = positions.get("manager")
    managers = EmployeeLookup(
        {
            row[manager_position].strip()
            for row in rows
            if manager_position is not None
            and manager_position < len(row)
            and row[manager_position].strip()
        }
    )
    result = Validated(total=len(rows))
    for number, row in enumerate(rows, start=2):
        if is_blank(row):
            continue
        values, problems = _text_cells(row, positions, EMPLOYEE_LIMITS)
        data: dict[str, Any] = {}
        try:
            data["name"] = clean_employee_name(values.get("name", ""))
        except ValidationFailed:
            if "name" in values:
                problems.append(("name", "required", {}))
        for key, table, code in (
            ("department", departments, "unknown_department"),
            ("position", job_positions, "unknown_position"),
        ):
            raw = values.get(key, "")
            data[f"{key}_id"] = None
            if raw:
                found = table.get(raw.casefold())
                if found is None:
                    problems.append((key, code, {"value": raw[:32]}))
                data[f"{key}_id"] = found
        data["manager_id"] = None
        if values.get("manager"):
            normal, manager, code = managers.resolve(values["manager"])
            if code is not None:
                problems.append(("manager", code, {"value": normal[:64]}))
            else:
                data["manager_id"] = manager[0]
        phone = values.get("phone", "")
        if phone:
            e164 = normalise_phone(phone)
            if e164 is None:
                problems.append(("phone", "invalid_phone", {"value": phone[:40]}))
            phone = e164 or ""
        data["phone"] = phone
        email = values.get("email", "")
        if email and not _check_email(email):
            problems.append(("email", "invalid_email", {"value": email[:80]}))
        data["email"] = email.lower()
        if not email and not values.get("phone"):
            problems.append(("email", "no_delivery", {}))
        data["hire_date"] = None
        if values.get("hire_date"):
            data["hire_date"] = parse_date(values["hire_date"])
            if data["hire_date"] is None:
                problems.append(("hire_date", "invalid_date", {"value": values["hire_date"][:20]}))
        codes = [c.strip() for c in re.split(r"[,，;；\s]+", values.get("roles", "")) if c.strip()]
        for code in codes:
            if code not in roles:
                problems.append(("roles", "unknown_role", {"value": code[:32]}))
        if codes and not may_grant:
            problems.append(("roles", "roles_not_allowed", {}))
        data["roles"] = list(dict.fromkeys(codes))
        if problems:
            result.errors.extend(error(number, c, code, **p) for c, code, p in problems)
            result.rows.append(None)
        else:
            data["_row"] = number
            result.rows.append(data)
        if number % PROGRESS_EVERY == 0:
            progress(number - 1)
    return result


def write_employees(actor: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Each employee through the accounts services (工号, audit, roles) and the onboarding's
    way of delivering the one-time password; any refusal stops the whole import."""
    from gonghao.access.services import grant_role
    from gonghao.accounts.services import create_employee
    from gonghao.core.errors import GonghaoError
    from gonghao.messaging.services import queue_message

    ids: list[int] = []
    for data in rows:
        try:
            employee, password = create_employee(
                actor=actor,
                name=data["name"],
                department=_by_pk("org.Department", data["department_id"]),
                position=_by_pk("org.Position", data["position_id"]),
                manager=_by_pk("accounts.Employee", data["manager_id"]),
                phone=data["phone"],
                email=data["email"],
                hire_date=data["hire_date"],
                purpose="import",
            )
            for code in data["roles"]:
                grant_role(employee, code, actor=actor)
            channel = "email" if employee.email else "sms"
            queue_message(
                channel=channel,
                recipient=employee.email if channel == "email" else str(employee.phone),
                template="account.initial_password",
                params={
                    "name": employee.name,
                    "employee_id": employee.employee_id,
                    "password": password,
                },
                employee=employee,
                actor=actor,
            )
        except GonghaoError as failure:
            raise RowFailed(data["_row"], failure) from failure
        ids.append(employee.pk)
    return ids


def _by_pk(label: str, pk: int | None):
    if pk is None:
        return None
    from django.apps import apps

    return apps.get_model(label).objects.get(pk=pk)


class RowFailed(Exception):
    def __init__(self, row: int, failure: Exception) -> None:
        super().__init__(str(failure))
        self.row = row
        self.failure = failure


@dataclass(frozen=True)
class Importer:
    permission: str
    validate: Callable[..., Validated]
    write: Callable[[Any, list[dict[str, Any]]], list[int]]


IMPORTERS = {
    "customers": Importer("customer.create", validate_customers, write_customers),
    "contacts": Importer("customer.edit", validate_contacts, write_contacts),
    "employees": Importer("employee.manage", validate_employees, write_employees),
}
