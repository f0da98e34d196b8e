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
