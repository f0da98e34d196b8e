"""The dashboards' permissions."""

from django.utils.translation import gettext_lazy as _

from gonghao.access.catalogue import register_permission

VIEW = register_permission(
    "dashboard.view", _("View dashboards: aggregates of the customers in your scope")
)
# Naming people on a dashboard (follow-ups per employee by 工号, the overdue list with customer
# names) is personal data: a separate permission, which marketing does not hold.
VIEW_PEOPLE = register_permission(
    "dashboard.view_people",
    _("See named employees and customers on dashboards (follow-ups per employee, overdue list)"),
)
