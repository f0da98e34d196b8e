"""Django authentication backend: sessions resolve to active employees only."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from gonghao.access.services import bind_to_request
from gonghao.core.errors import GonghaoError

from . import services


class EmployeeBackend(ModelBackend):
    """Password checks go through `services.authenticate_employee` (lockout, audit)."""

    def authenticate(self, request, username=None, password=None, employee_id=None, **kwargs):
        try:
            return services.authenticate_employee(employee_id or username or "", password or "")
        except GonghaoError:
            return None

    def get_user(self, user_id):
        """The session's employee, loaded for this request only (see `bind_to_request`)."""
        try:
            employee = services.REQUEST_EMPLOYEE.first(pk=int(user_id))
        except (TypeError, ValueError):
            return None
        if employee is None or not self.user_can_authenticate(employee):
            return None
        return bind_to_request(employee)

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()
