"""The imports and exports API: upload → preview → commit, progress, templates, scope, masking."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gonghao.access.services import grant_role
from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_crm_cast, make_customer
from gonghao.testing.kit import api_for
from gonghao.transfer.models import ImportBatch

from .helpers import CUSTOMER_HEADER_EN, csv_bytes, read_csv, read_xlsx

pytestmark = pytest.mark.django_db
IMPORTS = "/api/v1/imports"


@pytest.fixture
def crm():
    return make_crm_cast()


def upload(api, content, name="customers.csv", kind="customers"):
    return api.client.post(
        IMPORTS,
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        headers=api.headers,
    )


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_upload_preview_progress_and_commit(crm):
    api = api_for(crm.head)
    rows = [
        ["API 客户", "A", "", crm.rep_b.employee_id, "13800138000", "", ""],
        ["", "", "", "", "", "", ""],
        ["无名", "Q", "", "", "", "", ""],
    ]
    response = upload(api, csv_bytes(CUSTOMER_HEADER_EN, rows))
    assert response.status_code == 201, response.content
    preview = response.json()
    assert (preview["total"], preview["valid"], preview["status"]) == (2, 1, "invalid")
    assert preview["errors"] == [
        {
            "row": 4,
            "column": "level",
            "code": "invalid_choice",
            "message": "“Q” is not one of: A, B, C, D.",
        }
    ]
    assert preview["preview"][0][0] == "API 客户"
    refused = api.post(f"{IMPORTS}/{preview['id']}/commit")
    assert refused.status_code == 409 and refused.json()["code"] == "import_has_errors"

    good = upload(api, csv_bytes(CUSTOMER_HEADER_EN, rows[:1])).json()
    assert good["errors"] == [] and good["status"] == "preview"
    progress = api.get(f"{IMPORTS}/{good['id']}/progress").json()
    assert progress == {
        "id": good["id"],
        "status": "preview",
        "processed": 1,
        "total": 1,
        "created": 0,
    }
    done = api.post(f"{IMPORTS}/{good['id']}/commit")
    assert done.status_code == 200, done.content
    assert done.json()["created"] == 1 and done.json()["status"] == "committed"
    assert Customer.objects.get(name="API 客户").owner == crm.rep_b
    event = AuditEvent.objects.get(action="import.commit")
    assert event.params["created"] == 1 and event.actor_employee_id == crm.head.employee_id
    assert api.get(f"{IMPORTS}/{good['id']}").json()["processed"] == 1


def test_errors_come_in_the_callers_language(crm):
    api = api_for(crm.rep_a, language="zh-hans")
    response = upload(api, csv_bytes(CUSTOMER_HEADER_EN, [["x", "", "", "", "bad", "", ""]]))
    [problem] = response.json()["errors"]
    assert problem["code"] == "invalid_phone"
    english = api_for(crm.rep_a).get(f"{IMPORTS}/{response.json()['id']}").json()["errors"][0]
    assert english["message"] == "“bad” is not a valid phone number."


def test_another_employees_import_is_404(crm):
    mine = upload(
        api_for(crm.rep_a), csv_bytes(CUSTOMER_HEADER_EN, [["私", "", "", "", "", "", ""]])
    ).json()
    other = api_for(crm.head)
    assert other.get(f"{IMPORTS}/{mine['id']}").status_code == 404
    assert other.post(f"{IMPORTS}/{mine['id']}/commit").json()["code"] == "import_not_found"
    assert not Customer.objects.filter(name="私").exists()


@pytest.mark.parametrize("who", ["marketer", "agent", "auditor", "nobody"])
def test_import_refused_without_the_permission(crm, who):
    response = upload(api_for(getattr(crm, who)), csv_bytes(CUSTOMER_HEADER_EN, [["x"]]))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ImportBatch.objects.count() == 0


def test_bad_uploads_are_422_with_a_code(crm):
    api = api_for(crm.rep_a)
    junk = upload(api, bytes(range(256)) * 100, name="x.csv")
    assert junk.status_code == 422 and junk.json()["code"] == "not_text"
    fake = upload(api, b"a,b\n", name="x.xlsx")
    assert fake.json()["code"] == "not_xlsx"
    kind = upload(api, csv_bytes(CUSTOMER_HEADER_EN, [["x"]]), kind="planets")
    assert kind.status_code == 422 and kind.json()["code"] == "unknown_kind"
    missing = api.client.post(IMPORTS, {"kind": "customers"}, headers=api.headers)
    assert missing.status_code == 422
    assert ImportBatch.objects.count() == 0


def test_an_upload_over_the_size_limit_is_refused_before_reading(crm, settings):
    settings.GONGHAO_IMPORT_MAX_BYTES = 100
    response = upload(api_for(crm.rep_a), b"Name\n" + b"x" * 200)
    assert response.status_code == 422 and response.json()["code"] == "file_too_large"


@pytest.mark.parametrize(("language", "first"), [("en", "Name*"), ("zh-hans", "名称*")])
def test_templates_in_the_users_language_round_trip(crm, language, first):
    api = api_for(crm.rep_a, language=language)
    xlsx = api.get(f"{IMPORTS}/templates/customers", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert read_xlsx(xlsx.content)[0][0] == first
    csv_template = api.get(f"{IMPORTS}/templates/customers", {"format": "csv"})
    assert read_csv(csv_template.content)[0][0] == first
    # The template itself imports cleanly (its example row).
    for content, name in ((xlsx.content, "t.xlsx"), (csv_template.content, "t.csv")):
        preview = upload(api, content, name=name).json()
        assert preview["errors"] == [] and preview["valid"] == 1
    assert api.get(f"{IMPORTS}/templates/planets").status_code == 422
    assert api.get(f"{IMPORTS}/templates/customers", {"format": "pdf"}).status_code == 422


def test_a_template_is_only_for_those_who_may_import_that_kind(crm):
    """As on the page (the API gave anyone a template before; found by the authorization walk)."""
    for who in ("marketer", "auditor", "security_admin"):
        answer = api_for(getattr(crm, who)).get(f"{IMPORTS}/templates/customers")
        assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert api_for(crm.rep_a).get(f"{IMPORTS}/templates/employees").status_code == 403
    assert api_for(crm.admin).get(f"{IMPORTS}/templates/employees").status_code == 200


# --- exports -----------------------------------------------------------------------------------


def test_xlsx_export_in_clear_for_the_head_masked_for_marketing(crm):
    make_customer(crm.rep_a, "=cmd|' /C calc'!A0", notes="@SUM(A1)")
    head = api_for(crm.head).get("/api/v1/exports/customers", {"format": "xlsx"})
    assert head.status_code == 200
    assert 'filename="customers.xlsx"' in head["Content-Disposition"]
    rows = read_xlsx(body(head))
    header = rows[0]
    by_name = {r[header.index("Name")]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"上海甲公司", "杭州乙公司", "'=cmd|' /C calc'!A0"}
    assert by_name["上海甲公司"]["Phone"] == "'+8613812341234"
    assert by_name["'=cmd|' /C calc'!A0"]["Notes"] == "'@SUM(A1)"

    marketing = read_xlsx(
        body(api_for(crm.marketer).get("/api/v1/exports/customers", {"format": "xlsx"}))
    )
    text = repr(marketing)
    assert "138****1234" in text and "13812341234" not in text and "buyer@" not in text
    assert "Notes" not in marketing[0]
    event = AuditEvent.objects.filter(action="customer.export").latest("seq")
    assert event.params == {"count": 4} and event.changes["format"] == [None, "xlsx"]


def test_contacts_export_masks_without_the_sensitive_permission(crm):
    from gonghao.crm.models import Contact

    Contact.objects.create(
        customer=crm.customer_a,
        name="联系人甲",
        phone="+8613700001111",
        email="jia@example.cn",
        wechat="wxid_jia",
        is_primary=True,
    )
    head = read_csv(body(api_for(crm.head).get("/api/v1/exports/contacts", {"format": "csv"})))
    assert head[1][3:8] == ["联系人甲", "", "'+8613700001111", "jia@example.cn", "wxid_jia"]
    # marketing alone may not export contacts (personal data of people at customers)
    refused = api_for(crm.marketer).get("/api/v1/exports/contacts")
    assert refused.status_code == 403
    # with read access but not customer.view_sensitive: masked
    grant_role(crm.marketer, "customer_service", actor=None, check_permission=False)
    masked = read_xlsx(
        body(api_for(crm.marketer).get("/api/v1/exports/contacts", {"format": "xlsx"}))
    )
    assert masked[1][5:8] == ["137****1111", "j***@example.cn", "w***a"]
    event = AuditEvent.objects.filter(action="export.run").latest("seq")
    assert event.params == {"count": 1, "kind": "contacts", "format": "xlsx"}
    assert event.changes["clear_personal_data"] == [None, False]


def test_interactions_and_opportunities_exports_follow_scope(crm):
    from gonghao.core import clock
    from gonghao.crm.models import Interaction, Opportunity, Stage

    for customer, owner in ((crm.customer_a, crm.rep_a), (crm.customer_c, crm.rep_c)):
        Interaction.objects.create(
            customer=customer,
            employee=owner,
            kind="call",
            occurred_at=clock.now(),
            content=f"=call {customer.name}",
        )
        Opportunity.objects.create(
            customer=customer,
            name=f"商机 {customer.name}",
            owner=owner,
            owner_department=owner.department,
            stage=Stage.objects.first(),
            amount=1000,
        )
    head = api_for(crm.head)
    interactions = read_csv(body(head.get("/api/v1/exports/interactions", {"format": "csv"})))
    assert [r[2] for r in interactions[1:]] == ["上海甲公司"]
    assert interactions[1][8] == "'=call 上海甲公司"
    opportunities = read_xlsx(body(head.get("/api/v1/exports/opportunities", {"format": "xlsx"})))
    assert [r[1] for r in opportunities[1:]] == ["商机 上海甲公司"]
    assert head.get("/api/v1/exports/planets").status_code == 422
    assert head.get("/api/v1/exports/customers", {"format": "pdf"}).status_code == 422
    for who in ("rep_a", "agent", "nobody"):
        assert api_for(getattr(crm, who)).get("/api/v1/exports/customers").status_code == 403
    assert AuditEvent.objects.filter(action="export.run").count() == 2


def test_export_filters_are_applied_and_audited(crm):
    response = api_for(crm.head).get("/api/v1/exports/customers", {"format": "csv", "level": "A"})
    rows = read_csv(body(response))
    assert [r[2] for r in rows[1:]] == ["上海甲公司"]
    event = AuditEvent.objects.filter(action="customer.export").latest("seq")
    assert event.changes["filter"][1]["level"] == "A" and event.params["count"] == 1
    bad_owner = api_for(crm.head).get("/api/v1/exports/customers", {"owner": "nobody"})
    assert bad_owner.status_code == 422
