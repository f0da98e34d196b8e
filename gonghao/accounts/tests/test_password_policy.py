"""Password storage (Argon2id) and the policy: presets, overrides, length, blocklist, patterns,
personal information, character classes, history and expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client

from gonghao.accounts import policy, services
from gonghao.accounts.models import PasswordHistory
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import (
    CHANGE_URL,
    NEW_PASSWORD,
    api_login,
    bearer,
    change_password_api,
    reload,
    web_login,
)

ARGON2 = re.compile(
    r"^argon2\$argon2id\$v=19\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def employee(db):
    return make_employee("Zhang Wei", phone="+8613812345678", email="zhang.wei@example.com")


def refusal_codes(password: str, user=None) -> list[str]:
    """The codes of the rules a password breaks; [] when it is accepted."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


def _cost(encoded: str) -> dict[str, int]:
    match = ARGON2.match(encoded)
    assert match, encoded
    return {k: int(v) for k, v in match.groupdict().items()}


# --- storage -----------------------------------------------------------------------------------


def test_passwords_are_stored_with_argon2id_at_owasp_cost_or_more(employee):
    services.set_password(employee, NEW_PASSWORD, actor=employee)

    stored = reload(employee).password
    cost = _cost(stored)
    assert cost["t"] >= 2
    assert cost["m"] >= 19 * 1024
    assert cost["p"] >= 1
    assert NEW_PASSWORD not in stored
    assert check_password(NEW_PASSWORD, stored)


def test_cost_settings_below_the_floor_are_raised_to_it(settings):
    settings.GONGHAO_ARGON2_TIME_COST = 1
    settings.GONGHAO_ARGON2_MEMORY_KIB = 1024
    settings.GONGHAO_ARGON2_PARALLELISM = 0
    assert _cost(make_password("Lantern-7305")) == {"m": 19 * 1024, "t": 2, "p": 1}


def test_hash_is_upgraded_at_next_login_when_the_cost_rises(employee, settings):
    before = _cost(reload(employee).password)
    settings.GONGHAO_ARGON2_TIME_COST = before["t"] + 1

    assert api_login(employee).status_code == 200

    after = reload(employee).password
    assert _cost(after)["t"] == before["t"] + 1
    assert check_password(PASSWORD, after)


# --- length ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Lantern-730", ["password_too_short"]),
        ("Lantern-7305", []),
        (("Ginkgo-Lantern-7305?" * 7)[:128], []),
        (("Ginkgo-Lantern-7305?" * 7)[:129], ["password_too_long"]),
        ("水滴石穿绳锯木断铁杵磨针", []),  # 12 characters as typed
        ("水滴石穿绳锯木断铁杵磨", ["password_too_short"]),
        ("🐉🐼🍵🏮🧧🎋🐉🐼🍵🏮🧧🎋", []),  # one code point each, not bytes or UTF-16 units
    ],
    ids=["11", "12", "128", "129", "12-chinese", "11-chinese", "12-emoji"],
)
def test_length_counts_characters_as_typed(employee, password, codes):
    assert refusal_codes(password, employee) == codes


def test_a_chinese_passphrase_works_end_to_end(employee):
    passphrase = "水滴石穿绳锯木断铁杵磨针"
    services.set_password(employee, passphrase, actor=employee)
    assert api_login(employee, passphrase).status_code == 200


def test_passwords_are_not_trimmed_or_normalised(employee):
    spaced = " Ginkgo Lantern 7305 "
    services.set_password(employee, spaced, actor=employee)

    assert api_login(employee, spaced.strip()).status_code == 401
    assert api_login(employee, spaced).status_code == 200
    composed = "Café-Lantern-7305"
    services.set_password(employee, composed, actor=employee)
    decomposed = composed.replace("é", "e\u0301")
    assert api_login(employee, decomposed).status_code == 401
    assert api_login(employee, composed).status_code == 200


# --- blocklist and patterns --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["password1234", "qwertyuiop123", "PASSWORD1234", "Password1234", "iloveyou1234"],
)
def test_common_passwords_are_refused(employee, password):
    assert refusal_codes(password, employee) == ["password_too_common"]


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "ZZZZZZZZZZZZZZZZ",
        "x7x7x7x7x7x7",
        "x7#x7#x7#x7#",
        "我爱你我爱你我爱你我爱你",
    ],
)
def test_repeated_patterns_are_refused(employee, password):
    assert refusal_codes(password, employee) == ["password_too_common"]


def test_short_common_passwords_are_refused_when_the_minimum_allows_them(employee, settings):
    settings.GONGHAO_PASSWORD_OVERRIDES = {"min_length": 8}
    assert refusal_codes("baseball", employee) == ["password_too_common"]
    assert refusal_codes("Zq8#Lm2!", employee) == []


# --- personal information ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_password_from",
    [
        pytest.param(lambda e: f"{e.employee_id}-Lantern!", id="employee-id"),
        pytest.param(lambda e: f"{e.employee_id.lower()}-Lantern!", id="employee-id-lower"),
        pytest.param(lambda e: "Ginkgo-ZhangWei-77", id="name"),
        pytest.param(lambda e: "Ginkgo-zhang-Lantern", id="family-name"),
        pytest.param(lambda e: "Ginkgo-13812345678", id="phone"),
        pytest.param(lambda e: "zhang.wei-Lantern7", id="email-name"),
    ],
)
def test_personal_information_is_refused(employee, make_password_from):
    assert refusal_codes(make_password_from(employee), employee) == ["password_personal_info"]


def test_chinese_name_is_refused(db):
    employee = make_employee("王小明")
    assert refusal_codes("我是王小明的Lantern-7", employee) == ["password_personal_info"]
    assert refusal_codes("我是小王的Lantern-77", employee) == []


def test_another_employees_details_are_fine(employee):
    other = make_employee("Li Na")
    assert refusal_codes("Ginkgo-ZhangWei-77", other) == []


# --- character classes (mlps3 only) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "global_codes", "mlps3_codes"),
    [
        ("lanternsquietriver", [], ["password_classes"]),
        ("lanternsquietriver7", [], ["password_classes"]),
        ("Lanternsquietriver7", [], []),
        ("lanterns-quiet-river7", [], []),
        ("水滴石穿绳锯木断铁杵磨针", [], ["password_classes"]),
    ],
)
def test_character_classes_only_under_mlps3(
    employee, settings, password, global_codes, mlps3_codes
):
    settings.GONGHAO_PASSWORD_PRESET = "global"
    assert refusal_codes(password, employee) == global_codes
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    assert refusal_codes(password, employee) == mlps3_codes


# --- history (mlps3) ---------------------------------------------------------------------------

HISTORY = [f"Lantern-{n}-Quiet-River!" for n in range(1, 7)]


def test_mlps3_refuses_the_last_five_passwords(employee, settings):
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    for password in HISTORY:
        services.set_password(employee, password, actor=employee)
    assert PasswordHistory.objects.filter(employee=employee).count() == 6

    # The current one and the four before it are refused ...
    for password in (HISTORY[-1], HISTORY[-5]):
        assert refusal_codes(password, employee) == ["password_reused"]
        with pytest.raises(services.ValidationFailed) as refused:
            services.set_password(employee, password, actor=employee)
        assert refused.value.code == "password_policy"
    # ... the sixth-newest may come back.
    assert refusal_codes(HISTORY[0], employee) == []
    services.set_password(employee, HISTORY[0], actor=employee)
    assert check_password(HISTORY[0], reload(employee).password)


def test_history_depth_is_a_knob(employee, settings):
    for password in HISTORY[:3]:
        services.set_password(employee, password, actor=employee)
    # The global preset keeps no history: the previous password may be reused ...
    assert refusal_codes(HISTORY[1], employee) == []
    # ... but never the current one, or a forced change could keep the same password.
    assert refusal_codes(HISTORY[2], employee) == ["password_reused"]
    settings.GONGHAO_PASSWORD_OVERRIDES = {"history": 2}
    assert refusal_codes(HISTORY[1], employee) == ["password_reused"]
    assert refusal_codes(HISTORY[0], employee) == []


# --- expiry (mlps3) ----------------------------------------------------------------------------


def test_mlps3_password_expires_after_ninety_days(db, settings, frozen_clock):
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    employee = make_employee("张三")
    frozen_clock.advance(days=89, hours=23, minutes=30)
    token = api_login(employee).json()["token"]
    me = Client().get("/api/v1/me", headers=bearer(token)).json()
    assert me["password_expires_at"].startswith(
        (employee.password_changed_at + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S")
    )

    frozen_clock.advance(hours=1)

    response = api_login(employee)
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    assert reload(employee).must_change_password is True
    # The token issued before the expiry (still within its own lifetime) stops working too.
    refused = Client().get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"


def test_mlps3_expired_password_can_be_changed_through_the_api(db, settings, frozen_clock):
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    employee = make_employee("张三")
    frozen_clock.advance(days=91)
    assert api_login(employee).status_code == 403

    assert change_password_api(employee, NEW_PASSWORD).status_code == 200

    fresh = reload(employee)
    assert fresh.password_changed_at == frozen_clock()
    assert fresh.must_change_password is False
    assert api_login(employee, NEW_PASSWORD).status_code == 200


def test_mlps3_expired_password_sends_the_web_login_to_the_change_page(db, settings, frozen_clock):
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    employee = make_employee("张三")
    frozen_clock.advance(days=91)
    client = Client()

    response = web_login(client, employee.employee_id)

    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == CHANGE_URL


def test_global_passwords_do_not_expire(db, frozen_clock):
    employee = make_employee("张三")
    frozen_clock.advance(days=3650)
    assert api_login(employee).status_code == 200


def test_max_age_is_a_knob(db, settings, frozen_clock):
    settings.GONGHAO_PASSWORD_OVERRIDES = {"max_age_days": 30}
    employee = make_employee("张三")
    frozen_clock.advance(days=30)
    assert api_login(employee).json()["code"] == "password_change_required"


# --- presets and overrides ---------------------------------------------------------------------


def test_presets(settings):
    settings.GONGHAO_PASSWORD_OVERRIDES = {}
    settings.GONGHAO_PASSWORD_PRESET = "global"
    rules = policy.current()
    assert (rules.min_length, rules.require_classes, rules.history, rules.max_age_days) == (
        12,
        0,
        0,
        0,
    )
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    rules = policy.current()
    assert (rules.min_length, rules.require_classes, rules.history, rules.max_age_days) == (
        12,
        3,
        5,
        90,
    )


def test_overrides_change_one_knob_of_the_preset(employee, settings):
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    settings.GONGHAO_PASSWORD_OVERRIDES = {"min_length": 16, "require_classes": 4}
    rules = policy.current()
    assert (rules.min_length, rules.require_classes, rules.history) == (16, 4, 5)
    assert refusal_codes("Lantern-7305-abc", employee) == []
    assert refusal_codes("Lantern-7305-ab", employee) == ["password_too_short"]
    assert refusal_codes("Lanterns7305abcd", employee) == ["password_classes"]


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("nist", {}),
        ("", {}),
        ("global", {"min_length": 4}),
        ("global", {"min_length": 129}),
        ("global", {"require_classes": 5}),
        ("global", {"min_lenght": 16}),
    ],
    ids=["unknown-preset", "empty-preset", "min-too-low", "min-too-high", "classes", "typo"],
)
def test_bad_configuration_is_refused(employee, settings, preset, overrides):
    settings.GONGHAO_PASSWORD_PRESET = preset
    settings.GONGHAO_PASSWORD_OVERRIDES = overrides
    with pytest.raises(ImproperlyConfigured):
        policy.current()
    with pytest.raises(ImproperlyConfigured):
        password_validation.validate_password(NEW_PASSWORD, user=employee)
