"""SQL queries per customer list page (API and HTML, at several page sizes) and per customer
page (API and HTML), counted in process on the bench data."""

from __future__ import annotations

from bench.common import build_static_manifest, report, row, setup

LIMIT = 8


def main() -> None:
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import PASSWORD, actors

    build_static_manifest()
    rep = actors()["rep"]
    session = Client(HTTP_HOST="127.0.0.1")
    session.force_login(rep)
    login = Client(HTTP_HOST="127.0.0.1").post(
        "/api/v1/auth/token",
        {"employee_id": rep.employee_id, "password": PASSWORD},
        content_type="application/json",
    )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['token']}"}
    api = Client(HTTP_HOST="127.0.0.1")
    customer_id = rep.customers.filter(deleted_at__isnull=True).values_list("pk", flat=True)[0]

    def count(client: Client, path: str, **headers) -> int:
        client.get(path, **headers)  # warm: token last-use stamp, session refresh
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, **headers)
        assert response.status_code == 200, (path, response.status_code)
        # Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) is not a query.
        return sum(
            1
            for query in captured.captured_queries
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
        )

    api_list = {n: count(api, f"/api/v1/customers?limit={n}", **bearer) for n in (10, 50, 100)}
    # The page's size is fixed (PAGE_SIZE): compare a full first page with a later one.
    html_list = {1: count(session, "/customers/"), 2: count(session, "/customers/?page=2")}
    searched = count(api, "/api/v1/customers?limit=50&q=%E5%BC%A0%E4%BC%9F", **bearer)
    api_detail = count(api, f"/api/v1/customers/{customer_id}", **bearer)
    html_detail = count(session, f"/customers/{customer_id}/")

    def list_row(what: str, counts: dict[int, int]) -> dict:
        constant = len(set(counts.values())) == 1
        worst = max(counts.values())
        return row(
            what,
            worst,
            "queries",
            target=f"constant in page size, ≤ {LIMIT}",
            met=constant and worst <= LIMIT,
            by_page_size=counts,
            constant=constant,
        )

    def page_row(what: str, queries: int) -> dict:
        return row(what, queries, "queries", target=f"≤ {LIMIT}", met=queries <= LIMIT)

    report(
        "query_counts",
        [
            list_row("SQL queries per list page, JSON API (10/50/100)", api_list),
            list_row("SQL queries per list page, HTML (pages 1, 2)", html_list),
            page_row("SQL queries per searched list page, JSON API", searched),
            page_row("SQL queries per customer, JSON API (read audited)", api_detail),
            page_row("SQL queries per customer page, HTML (read audited)", html_detail),
        ],
    )


if __name__ == "__main__":
    main()
