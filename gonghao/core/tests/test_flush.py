"""Transactional tests can flush the database although the audit table refuses DELETE."""

import pytest

from gonghao.testing.kit import make_cast


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [1, 2])
def test_transactional_tests_flush_audit_events(run):
    cast = make_cast()
    from gonghao.audit.models import AuditEvent

    assert AuditEvent.objects.filter(actor_employee_id="").exists()
    assert cast.admin.employee_id
