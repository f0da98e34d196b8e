"""The customer 360 page: details, contacts, follow-up timeline and audit trail, per role."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.crm import contacts as contact_services
from gonghao.crm import followups
from gonghao.crm.models import Contact, Interaction
from gonghao.testing.kit import make_employee


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


@pytest.fixture
def filled(crm):
    """customer_a with a primary contact and two follow-ups, written through the services."""
    contact = contact_services.create_contact(
        crm.customer_a.pk,
        actor=crm.rep_a,
        data={
            "name": "李经理",
            "phone": "13800138000",
            "email": "li@jia.example.cn",
            "wechat": "li_wx_2024",
            "is_primary": True,
        },
    )
    followups.record_interaction(
        crm.customer_a.pk,
        actor=crm.rep_a,
        data={"kind": "visit", "content": "上门拜访", "contact_id": contact.pk},
    )
    followups.record_interaction(
        crm.customer_a.pk, actor=crm.agent, data={"kind": "service_request", "content": "报修"}
    )
    return contact


def test_rep_sees_the_whole_360_with_every_action(crm, filled):
    response = browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    # Contacts, masked, with add / edit / delete / reveal.
    assert "李经理" in html and "138****8000" in html and "l***4" in html
    assert "13800138000" not in html and "li_wx_2024" not in html
    assert f"/customers/{crm.customer_a.pk}/contacts/new/" in html
    assert f"/customers/contacts/{filled.pk}/edit/" in html
    assert f"/customers/contacts/{filled.pk}/delete/" in html
    assert f"/customers/contacts/{filled.pk}/reveal/phone/" in html
    # The cards loaded after the page: opportunities, follow-ups, shares; no audit trail
    # without audit.view.
    assert 'id="customer-opportunities"' in html
    assert f'hx-get="/customers/{crm.customer_a.pk}/timeline/"' in html
    assert f'hx-get="/customers/{crm.customer_a.pk}/shares/card/"' in html
    assert "/audit-trail/" not in html
    # The timeline card, newest first, with 工号 and name, and the record form.
    card = browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/timeline/")
    assert card.status_code == 200
    assert [i.content for i in card.context["interactions"]] == ["报修", "上门拜访"]
    timeline = card.content.decode()
    assert timeline.lstrip().startswith('<div id="timeline"')
    assert crm.agent.employee_id in timeline and "陈客服" in timeline
    assert crm.rep_a.employee_id in timeline
    assert 'data-testid="interaction-form"' in timeline
    assert browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/audit-trail/").status_code == 403


def test_agent_sees_and_records_but_cannot_change_contacts(crm, filled):
    response = browser(crm.agent).get(f"/customers/{crm.customer_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "李经理" in html and "138****8000" in html
    assert "/contacts/new/" not in html
    assert f"/customers/contacts/{filled.pk}/edit/" not in html
    assert "/reveal/" not in html
    timeline = browser(crm.agent).get(f"/customers/{crm.customer_a.pk}/timeline/")
    assert 'data-testid="interaction-form"' in timeline.content.decode()


def test_admin_reads_only(crm, filled):
    response = browser(crm.admin).get(f"/customers/{crm.customer_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "李经理" in html
    assert "/contacts/new/" not in html and "/reveal/" not in html
    timeline = browser(crm.admin).get(f"/customers/{crm.customer_a.pk}/timeline/")
    assert "上门拜访" in timeline.content.decode()
    assert 'data-testid="interaction-form"' not in timeline.content.decode()
    assert timeline.context["can_record"] is False


def test_head_may_edit_and_reveal(crm, filled):
    response = browser(crm.head).get(f"/customers/{crm.customer_a.pk}/")
    assert response.context["can_edit_contacts"] and response.context["can_reveal_contacts"]


CARDS = ("", "timeline/", "shares/card/", "audit-trail/")


@pytest.mark.parametrize("card", CARDS)
@pytest.mark.parametrize("role", ["auditor", "security_admin", "marketer", "nobody"])
def test_no_customer_view_no_page(crm, filled, role, card):
    page = f"/customers/{crm.customer_a.pk}/{card}"
    assert browser(getattr(crm, role)).get(page).status_code == 403


@pytest.mark.parametrize("card", CARDS)
def test_out_of_scope_is_404(crm, filled, card):
    assert browser(crm.rep_a).get(f"/customers/{crm.customer_c.pk}/{card}").status_code == 404


def test_audit_trail_for_audit_view_holders(crm, filled):
    # An auditor who also serves customers: sees the page and this customer's trail.
    auditing_agent = make_employee(
        "钱审计", roles=("auditor", "customer_service"), department=crm.service
    )
    client = browser(auditing_agent)
    page = client.get(f"/customers/{crm.customer_a.pk}/")
    assert page.status_code == 200
    assert f'hx-get="/customers/{crm.customer_a.pk}/audit-trail/"' in page.content.decode()
    response = client.get(f"/customers/{crm.customer_a.pk}/audit-trail/")
    assert response.status_code == 200
    trail = response.context["audit_trail"]
    # The page view itself is the newest event (reads are audited: GONGHAO_AUDIT_READS).
    assert [e.action for e in trail] == [
        "customer.view",
        "interaction.create",
        "interaction.create",
        "contact.create",
    ]
    assert all(e.target_id == str(crm.customer_a.pk) for e in trail)
    html = response.content.decode()
    assert 'data-testid="audit-trail"' in html
    assert "Added contact 李经理 to customer 上海甲公司" in html


def test_audit_trail_is_limited_to_the_latest_20(crm, filled):
    for n in range(25):
        contact_services.update_contact(filled.pk, actor=crm.rep_a, data={"title": f"title {n}"})
    viewer = make_employee("孙审计", roles=("auditor", "customer_service"), department=crm.service)
    client = browser(viewer)
    client.get(f"/customers/{crm.customer_a.pk}/")
    trail = client.get(f"/customers/{crm.customer_a.pk}/audit-trail/").context["audit_trail"]
    assert len(trail) == 20
    assert trail[1].params == {"contact": "李经理"}
    assert trail[0].seq > trail[-1].seq


# --- htmx -------------------------------------------------------------------------------------


def test_recording_by_htmx_returns_the_refreshed_timeline(crm, filled):
    client = browser(crm.rep_a)
    response = client.post(
        f"/customers/{crm.customer_a.pk}/interactions/new/",
        {"kind": "call", "content": "电话回访", "contact_id": str(filled.pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="timeline"')
    assert "电话回访" in html
    assert response.context["interactions"][0].content == "电话回访"
    assert Interaction.objects.filter(customer=crm.customer_a).count() == 3


def test_htmx_errors_come_back_in_the_fragment(crm, filled):
    response = browser(crm.rep_a).post(
        f"/customers/{crm.customer_a.pk}/interactions/new/",
        {"kind": "call", "content": "x", "next_follow_up": "2000-01-01"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "The next follow-up cannot be before the interaction." in html
    assert Interaction.objects.filter(customer=crm.customer_a).count() == 2


def test_recording_without_htmx_redirects_to_the_timeline(crm, filled):
    response = browser(crm.rep_a).post(
        f"/customers/{crm.customer_a.pk}/interactions/new/", {"kind": "note", "content": "备注"}
    )
    assert response.status_code == 302
    assert response.url == f"/customers/{crm.customer_a.pk}/#timeline"


def test_page_in_chinese(crm, filled):
    html = browser(crm.rep_a, language="zh-hans").get(f"/customers/{crm.customer_a.pk}/")
    assert html.status_code == 200
    assert 'lang="zh-hans"' in html.content.decode()


def test_deleted_contact_leaves_the_page(crm, filled):
    contact_services.delete_contact(filled.pk, actor=crm.rep_a)
    response = browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/")
    assert response.context["contacts"] == []
    # Its interaction keeps pointing at it (history stays readable).
    assert Interaction.objects.filter(contact=filled).count() == 1
    assert Contact.objects.get(pk=filled.pk).deleted_at is not None
    assert AuditEvent.objects.filter(action="contact.delete").count() == 1
