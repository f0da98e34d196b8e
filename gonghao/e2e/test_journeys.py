"""The main journeys in a real browser, in Chinese and in English, with screenshots of each step."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator

from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer, Interaction
from gonghao.messaging.models import Message
from gonghao.messaging.services import deliver_pending
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import PASSWORD, make_employee

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Harbour-Lantern-Quiet-2041"


def test_onboarding_request_approval_and_first_login(browse, settings):
    # The approving administrator holds no sales role; this company lets them grant it anyway.
    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    cast = make_crm_cast()

    head = browse("head")
    head.log_in(cast.head.employee_id, PASSWORD)
    head.assert_language()
    head.go("/employees/requests/new/")
    head.page.fill("#id_name", "孙新人")
    head.page.select_option("#id_department", str(cast.sales.pk))
    head.page.fill("#id_manager", cast.head.employee_id)
    head.page.fill("#id_phone", "13800138123")
    head.page.fill("#id_email", "sun@example.cn")
    head.page.check("input[name=roles][value=sales]")
    head.shot("request-form")
    head.submit()
    head.shot("request-filed")
    new_id = head.page.locator("h1 .font-monospace-id").inner_text().strip()
    assert Employee.objects.filter(employee_id=new_id).count() == 0

    admin = browse("admin")
    admin.log_in(cast.admin.employee_id, PASSWORD)
    admin.go("/employees/requests/")
    admin.shot("queue")
    with admin.page.expect_navigation():
        admin.page.locator("tr", has_text=new_id).locator("a").first.click()
    admin.submit("[data-testid=approve]")
    admin.shot("approved")
    initial_password = admin.page.locator("[data-testid=approved] code").inner_text().strip()

    newcomer = browse("newcomer")
    newcomer.log_in(new_id, initial_password)
    assert "/accounts/password/change/" in newcomer.page.url
    newcomer.shot("forced-change")
    newcomer.page.fill("input[name=oldpassword]", initial_password)
    newcomer.page.fill("input[name=password1]", NEW_PASSWORD)
    newcomer.page.fill("input[name=password2]", NEW_PASSWORD)
    newcomer.submit()
    newcomer.shot("home")
    assert newcomer.page.locator("[data-testid=whoami]").inner_text().startswith(new_id)
    employee = Employee.objects.get(employee_id=new_id)
    assert not employee.must_change_password
    assert employee.check_password(NEW_PASSWORD)


def _totp(secret: str, steps_back: int = 0) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // 30 - steps_back
    return format_hotp_value(hotp_value(secret, counter))


def _wait_for_a_fresh_step(seconds_left: float = 12) -> None:
    """Wait, if need be, until the current 30-second step has `seconds_left` to run: a code of
    the previous step is accepted (tolerance 1) only until this step ends, and a loaded machine
    can take seconds between filling the code in and the server checking it."""
    left = 30 - time.time() % 30
    if left < seconds_left:
        time.sleep(left + 0.5)


def test_totp_enrolment_then_login_with_a_code(browse, settings):
    # A one-step window lets enrolment use the previous step's code and login the current
    # one: two different codes, so the replay guard is not in the way and is not bypassed.
    settings.MFA_TOTP_TOLERANCE = 1
    settings.GONGHAO_MFA_REQUIRED_ROLES = ["system_admin"]
    admin = make_employee("郑管理", roles=("system_admin",))

    first = browse("admin")
    first.log_in(admin.employee_id, PASSWORD)
    if "/accounts/reauthenticate/" in first.page.url:
        first.shot("confirm-password")
        first.page.fill("input[name=password]", PASSWORD)
        first.submit("main form button[type=submit]")
    assert "/accounts/2fa/totp/activate/" in first.page.url
    first.shot("enrolment-required")
    secret = first.page.locator("#authenticator_secret").input_value()
    _wait_for_a_fresh_step()
    first.page.fill("input[name=code]", _totp(secret, steps_back=1))
    first.submit("main form button[type=submit]")
    first.shot("enrolled")
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()

    again = browse("admin-again")
    again.log_in(admin.employee_id, PASSWORD)
    assert "/accounts/2fa/authenticate/" in again.page.url
    again.shot("second-factor")
    again.page.fill("input[name=code]", "000000" if _totp(secret) != "000000" else "111111")
    again.submit("main form button[type=submit]")
    again.shot("wrong-code")
    assert "/accounts/2fa/authenticate/" in again.page.url
    again.page.fill("input[name=code]", _totp(secret))
    again.submit("main form button[type=submit]")
    again.shot("home")
    assert again.page.locator("[data-testid=whoami]").inner_text().startswith(admin.employee_id)


def test_forgotten_password_reset_by_code(browse, settings, tmp_path):
    settings.GONGHAO_OUTBOX_DIR = tmp_path
    settings.GONGHAO_SMS_BACKEND = "outbox"
    employee = make_employee("钱忘记", phone="+8613700137000", email="qian@example.cn")

    visitor = browse("employee")
    visitor.go("/accounts/login/")
    with visitor.page.expect_navigation():
        visitor.page.click("[data-testid=forgot-password]")
    visitor.page.fill("input[name=identifier]", "137 0013 7000")
    visitor.shot("ask-for-code")
    visitor.submit()
    visitor.shot("code-sent")
    message = Message.objects.filter(template="auth.code").latest("pk")
    assert message.recipient == "+8613700137000"
    # The code goes out once the answer has been sent (or by the outbox job): wait for it.
    deadline = time.monotonic() + 10
    while not list(tmp_path.glob("*.txt")) and time.monotonic() < deadline:
        deliver_pending()
        time.sleep(0.05)
    # The database keeps no secret body once sent: read the code where the phone got it.
    [sms] = tmp_path.glob("*.txt")
    code = re.search(r"\b(\d{6})\b", sms.read_text(encoding="utf-8")).group(1)

    visitor.page.fill("input[name=code]", code)
    visitor.page.fill("input[name=new_password]", NEW_PASSWORD)
    visitor.page.fill("input[name=new_password2]", NEW_PASSWORD)
    visitor.shot("new-password")
    visitor.submit()
    visitor.shot("reset-done")

    visitor.log_in(employee.employee_id, NEW_PASSWORD)
    visitor.shot("home")
    assert (
        visitor.page.locator("[data-testid=whoami]").inner_text().startswith(employee.employee_id)
    )


def test_customer_create_edit_and_follow_up(browse):
    cast = make_crm_cast()
    rep = browse("sales")
    rep.log_in(cast.rep_a.employee_id, PASSWORD)
    rep.go("/customers/new/")
    rep.page.select_option("#id_kind", "company")
    rep.page.fill("#id_name", "深圳丁科技有限公司")
    rep.page.fill("#id_phone", "13600136000")
    rep.page.select_option("#id_level", "B")
    rep.shot("new-customer")
    rep.submit()
    customer = Customer.objects.get(name="深圳丁科技有限公司")
    assert customer.owner == cast.rep_a
    assert f"/customers/{customer.pk}/" in rep.page.url
    rep.shot("customer-360")

    with rep.page.expect_navigation():
        rep.page.click(f"a[href='/customers/{customer.pk}/edit/']")
    rep.page.select_option("#id_level", "A")
    rep.page.fill("#id_notes", "年底有采购计划")
    rep.submit()
    rep.shot("edited")
    customer.refresh_from_db()
    assert (customer.level, customer.notes) == ("A", "年底有采购计划")

    form = rep.page.locator("[data-testid=interaction-form]")
    form.locator("select[name=kind]").select_option("call")
    form.locator("textarea[name=content]").fill("电话沟通采购需求，约下周拜访")
    form.locator("input[name=outcome]").fill("有意向")
    form.locator("input[name=next_follow_up]").fill("2030-01-15")
    form.locator("button[type=submit]").click()
    entry = rep.page.locator("[data-testid=interaction]", has_text="约下周拜访")
    entry.wait_for()
    assert cast.rep_a.employee_id in entry.inner_text()
    rep.shot("followed-up")
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.employee == cast.rep_a
    assert str(interaction.next_follow_up) == "2030-01-15"
    assert AuditEvent.objects.filter(target_id=str(customer.pk), action="customer.update").exists()


def test_access_review_revoke_one_grant_keep_another(browse):
    from gonghao.access.models import RoleGrant
    from gonghao.lifecycle.access_models import AccessReviewItem

    cast = make_crm_cast()
    # The Sales head manages rep_a and this second rep: both grants come to the head to decide.
    rep_d = make_employee("赵新", roles=("sales",), department=cast.sales, manager=cast.head)

    leaver = browse("sales")
    leaver.log_in(rep_d.employee_id, PASSWORD)
    assert leaver.go("/customers/").status == 200
    leaver.shot("customers-before")

    security = browse("security")
    security.log_in(cast.security_admin.employee_id, PASSWORD)
    security.go("/access/reviews/new/")
    security.confirm_password_if_asked(PASSWORD)
    security.page.fill("#id_name", "Sales Q4")
    security.page.select_option("#id_scope", "department")
    security.page.select_option("#id_department", str(cast.sales.pk))
    security.page.select_option("#id_undecided_default", "keep")
    security.shot("new-campaign")
    security.submit()
    security.confirm_password_if_asked(PASSWORD)
    assert re.search(r"/access/reviews/\d+/$", security.page.url)
    security.shot("campaign-started")
    campaign_url = security.page.url.removeprefix(security.base_url)
    items = AccessReviewItem.objects.filter(campaign__name="Sales Q4")
    mine = items.filter(reviewer=cast.head)
    assert set(mine.values_list("employee__employee_id", flat=True)) == {
        cast.rep_a.employee_id,
        rep_d.employee_id,
    }

    head = browse("head")
    head.log_in(cast.head.employee_id, PASSWORD)
    head.go("/access/reviews/")
    head.shot("reviews")
    with head.page.expect_navigation():
        head.page.click("[data-testid=my-queue]")
    head.confirm_password_if_asked(PASSWORD)
    rows = head.page.locator("[data-testid=review-item]")
    assert rows.count() == 2
    head.shot("my-queue")

    def choose(employee_id: str) -> None:
        row = head.page.locator(f"[data-testid=review-item][data-employee='{employee_id}']")
        row.locator("input[name=items]").check()

    choose(rep_d.employee_id)
    head.page.fill("#id_comment", "Moved to another team")
    head.shot("revoke-chosen")
    head.submit("[data-testid=revoke]")
    head.confirm_password_if_asked(PASSWORD)
    head.shot("revoked")
    choose(cast.rep_a.employee_id)
    head.submit("[data-testid=keep]")
    head.shot("kept")
    assert head.page.locator("[data-testid=review-item] input[name=items]").count() == 0

    revoked = mine.get(employee=rep_d)
    kept = mine.get(employee=cast.rep_a)
    assert (revoked.decision, revoked.comment) == ("revoke", "Moved to another team")
    assert kept.decision == "keep"
    in_force = RoleGrant.objects.in_force()
    assert not in_force.filter(pk=revoked.grant_id).exists()
    assert in_force.filter(pk=kept.grant_id).exists()

    assert leaver.go("/customers/").status == 403
    leaver.shot("customers-refused")

    security.go(campaign_url)
    security.shot("report")
    report = security.page.locator("[data-testid=report-item]")
    revoked_row = report.and_(security.page.locator(f"[data-employee='{rep_d.employee_id}']"))
    kept_row = report.and_(security.page.locator(f"[data-employee='{cast.rep_a.employee_id}']"))
    assert revoked_row.get_attribute("data-decision") == "revoke"
    assert "Moved to another team" in revoked_row.inner_text()
    assert cast.head.employee_id in revoked_row.inner_text()
    assert kept_row.get_attribute("data-decision") == "keep"


def test_offboarding_hands_customers_to_the_successor(browse):
    from gonghao.testing.crm import make_customer

    cast = make_crm_cast()
    extra = make_customer(cast.rep_b, "苏州丁公司", phone="+8613612345678")
    moving = {cast.customer_b.pk, extra.pk}

    rep = browse("leaver")
    rep.log_in(cast.rep_b.employee_id, PASSWORD)
    rep.go("/customers/")
    rep.shot("working")

    admin = browse("admin")
    admin.log_in(cast.admin.employee_id, PASSWORD)
    admin.go(f"/employees/{cast.rep_b.employee_id}/")
    admin.shot("employee")
    with admin.page.expect_navigation():
        admin.page.click("[data-testid=offboard]")
    admin.confirm_password_if_asked(PASSWORD)
    admin.page.fill("#id_successor", cast.rep_a.employee_id)
    admin.shot("offboard-form")
    admin.submit("[data-testid=preview]")
    admin.confirm_password_if_asked(PASSWORD)
    preview = admin.page.locator("[data-testid='preview-crm.customers']")
    for customer in (cast.customer_b, extra):
        assert customer.name in preview.inner_text()
    admin.shot("preview")
    admin.submit("[data-testid=confirm]")
    admin.confirm_password_if_asked(PASSWORD)
    assert admin.page.url.endswith(f"/employees/{cast.rep_b.employee_id}/offboarding/")
    admin.shot("report")
    report = admin.page.locator("[data-testid=report]").inner_text()
    for customer in (cast.customer_b, extra):
        assert customer.name in report
    assert cast.rep_a.employee_id in report

    assert (
        set(Customer.objects.filter(owner=cast.rep_a, pk__in=moving).values_list("pk", flat=True))
        == moving
    )
    cast.rep_b.refresh_from_db()
    assert cast.rep_b.status == "departed"

    rep.go("/customers/")
    assert "/accounts/login/" in rep.page.url
    rep.shot("session-ended")
    rep.log_in(cast.rep_b.employee_id, PASSWORD)
    assert "/accounts/login/" in rep.page.url
    refusal = rep.page.locator("[data-testid=login-error]")
    assert refusal.is_visible() and refusal.inner_text().strip()
    rep.shot("login-refused")


def test_public_pool_release_then_claim(browse):
    cast = make_crm_cast()
    customer = cast.customer_a

    owner = browse("sales-owner")
    owner.log_in(cast.rep_a.employee_id, PASSWORD)
    owner.go(f"/customers/{customer.pk}/")
    owner.shot("customer")
    with owner.page.expect_navigation():
        owner.page.click("[data-testid=release]")
    owner.confirm_password_if_asked(PASSWORD)
    owner.page.fill("#id_reason", "No budget this year")
    owner.shot("release-form")
    owner.submit()
    assert owner.page.url.endswith("/customers/")
    owner.shot("released")
    customer.refresh_from_db()
    assert customer.owner is None
    event = AuditEvent.objects.get(action="customer.pool_release", target_id=str(customer.pk))
    assert event.params["reason"] == "No budget this year"

    claimer = browse("sales-claimer")
    claimer.log_in(cast.rep_c.employee_id, PASSWORD)
    claimer.go("/customers/pool/")
    row = claimer.page.locator(f"[data-testid=pool-row][data-customer='{customer.pk}']")
    assert customer.name in row.inner_text()
    claimer.shot("pool")
    claimer.submit(f"[data-testid=pool-row][data-customer='{customer.pk}'] [data-testid=claim]")
    assert claimer.page.url.endswith(f"/customers/{customer.pk}/")
    claimer.shot("claimed")
    customer.refresh_from_db()
    assert customer.owner == cast.rep_c
    claimer.go("/customers/pool/")
    assert claimer.page.locator("[data-testid=pool-row]").count() == 0
    claimer.shot("pool-empty")


def test_import_customers_from_a_csv(browse, tmp_path):
    import csv

    cast = make_crm_cast()
    upload = tmp_path / "customers.csv"
    with upload.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name*", "Level", "Source", "Owner 工号", "Phone", "E-mail", "Notes"])
        writer.writerow(["南京导入甲公司", "A", "", "", "13500135001", "", "展会"])
        writer.writerow(["南京导入乙公司", "B", "", "", "", "buy@yi.example.cn", ""])
    names = {"南京导入甲公司", "南京导入乙公司"}

    rep = browse("sales")
    rep.log_in(cast.rep_a.employee_id, PASSWORD)
    rep.go("/data/imports/")
    rep.confirm_password_if_asked(PASSWORD)
    rep.page.select_option("#id_kind", "customers")
    rep.page.set_input_files("#id_file", str(upload))
    rep.shot("upload")
    rep.submit()
    assert re.search(r"/data/imports/\d+/$", rep.page.url)
    preview = rep.page.locator("[data-testid=import-preview]")
    assert all(name in preview.inner_text() for name in names)
    # The header shows the column titles of the page's language, not the internal keys.
    expected_header = {"zh-hans": "名称*", "en": "Name*"}[rep.language]
    assert preview.locator("th").nth(1).inner_text().strip() == expected_header
    assert rep.page.locator("[data-testid=import-status]").get_attribute("data-status") == "preview"
    assert not Customer.objects.filter(name__in=names).exists()
    rep.shot("preview")

    # The button posts through htmx, which answers with HX-Redirect: a full page load follows.
    rep.submit("[data-testid=commit-import]")
    rep.page.locator("[data-testid=import-status][data-status=committed]").wait_for()
    rep.shot("committed")
    imported = Customer.objects.filter(name__in=names)
    assert set(imported.values_list("name", flat=True)) == names
    assert {c.owner for c in imported} == {cast.rep_a}
    rep.go("/customers/")
    for name in names:
        assert rep.page.locator("main", has_text=name).count() == 1
    rep.shot("customer-list")
