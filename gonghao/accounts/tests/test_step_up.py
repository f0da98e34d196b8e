"""Step-up: reveal, export, transfer and role changes need a password or second-factor check
newer than GONGHAO_STEP_UP_MINUTES, through the API (403 reauthentication_required, then
POST /auth/reauthenticate) and the pages (allauth's re-authentication, then back)."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.accounts.models import ApiToken
from gonghao.accounts.stepup import SESSION_KEY
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import PASSWORD, api_for, authenticate_freshly

from .auth_support import events
from .mfa_support import clear_cache, code_at, enable_totp, follow_clock

REAUTH = "/api/v1/auth/reauthenticate"
STALE = {"minutes": 11}
MESSAGE = (
    "For this action, confirm your password or second factor again (your last check is too old)."
)


@pytest.fixture(autouse=True)
def _cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def crm(db):
    return make_crm_cast()


def _reveal(api, customer):
    return api.post(f"/api/v1/customers/{customer.pk}/reveal", {"fields": ["phone"]})


def _refusal(response, action: str) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "reauthentication_required"
    assert body["message"] == MESSAGE
    assert body["details"] == {"action": action, "max_age_minutes": 10}


# --- API -------------------------------------------------------------------------------------


def test_a_fresh_token_reveals_and_a_stale_one_is_refused_and_audited(frozen_clock, crm):
    api = api_for(crm.rep_a)
    assert _reveal(api, crm.customer_a).status_code == 200

    frozen_clock.advance(**STALE)
    _refusal(_reveal(api, crm.customer_a), "customer.reveal")

    assert len(events("customer.reveal")) == 1
    [refused] = events("auth.step_up.refused")
    assert refused.actor_employee_id == crm.rep_a.employee_id
    assert refused.params == {"action": "customer.reveal", "max_age_minutes": 10}
    assert refused.channel == "api"


def test_ten_minutes_is_the_limit(frozen_clock, crm, settings):
    settings.GONGHAO_STEP_UP_MINUTES = 30
    api = api_for(crm.rep_a)
    frozen_clock.advance(minutes=29)
    assert _reveal(api, crm.customer_a).status_code == 200
    frozen_clock.advance(minutes=1)
    assert _reveal(api, crm.customer_a).json()["details"]["max_age_minutes"] == 30


def test_reauthenticate_refreshes_the_token_and_is_audited(frozen_clock, crm):
    api = api_for(crm.rep_a)
    frozen_clock.advance(**STALE)

    response = api.post(REAUTH, {"password": PASSWORD})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authenticated_at"].startswith(frozen_clock().isoformat()[:19])
    assert _reveal(api, crm.customer_a).status_code == 200
    [event] = events("auth.reauthenticated")
    assert event.params == {"method": "password"} and event.channel == "api"
    assert event.actor_employee_id == crm.rep_a.employee_id
    frozen_clock.advance(**STALE)
    _refusal(_reveal(api, crm.customer_a), "customer.reveal")


def test_a_wrong_password_does_not_refresh_and_counts_as_a_failure(frozen_clock, crm):
    api = api_for(crm.rep_a)
    frozen_clock.advance(**STALE)

    response = api.post(REAUTH, {"password": "Wrong-Password-123!"})

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_credentials"
    assert events("auth.reauthenticated") == []
    assert [e.params["reason"] for e in events("auth.login.failed")] == ["wrong_password"]
    crm.rep_a.refresh_from_db()
    assert crm.rep_a.failed_login_count == 1
    _refusal(_reveal(api, crm.customer_a), "customer.reveal")


def test_with_a_second_factor_the_code_is_needed_too(frozen_clock, monkeypatch, crm):
    follow_clock(monkeypatch, frozen_clock)
    enable_totp(crm.rep_a)
    api = api_for(crm.rep_a)
    frozen_clock.advance(**STALE)

    without = api.post(REAUTH, {"password": PASSWORD})
    assert without.status_code == 403 and without.json()["code"] == "second_factor_required"
    with_code = api.post(
        REAUTH,
        {"password": PASSWORD, "otp": code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", frozen_clock)},
    )

    assert with_code.status_code == 200
    assert events("auth.reauthenticated")[0].params == {"method": "password+otp"}
    assert _reveal(api, crm.customer_a).status_code == 200


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("customer.export", lambda api, crm: api.get("/api/v1/customers/export.csv")),
        (
            "customer.transfer",
            lambda api, crm: api.post(
                f"/api/v1/customers/{crm.customer_a.pk}/transfer",
                {"owner": crm.rep_b.employee_id},
            ),
        ),
        (
            "contact.reveal",
            lambda api, crm: api.post(
                f"/api/v1/contacts/{_contact(crm).pk}/reveal", {"fields": ["phone"]}
            ),
        ),
    ],
)
def test_other_sensitive_customer_actions_need_a_fresh_authentication(
    frozen_clock, crm, action, call
):
    api = api_for(crm.head)
    frozen_clock.advance(**STALE)
    _refusal(call(api, crm), action)
    crm.customer_a.refresh_from_db()
    assert crm.customer_a.owner_id == crm.rep_a.pk
    assert events(action) == []

    authenticate_freshly(api)
    assert call(api, crm).status_code == 200
    assert len(events(action)) == 1


def _contact(crm):
    from gonghao.crm.models import Contact

    contact = Contact.objects.filter(customer=crm.customer_a).first()
    if contact is None:
        contact = Contact.objects.create(
            customer=crm.customer_a, name="联系人", phone="+8613800138000"
        )
    return contact


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("role.grant", lambda api, crm: api.post(_roles(crm.nobody), {"role": "sales"})),
        ("role.revoke", lambda api, crm: api.delete(f"{_roles(crm.rep_a)}/sales")),
        ("role.update", lambda api, crm: api.patch("/api/v1/roles/sales", {"name_en": "Sellers"})),
    ],
)
def test_role_changes_need_a_fresh_authentication(frozen_clock, crm, action, call):
    api = api_for(crm.security_admin)
    before = len(events(action))  # the cast's own grants
    frozen_clock.advance(**STALE)
    _refusal(call(api, crm), action)
    assert len(events(action)) == before

    authenticate_freshly(api)
    assert call(api, crm).status_code in (200, 201)
    assert len(events(action)) == before + 1


def _roles(employee) -> str:
    return f"/api/v1/employees/{employee.employee_id}/roles"


def test_without_the_permission_the_own_refusal_comes_first(frozen_clock, crm):
    api = api_for(crm.agent)  # customer service: no customer.view_sensitive
    frozen_clock.advance(**STALE)
    response = _reveal(api, crm.customer_a)
    assert response.status_code == 403
    assert response.json()["code"] != "reauthentication_required"
    assert events("auth.step_up.refused") == []


def test_a_personal_token_made_with_a_stale_token_is_stale_too(frozen_clock, crm):
    api = api_for(crm.rep_a)
    frozen_clock.advance(**STALE)
    created = api.post("/api/v1/auth/tokens", {"name": "script", "days": 7, "scope": "write"})
    assert created.status_code == 201, created.content
    from gonghao.testing.kit import ApiClient

    script = ApiClient(created.json()["token"])
    _refusal(_reveal(script, crm.customer_a), "customer.reveal")


def test_a_login_token_starts_fresh(crm):
    api_for(crm.rep_a)
    token = ApiToken.objects.get(employee=crm.rep_a)
    assert token.authenticated_at is not None


# --- pages -----------------------------------------------------------------------------------


def _browser(employee) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(employee)
    return client


def test_a_stale_session_is_sent_to_reauthenticate_and_the_reveal_is_replayed(frozen_clock, crm):
    browser = _browser(crm.rep_a)
    url = f"/customers/{crm.customer_a.pk}/reveal/phone/"
    assert browser.post(url).status_code == 200

    frozen_clock.advance(**STALE)
    response = browser.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/reauthenticate/?next={url.replace('/', '%2F')}"
    assert len(events("customer.reveal")) == 1
    assert events("auth.step_up.refused")[0].channel == "web"

    confirmed = browser.post(
        f"/accounts/reauthenticate/?next={url}", {"password": PASSWORD, "next": url}
    )
    assert confirmed.status_code == 200
    assert crm.customer_a.phone in confirmed.content.decode()
    assert len(events("customer.reveal")) == 2
    assert events("auth.reauthenticated")[0].params["method"] == "password"


def test_a_wrong_password_on_the_reauthentication_page_changes_nothing(frozen_clock, crm):
    browser = _browser(crm.rep_a)
    url = f"/customers/{crm.customer_a.pk}/reveal/phone/"
    frozen_clock.advance(**STALE)
    browser.post(url)

    page = browser.post("/accounts/reauthenticate/", {"password": "nope", "next": url})
    assert page.status_code == 200
    assert events("customer.reveal") == [] and events("auth.reauthenticated") == []
    assert browser.post(url).status_code == 302


def test_an_htmx_reveal_is_sent_back_to_the_page_it_came_from(frozen_clock, crm):
    browser = _browser(crm.rep_a)
    page = f"/customers/{crm.customer_a.pk}/"
    frozen_clock.advance(**STALE)

    response = browser.post(
        f"/customers/{crm.customer_a.pk}/reveal/phone/",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"},
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/accounts/reauthenticate/?next={page.replace('/', '%2F')}"
    assert events("customer.reveal") == []


def test_the_export_download_needs_a_fresh_session_but_the_form_does_not(frozen_clock, crm):
    browser = _browser(crm.head)
    frozen_clock.advance(**STALE)

    assert browser.get("/customers/export/").status_code == 200
    refused = browser.get("/customers/export/?download=csv")
    assert refused.status_code == 302 and refused["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    assert events("customer.export") == []

    authenticate_freshly(browser)
    assert browser.get("/customers/export/?download=csv").status_code == 200
    assert len(events("customer.export")) == 1


def test_granting_a_role_on_the_page_needs_a_fresh_session(frozen_clock, crm):
    browser = _browser(crm.security_admin)
    url = f"/employees/{crm.nobody.employee_id}/roles/"
    frozen_clock.advance(**STALE)

    assert browser.get(url).status_code == 200
    before = len(events("role.grant"))
    refused = browser.post(url, {"role": "sales"})
    assert refused.status_code == 302
    assert len(events("role.grant")) == before
    assert events("auth.step_up.refused")[0].params["action"] == "role.grant"


def test_login_marks_the_session_authenticated(crm):
    browser = _browser(crm.rep_a)
    assert SESSION_KEY in browser.session
