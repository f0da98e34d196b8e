"""Times on pages are shown in the viewer's time zone when the browser reports one."""

from datetime import UTC, datetime

import pytest

from gonghao.testing.kit import make_employee


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("Europe/Berlin", "2026-01-05 02:30"),
        ("", "2026-01-05 09:30"),
        ("Not/AZone", "2026-01-05 09:30"),
    ],
)
def test_home_shows_times_in_the_viewers_zone(client, cookie, expected):
    employee = make_employee("时区测试")
    employee.password_changed_at = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
    employee.save()
    client.force_login(employee)
    if cookie:
        client.cookies["gonghao_tz"] = cookie
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert expected in response.content.decode()
