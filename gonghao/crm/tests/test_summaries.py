"""Customer audit summaries read as the brief writes them, in both languages."""

from django.utils import translation

from gonghao.audit.models import AuditEvent
from gonghao.crm import services


def test_create_summary_in_chinese_and_english(crm):
    customer = services.create_customer(actor=crm.rep_a, data={"name": "张三"})
    event = AuditEvent.objects.get(action="customer.create", target_id=str(customer.pk))
    with translation.override("zh-hans"):
        assert event.summary == "添加新客户信息：张三"
    with translation.override("en"):
        assert event.summary == "Added customer 张三"
    assert event.actor_employee_id == crm.rep_a.employee_id


def test_phone_search_accepts_international_form(crm):
    from gonghao.crm.queries import CustomerFilter, customers_for

    for typed in ("13812341234", "+8613812341234", "+86 138 1234 1234", "8613812341234"):
        found = customers_for(crm.rep_a, CustomerFilter(q=typed))
        assert [c.name for c in found] == ["上海甲公司"], typed


def test_export_audit_masks_a_searched_phone_number(crm):
    from gonghao.crm.exports import export_rows
    from gonghao.crm.queries import CustomerFilter

    export_rows(crm.head, CustomerFilter(q="13812341234"))
    event = AuditEvent.objects.filter(action="customer.export").latest("seq")
    assert event.changes["filter"][1]["q"] == "138****1234"
    assert "13812341234" not in str(event.changes)
