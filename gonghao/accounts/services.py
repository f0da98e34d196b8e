"""Employee identity: 工号 allocation, creation, authentication with lockout, passwords, tokens."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from gonghao.access import services as access
from gonghao.audit.models import ActorKind
from gonghao.audit.services import record
from gonghao.core import clock, context
from gonghao.core.errors import GonghaoError, NotFound, ValidationFailed
from gonghao.core.prepared import Bound, PreparedQuery
from gonghao.core.text import has_control_characters

from . import audit_actions, employee_ids, policy, second_factors
from .models import (
    ApiToken,
    Employee,
    EmployeeIdCounter,
    EmployeeIdRecord,
    EmployeeIdState,
    EmployeeStatus,
    TokenScope,
)

# --- errors ------------------------------------------------------------------------------------


class InvalidEmployeeId(GonghaoError):
    code = "invalid_employee_id"
    status = 400
    default_message = _("This is not a valid 工号. Please check it and try again.")


class InvalidCredentials(GonghaoError):
    code = "invalid_credentials"
    status = 401
    default_message = _("The 工号 or the password is not correct.")


class AccountLocked(GonghaoError):
    code = "account_locked"
    status = 423
    default_message = _("Too many failed logins. This 工号 is locked; try again later.")


class TooManyAttempts(GonghaoError):
    code = "too_many_attempts"
    status = 429
    default_message = _("Too many failed logins from your address. Try again later.")


class AccountInactive(GonghaoError):
    code = "account_inactive"
    status = 403
    default_message = _("This account cannot log in. Please contact your administrator.")


class PasswordChangeRequired(GonghaoError):
    code = "password_change_required"
    status = 403
    default_message = _("You must change your password before you continue.")


# --- 工号 allocation ----------------------------------------------------------------------------


def allocate_employee_id(*, actor: Any, purpose: str) -> EmployeeIdRecord:
    """Issue the next 工号 and keep it in the registry for ever.

    The counter row is incremented with UPDATE … SET last_value = last_value + 1, which holds
    the row lock until commit on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers.
    Either way two allocations can never read the same value.
    """
    prefix = settings.GONGHAO_EMPLOYEE_ID_PREFIX
    with transaction.atomic():
        EmployeeIdCounter.objects.get_or_create(prefix=prefix)
        while True:
            EmployeeIdCounter.objects.filter(prefix=prefix).update(last_value=F("last_value") + 1)
            sequence = EmployeeIdCounter.objects.get(prefix=prefix).last_value
            try:
                employee_id = employee_ids.format_number(sequence)
            except OverflowError:
                raise GonghaoError(
                    _("All 工号 of this format are used up; widen GONGHAO_EMPLOYEE_ID_DIGITS."),
                    code="employee_id_exhausted",
                    status=409,
                )
            # A number imported or issued under another scheme is skipped, never doubled.
            taken = EmployeeIdRecord.objects.filter(
                Q(employee_id=employee_id) | Q(prefix=prefix, sequence=sequence)
            )
            if not taken.exists():
                break
        entry = EmployeeIdRecord.objects.create(
            employee_id=employee_id, prefix=prefix, sequence=sequence, purpose=purpose
        )
        record(
            audit_actions.EMPLOYEE_ID_ALLOCATE,
            actor=actor,
            target_type="accounts.employeeidrecord",
            target_id=entry.pk,
            target_label=employee_id,
            params={"purpose": purpose},
        )
    return entry


# --- employees ---------------------------------------------------------------------------------


def employee_snapshot(employee: Employee) -> dict[str, Any]:
    return {
        "name": employee.name,
        "department": employee.department_id,
        "position": employee.position_id,
        "manager": employee.manager.employee_id if employee.manager_id else None,
        "phone": str(employee.phone) if employee.phone else "",
        "email": employee.email,
        "status": employee.status,
        "hire_date": employee.hire_date,
        "rehire_of": employee.rehire_of.employee_id if employee.rehire_of_id else None,
    }


def generate_one_time_password() -> str:
    """16 characters from an alphabet without look-alikes (no 0/O, 1/l/I); ~90 bits."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    while True:
        candidate = (
            "".join(secrets.choice(alphabet) for _ in range(14))
            + secrets.choice("23456789")
            + secrets.choice("#%+=@")
        )
        try:
            password_validation.validate_password(candidate)
        except ValidationError:
            continue
        return candidate


def validate_new_password(password: str, employee: Employee) -> None:
    try:
        password_validation.validate_password(password, user=employee)
    except ValidationError as error:
        raise ValidationFailed(
            _("The new password does not meet the password policy."),
            field_errors={"new_password": [str(m) for m in error.messages]},
            code="password_policy",
        )


def create_employee(
    *,
    actor: Any,
    name: str,
    department: Any = None,
    position: Any = None,
    manager: Employee | None = None,
    phone: str = "",
    email: str = "",
    hire_date: Any = None,
    status: str = EmployeeStatus.ACTIVE,
    password: str | None = None,
    purpose: str = "create",
    check_permission: bool = True,
    rehire_of: Employee | None = None,
) -> tuple[Employee, str | None]:
    """Create an employee with a fresh 工号.

    With no `password`, a one-time password is generated, returned once and must be changed at
    first login. `check_permission=False` is only for the bootstrap command.
    """
    if check_permission:
        access.require(actor, "employee.manage")
    name = clean_employee_name(name)
    with transaction.atomic():
        id_entry = allocate_employee_id(actor=actor, purpose=purpose)
        return create_employee_with_id(
            actor=actor,
            id_entry=id_entry,
            name=name,
            department=department,
            position=position,
            manager=manager,
            phone=phone,
            email=email,
            hire_date=hire_date,
            status=status,
            password=password,
            rehire_of=rehire_of,
        )


def clean_employee_name(name: str) -> str:
    """The name stripped; ValidationFailed (field `name`) when empty, too long or with controls."""
    name = (name or "").strip()
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationFailed(
            field_errors={"name": [str(_("The name contains control characters."))]}
        )
    if not name or len(name) > 100:
        raise ValidationFailed(
            field_errors={"name": [str(_("A name of 1 to 100 characters is required."))]}
        )
    return name


def create_employee_with_id(
    *,
    actor: Any,
    id_entry: EmployeeIdRecord,
    name: str,
    department: Any = None,
    position: Any = None,
    manager: Employee | None = None,
    phone: str = "",
    email: str = "",
    hire_date: Any = None,
    status: str = EmployeeStatus.ACTIVE,
    password: str | None = None,
    audit_params: dict[str, Any] | None = None,
    rehire_of: Employee | None = None,
) -> tuple[Employee, str | None]:
    """Create an employee holding an already reserved 工号 (onboarding reserves it at filing).

    The caller has checked the permission; the registry entry moves reserved → assigned.
    `audit_params` are added to the employee.create event (e.g. the onboarding request id).
    """
    name = clean_employee_name(name)
    with transaction.atomic():
        if rehire_of is not None:
            check_rehire_of(rehire_of)
        id_entry = EmployeeIdRecord.objects.select_for_update().get(pk=id_entry.pk)
        if id_entry.state != EmployeeIdState.RESERVED:
            raise GonghaoError(
                _("This 工号 is not reserved; it cannot be given to a new employee."),
                code="employee_id_not_reserved",
                status=409,
            )
        employee = Employee(
            employee_id=id_entry.employee_id,
            name=name,
            department=department,
            position=position,
            manager=manager,
            phone=phone or "",
            email=(email or "").strip(),
            hire_date=hire_date,
            status=status,
            rehire_of=rehire_of,
            activated_at=clock.now() if status == EmployeeStatus.ACTIVE else None,
        )
        try:
            employee.full_clean(exclude=["password", "rehire_of"])
        except ValidationError as error:
            raise ValidationFailed(
                field_errors={
                    field: [str(m) for m in messages]
                    for field, messages in error.message_dict.items()
                }
            )
        one_time = password is None
        if one_time:
            password = generate_one_time_password()
        else:
            validate_new_password(password, employee)
        employee.set_password(password)
        employee.must_change_password = one_time
        employee.password_changed_at = clock.now()
        employee.save()
        id_entry.state = EmployeeIdState.ASSIGNED
        id_entry.holder = employee
        id_entry.save(update_fields=["state", "holder"])
        record(
            audit_actions.EMPLOYEE_CREATE,
            actor=actor,
            target=employee,
            params=audit_params,
            changes={
                k: [None, v] for k, v in employee_snapshot(employee).items() if v not in (None, "")
            },
        )
    return employee, (password if one_time else None)


def check_rehire_of(former: Employee) -> None:
    """A new 工号 may be linked only to a departed employee not already rehired (field error)."""
    message = None
    if former.status != EmployeeStatus.DEPARTED:
        message = _("Only a departed employee can be rehired; %(id)s has not left.")
    elif Employee.objects.filter(rehire_of=former).exclude(status=EmployeeStatus.DEPARTED).exists():
        message = _("%(id)s was already rehired under another 工号.")
    if message is not None:
        raise ValidationFailed(
            field_errors={"rehire_of": [str(message) % {"id": former.employee_id}]}
        )


def resolve_rehire_of(raw_employee_id: str | None) -> Employee | None:
    """The former employee named by a 工号 (None when blank); problems are `rehire_of` errors."""
    if not raw_employee_id:
        return None
    try:
        former = find_employee(raw_employee_id)
    except (InvalidEmployeeId, NotFound) as error:
        raise ValidationFailed(field_errors={"rehire_of": [str(error.message)]})
    check_rehire_of(former)
    return former


def find_employee(raw_employee_id: str) -> Employee:
    employee_id = employee_ids.normalise(raw_employee_id)
    if not employee_ids.is_valid(employee_id):
        raise InvalidEmployeeId()
    employee = (
        Employee.objects.select_related("department", "position")
        .filter(employee_id=employee_id)
        .first()
    )
    if employee is None:
        raise NotFound(_("No employee has this 工号."), code="employee_not_found")
    return employee


# --- authentication ----------------------------------------------------------------------------

_DUMMY_PASSWORD = "not-a-real-password-used-only-to-spend-the-same-time"


def _ip_failures_key(ip: str | None) -> str:
    return f"gonghao:login-failures:ip:{ip or 'unknown'}"


def _unknown_failures_key(employee_id: str) -> str:
    digest = hashlib.sha256(employee_id.encode()).hexdigest()[:32]
    return f"gonghao:login-failures:unknown:{digest}"


def _count_failure(key: str, window: timedelta) -> int:
    timeout = int(window.total_seconds())
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=timeout)
        return 1


def lockout_duration(previous_lockouts: int) -> timedelta:
    """15 minutes, doubling with each consecutive lockout, capped."""
    base = settings.GONGHAO_LOCKOUT_DURATION
    return min(base * (2 ** min(previous_lockouts, 16)), settings.GONGHAO_LOCKOUT_MAX_DURATION)


@dataclass
class _Failure:
    error: GonghaoError
    reason: str


def _record_failure(employee_id: str, reason: str, employee: Employee | None = None) -> None:
    # Text that is not even shaped like a 工号 may be a password typed into the wrong field:
    # the log keeps only its length.
    label = employee_id[:64] if employee_ids.is_valid(employee_id) else f"({len(employee_id)})"
    record(
        audit_actions.LOGIN_FAILED,
        actor=ActorKind.ANONYMOUS,
        target=employee,
        target_type="accounts.employee" if employee is None else "",
        target_label=label,
        params={"reason": reason},
    )


@dataclass
class _UnknownIdState:
    """Failure counters of a 工号 nobody holds, kept in the cache; same fields as Employee."""

    failure_window_started_at: datetime | None = None
    failed_login_count: int = 0
    locked_until: datetime | None = None
    lockout_count: int = 0


def _count_wrong_password(state: Employee | _UnknownIdState, now: datetime) -> bool:
    """Count a failure inside the window; lock when the threshold is reached. True if locked."""
    window_start = state.failure_window_started_at
    if window_start is None or now - window_start > settings.GONGHAO_LOCKOUT_WINDOW:
        state.failure_window_started_at = now
        state.failed_login_count = 0
    state.failed_login_count += 1
    if state.failed_login_count < settings.GONGHAO_LOCKOUT_THRESHOLD:
        return False
    state.locked_until = now + lockout_duration(state.lockout_count)
    state.lockout_count += 1
    state.failed_login_count = 0
    state.failure_window_started_at = None
    return True


def _locked_error(locked_until: datetime) -> AccountLocked:
    return AccountLocked(details={"locked_until": locked_until.isoformat()})


def _register_wrong_password(
    employee: Employee,
    reason: str = "wrong_password",
    error: GonghaoError | None = None,
    *,
    audit_failure: bool = True,
) -> GonghaoError:
    now = clock.now()
    locked = _count_wrong_password(employee, now)
    employee.last_failed_login_at = now
    fields = ["failure_window_started_at", "failed_login_count", "last_failed_login_at"]
    if locked:
        fields += ["locked_until", "lockout_count"]
    employee.save(update_fields=fields)
    if audit_failure:
        _record_failure(employee.employee_id, reason, employee)
    if locked:
        record(
            audit_actions.LOCKOUT,
            actor=ActorKind.ANONYMOUS,
            target=employee,
            params={"until": employee.locked_until.isoformat(timespec="seconds")},
        )
        return _locked_error(employee.locked_until)
    return error or InvalidCredentials()


def _register_unknown_employee_id(employee_id: str) -> _Failure:
    """Lock an unknown 工号 exactly as a real one: same counts, durations and answers."""
    now = clock.now()
    key = _unknown_failures_key(employee_id)
    state = _UnknownIdState(**(cache.get(key) or {}))
    _record_failure(employee_id, "unknown_employee_id")
    if state.locked_until is not None and state.locked_until > now:
        return _Failure(_locked_error(state.locked_until), "locked")
    locked = _count_wrong_password(state, now)
    keep = settings.GONGHAO_LOCKOUT_MAX_DURATION + settings.GONGHAO_LOCKOUT_WINDOW
    cache.set(key, asdict(state), timeout=int(keep.total_seconds()))
    if locked:
        return _Failure(_locked_error(state.locked_until), "unknown_employee_id")
    return _Failure(InvalidCredentials(), "unknown_employee_id")


def authenticate_employee(raw_employee_id: str, password: str) -> Employee:
    """Check a 工号 and password; raise a GonghaoError saying why not.

    Failures are audited and counted (per 工号 and per client address) in their own committed
    transaction, then raised. Unknown 工号 and wrong passwords get the same answer and spend
    the same hashing time, and unknown 工号 "lock" too, so nothing tells them apart.
    """
    return _authenticate_password(raw_employee_id, password)[0]


def _authenticate_password(raw_employee_id: str, password: str) -> tuple[Employee, bool]:
    """`authenticate_employee`, also telling whether the employee has a second factor (read
    while checking, so the API login need not ask the database again)."""
    ip = context.current().client_ip
    has_second_factor = False
    employee_id = employee_ids.normalise(raw_employee_id)
    failure: _Failure | None = None
    employee: Employee | None = None
    if cache.get(_ip_failures_key(ip), 0) >= settings.GONGHAO_IP_FAILURE_LIMIT:
        failure = _Failure(TooManyAttempts(), "ip_limited")
    elif not employee_ids.is_valid(employee_id):
        failure = _Failure(InvalidEmployeeId(), "malformed")
    elif not isinstance(password, str) or not password or len(password) > 4096:
        failure = _Failure(InvalidCredentials(), "empty_password")
    if failure is not None:
        with transaction.atomic():
            _record_failure(employee_id, failure.reason)
        raise failure.error

    # The password is checked outside any transaction: on SQLite a write transaction holds the
    # whole database, and Argon2 takes tens of milliseconds. The outcome is then judged on the
    # row read again, so a lockout reached meanwhile by parallel guesses wins.
    employee = EMPLOYEE_BY_EMPLOYEE_ID.first(employee_id=employee_id)
    password_ok = False
    checked_hash = ""
    if employee is None or employee.is_temporarily_locked:
        make_password(_DUMMY_PASSWORD)  # the same cost as a real verification
    else:
        checked_hash = employee.password
        password_ok = employee.check_password(password)
    if password_ok:
        # The usual login: right password, nothing to count, clear or flag. Judged on a plain
        # read, without a locking transaction (on PostgreSQL a row lock is a write and costs a
        # commit); anything to write is done under the row's lock below.
        fresh = EMPLOYEE_WITH_AUTHENTICATOR_FLAG.first(pk=employee.pk)
        if fresh is not None and _is_clean_success(fresh, checked_hash):
            return fresh, fresh.has_authenticator
    with transaction.atomic():
        if employee is not None:
            employee = (
                _with_authenticator_flag(Employee.objects.select_for_update(of=("self",)))
                .filter(pk=employee.pk)
                .first()
            )
            if password_ok and employee is not None and employee.password != checked_hash:
                # changed meanwhile (a reset, a rehash): judge by the stored one
                password_ok = employee.check_password(password)
        if employee is None:
            failure = _register_unknown_employee_id(employee_id)
        elif employee.is_temporarily_locked:
            _record_failure(employee_id, "locked", employee)
            failure = _Failure(_locked_error(employee.locked_until), "locked")
        elif not password_ok:
            failure = _Failure(_register_wrong_password(employee), "wrong_password")
        elif not employee.is_active:
            _record_failure(employee_id, f"status_{employee.status}", employee)
            failure = _Failure(AccountInactive(), "inactive")
        else:
            # With a second factor, the count is cleared only once that passes too: a known
            # password must not reset the count of guessed codes.
            has_second_factor = employee.has_authenticator
            if not has_second_factor:
                _clear_failures(employee)
            _flag_expired_password(employee)
    if failure is not None:
        if failure.reason in ("wrong_password", "unknown_employee_id"):
            _count_failure(_ip_failures_key(ip), settings.GONGHAO_IP_FAILURE_WINDOW)
        raise failure.error
    return employee, has_second_factor


def _with_authenticator_flag(employees: QuerySet[Employee]) -> QuerySet[Employee]:
    """Employees with `has_authenticator` (any allauth.mfa authenticator), read in the same
    statement: the login's second-factor decision and the MFA adapter's `is_mfa_enabled` use
    it instead of asking the database again."""
    from allauth.mfa.models import Authenticator

    return employees.annotate(
        has_authenticator=Exists(Authenticator.objects.filter(user_id=OuterRef("pk")))
    )


def _by_employee_id() -> QuerySet[Employee]:
    return Employee.objects.filter(employee_id=Bound("employee_id", CharField())).order_by("pk")


def _with_flag_by_pk() -> QuerySet[Employee]:
    return _with_authenticator_flag(Employee.objects.filter(pk=Bound("pk", IntegerField())))


# Every password login runs these two reads: compiled once per connection (core/prepared.py).
EMPLOYEE_BY_EMPLOYEE_ID = PreparedQuery(lambda: _by_employee_id()[:1])
EMPLOYEE_WITH_AUTHENTICATOR_FLAG = PreparedQuery(lambda: _with_flag_by_pk().order_by("pk")[:1])


def _has_failures_to_clear(employee: Employee) -> bool:
    return bool(employee.failed_login_count or employee.lockout_count or employee.locked_until)


def _is_clean_success(employee: Employee, checked_hash: str) -> bool:
    """The password checked against `checked_hash` lets `employee` (just read) in, and the
    login writes nothing: not locked, active, no failure count to clear (kept anyway while a
    second factor is to come), password not due to be flagged as expired."""
    return (
        employee.password == checked_hash
        and not employee.is_temporarily_locked
        and employee.is_active
        and (employee.has_authenticator or not _has_failures_to_clear(employee))
        and not _password_to_flag_as_expired(employee)
    )


def _clear_failures(employee: Employee) -> None:
    if _has_failures_to_clear(employee):
        employee.failed_login_count = 0
        employee.lockout_count = 0
        employee.locked_until = None
        employee.failure_window_started_at = None
        employee.save(
            update_fields=[
                "failed_login_count",
                "lockout_count",
                "locked_until",
                "failure_window_started_at",
            ]
        )


def clear_failures_after_second_factor(employee: Employee) -> None:
    """The whole login (password and second factor) succeeded: forget earlier failures."""
    with transaction.atomic():
        locked = Employee.objects.select_for_update().get(pk=employee.pk)
        _clear_failures(locked)
    employee.failed_login_count = locked.failed_login_count
    employee.lockout_count = locked.lockout_count
    employee.locked_until = locked.locked_until
    employee.failure_window_started_at = locked.failure_window_started_at


def password_expires_at(employee: Employee) -> datetime | None:
    max_age = policy.current().max_age_days
    if not max_age or employee.password_changed_at is None:
        return None
    return employee.password_changed_at + timedelta(days=max_age)


def _password_to_flag_as_expired(employee: Employee) -> bool:
    expires = password_expires_at(employee)
    return expires is not None and expires <= clock.now() and not employee.must_change_password


def _flag_expired_password(employee: Employee) -> None:
    if _password_to_flag_as_expired(employee):
        employee.must_change_password = True
        employee.save(update_fields=["must_change_password"])


def record_login(employee: Employee) -> None:
    """Stamp the employee's last login and audit it, in one transaction (web and API)."""
    # Nested in a login's transaction (the API's token, the web's session row), a failure
    # fails the whole login: no savepoint.
    with transaction.atomic(savepoint=False):
        employee.last_login = clock.now()
        Employee.objects.filter(pk=employee.pk).update(last_login=employee.last_login)
        record(audit_actions.LOGIN_SUCCEEDED, actor=employee, target=employee)


def record_logout(employee: Employee) -> None:
    with transaction.atomic():
        record(audit_actions.LOGOUT, actor=employee, target=employee)


def _has_second_factor_by_id(raw_employee_id: str) -> bool:
    employee_id = employee_ids.normalise(raw_employee_id)
    employee = Employee.objects.filter(employee_id=employee_id).first()
    return employee is not None and second_factors.has_any_authenticator(employee)


def _check_second_factor(employee: Employee, otp: str, fallback_binding: str | None = None) -> None:
    """A wrong or replayed code is audited and counted by the lockout like a wrong password.

    With `fallback_binding`, a one-time login code sent for that login attempt is accepted
    too (gonghao.accounts.login_codes)."""
    if second_factors.check_code(employee, otp):
        return
    if fallback_binding is not None:
        from . import login_codes

        if login_codes.use_code(employee, otp, binding=fallback_binding):
            return
    with transaction.atomic():
        locked = Employee.objects.select_for_update().get(pk=employee.pk)
        error = _register_wrong_password(locked, "wrong_otp", second_factors.InvalidSecondFactor())
    _count_failure(
        _ip_failures_key(context.current().client_ip), settings.GONGHAO_IP_FAILURE_WINDOW
    )
    raise error


def register_wrong_second_factor(employee: Employee) -> bool:
    """The web 2FA page refused a code: audit it and count it like a wrong password.

    True when this failure locked the 工号.
    """
    with transaction.atomic():
        locked = Employee.objects.select_for_update().get(pk=employee.pk)
        record(
            audit_actions.MFA_FAILED,
            actor=ActorKind.ANONYMOUS,
            target=locked,
            params={"reason": "wrong_otp"},
        )
        error = _register_wrong_password(locked, "wrong_otp", audit_failure=False)
    return isinstance(error, AccountLocked)


def authenticate_with_second_factor(
    raw_employee_id: str, password: str, otp: str | None, *, fallback_binding: str | None = None
) -> Employee:
    """Password, then the second factor when the employee has one (API paths).

    Without `otp`, an employee with a second factor gets `second_factor_required` whether the
    password was right or wrong (a wrong one is still audited and counted): the answer never
    confirms a password to someone who lacks the second factor.
    """
    try:
        employee, has_second_factor = _authenticate_password(raw_employee_id, password)
    except InvalidCredentials as error:
        if not otp and _has_second_factor_by_id(raw_employee_id):
            raise second_factors.SecondFactorRequired() from error
        raise
    except AccountInactive as error:
        # The password was right: say so only to someone who also has the second factor.
        inactive = Employee.objects.get(employee_id=employee_ids.normalise(raw_employee_id))
        if second_factors.has_any_authenticator(inactive):
            if not otp:
                raise second_factors.SecondFactorRequired() from error
            if not second_factors.check_code(inactive, otp):
                raise second_factors.InvalidSecondFactor() from error
        raise
    if has_second_factor:
        if not otp:
            with transaction.atomic():
                _record_failure(employee.employee_id, "second_factor_required", employee)
            raise second_factors.SecondFactorRequired()
        _check_second_factor(employee, otp, fallback_binding)
        clear_failures_after_second_factor(employee)
    return employee


def login_for_token(
    raw_employee_id: str, password: str, *, name: str, otp: str | None = None
) -> tuple[str, ApiToken]:
    """The API login: password and second factor, refuse while a password change is pending,
    issue a token."""
    from .login_codes import API_BINDING

    employee = authenticate_with_second_factor(
        raw_employee_id, password, otp, fallback_binding=API_BINDING
    )
    enforce_login_rules(employee)
    if employee.must_change_password:
        with transaction.atomic():
            _record_failure(employee.employee_id, "password_change_required", employee)
        raise PasswordChangeRequired()
    with transaction.atomic():
        raw, token = issue_token(employee, name=name or "login")
        record_login(employee)
    return raw, token


reset_second_factors = second_factors.reset_second_factors


def enforce_login_rules(employee: Employee) -> None:
    """Per-role allowed IP ranges and hours (gonghao.access.login_rules), checked once the
    password and second factor have passed, so a refusal never hints at a right password to
    someone without the second factor. A refusal is audited and raised."""
    from gonghao.access import login_rules

    error = login_rules.refusal(access.roles_of(employee), context.current().client_ip, clock.now())
    if error is None:
        return
    with transaction.atomic():
        record(
            audit_actions.LOGIN_NOT_ALLOWED,
            actor=ActorKind.ANONYMOUS,
            target=employee,
            params={"reason": error.code},
        )
    raise error


# --- passwords ---------------------------------------------------------------------------------


def set_password(employee: Employee, new_password: str, *, actor: Any) -> None:
    """Change a password after the caller has proven who they are (old password, session)."""
    validate_new_password(new_password, employee)
    with transaction.atomic():
        locked = Employee.objects.select_for_update().get(pk=employee.pk)
        locked.set_password(new_password)
        locked.must_change_password = False
        locked.password_changed_at = clock.now()
        locked.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record(audit_actions.PASSWORD_CHANGE, actor=actor, target=locked)
    employee.password = locked.password
    employee.must_change_password = False
    employee.password_changed_at = locked.password_changed_at


def change_password_with_old(
    raw_employee_id: str, old_password: str, new_password: str, otp: str | None = None
) -> Employee:
    """The API path: prove the old password (lockout applies) and the second factor when the
    employee has one, then set the new one."""
    employee = authenticate_with_second_factor(raw_employee_id, old_password, otp)
    if new_password == old_password:
        raise ValidationFailed(
            _("The new password must differ from the old one."),
            field_errors={
                "new_password": [str(_("The new password must differ from the old one."))]
            },
            code="password_policy",
        )
    set_password(employee, new_password, actor=employee)
    return employee


# --- preferences -------------------------------------------------------------------------------


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def set_preferred_language(actor: Employee, language: str) -> bool:
    """The actor chooses the language of their own pages and messages ("" for the default).

    Returns whether it changed; a change is audited.
    """
    language = (language or "").strip().lower().replace("_", "-")
    if language and language not in language_codes():
        message = _("Unknown language. Choose one of: %(choices)s.") % {
            "choices": ", ".join(language_codes())
        }
        raise ValidationFailed(message, field_errors={"language": [str(message)]})
    with transaction.atomic():
        locked = Employee.objects.select_for_update().get(pk=actor.pk)
        if locked.language == language:
            return False
        before = locked.language
        locked.language = language
        locked.save(update_fields=["language"])
        record(
            audit_actions.LANGUAGE_CHANGE,
            actor=actor,
            target=locked,
            params={"language": language or "default"},
            changes={"language": [before, language]},
        )
    actor.language = language
    return True


# --- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "ghk_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_JUST_NOW: Any = object()


def issue_token(
    employee: Employee,
    *,
    name: str,
    ttl: timedelta | None = None,
    scope: str = TokenScope.WRITE,
    authenticated_at: datetime | None = _JUST_NOW,
) -> tuple[str, ApiToken]:
    """Create a bearer token; the raw value is returned once and never stored.

    `authenticated_at` is the last password/second-factor check behind it (step-up): a login
    just made one; a personal token made from a session or token inherits theirs, so a new
    token never freshens a stale authentication.
    """
    if has_control_characters(name):
        raise ValidationFailed(field_errors={"name": [_("Control characters are not allowed.")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = ttl or settings.GONGHAO_API_TOKEN_TTL
    if authenticated_at is _JUST_NOW:
        authenticated_at = clock.now()
    # Nested in a caller's transaction (the API login), a failure fails the caller's whole
    # operation: no savepoint.
    with transaction.atomic(savepoint=False):
        token = ApiToken.objects.create(
            employee=employee,
            name=name[:100],
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(raw),
            scope=scope,
            expires_at=clock.now() + ttl,
            authenticated_at=authenticated_at,
        )
        record(
            audit_actions.TOKEN_CREATE,
            actor=employee,
            target=token,
            target_label=token.name,
            params={"name": token.name},
            changes={"expires_at": [None, token.expires_at], "scope": [None, scope]},
        )
    return raw, token


# What a request's permission and scope checks read about its employee, loaded with it: the
# department and the one above it (shares to a department "with sub-departments").
REQUEST_EMPLOYEE_RELATIONS = ("department__parent",)

# Every API request runs these: compiled once per connection (core/prepared.py).
TOKEN_BY_HASH = PreparedQuery(
    lambda: ApiToken.objects.select_related(
        *(f"employee__{relation}" for relation in REQUEST_EMPLOYEE_RELATIONS)
    ).filter(token_hash=Bound("token_hash", CharField()))[:1]
)
REQUEST_EMPLOYEE = PreparedQuery(
    lambda: Employee._default_manager.select_related(*REQUEST_EMPLOYEE_RELATIONS).filter(
        pk=Bound("pk", IntegerField())
    )[:1]
)


def token_owner(raw: str) -> tuple[Employee, ApiToken] | None:
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = TOKEN_BY_HASH.first(token_hash=hash_token(raw))
    if token is None or not token.is_usable:
        return None
    now = clock.now()
    # Write the last use at most once a minute: a token used in a loop must not write each time.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return access.bind_to_request(token.employee), token


def revoke_token(token: ApiToken, *, actor: Employee) -> None:
    if token.employee_id != actor.pk:
        access.require(actor, "token.manage")
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        if not updated:
            return
        record(
            audit_actions.TOKEN_REVOKE,
            actor=actor,
            target=token.employee,
            params={"name": token.name, "token": token.prefix},
        )


def get_token_for(actor: Employee, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_related("employee").filter(pk=token_id).first()
    if token is None or (
        token.employee_id != actor.pk and not access.has_permission(actor, "token.manage")
    ):
        raise NotFound(code="token_not_found")
    return token
