"""Password login (no second factor), on the web form and the API, against one Argon2 verify
of the same password hash, the three sampled in turn."""

from __future__ import annotations

from bench.common import latency, report, row, scale, setup, timed_in_turns


def main() -> None:
    setup()
    from django.contrib.auth.hashers import check_password
    from django.test import Client
    from django.urls import reverse
    from django.utils.http import urlencode

    from bench.data import PASSWORD
    from gonghao.accounts.models import Employee

    sizes = scale()
    repeat = max(10, sizes["samples"] // 4)
    employees = list(Employee.objects.order_by("pk")[3:60])
    encoded = employees[0].password
    turn = iter(range(10**9))
    # One client (its handler loads the middleware once, as a server process does); a fresh
    # cookie jar each time, as a new browser.
    client = Client(HTTP_HOST="127.0.0.1")

    def web_login():
        employee = employees[next(turn) % len(employees)]
        client.cookies.clear()
        # As a browser sends the login form (no file field: urlencoded, not multipart).
        response = client.post(
            reverse("account_login"),
            urlencode({"login": employee.employee_id, "password": PASSWORD}),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 302, response.status_code

    def api_login():
        employee = employees[next(turn) % len(employees)]
        client.cookies.clear()
        response = client.post(
            "/api/v1/auth/token",
            {"employee_id": employee.employee_id, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def argon2_verify():
        check_password(PASSWORD, encoded)

    samples = timed_in_turns({"argon2": argon2_verify, "web": web_login, "api": api_login}, repeat)
    argon2, web, api = (latency(samples[name]) for name in ("argon2", "web", "api"))
    report(
        "login",
        [
            row(
                "web login (password, no 2FA), p50",
                web["p50_ms"],
                "ms",
                baseline=argon2["p50_ms"],
                baseline_what="one Argon2 verify",
                target="≤ 1.2×",
                met=web["p50_ms"] / argon2["p50_ms"] <= 1.2,
                **web,
            ),
            row(
                "API token login (password, no 2FA), p50",
                api["p50_ms"],
                "ms",
                baseline=argon2["p50_ms"],
                baseline_what="one Argon2 verify",
                target="≤ 1.2×",
                met=api["p50_ms"] / argon2["p50_ms"] <= 1.2,
                **api,
            ),
        ],
        argon2=argon2,
    )


if __name__ == "__main__":
    main()
