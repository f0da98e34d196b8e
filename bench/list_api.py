"""Scoped customer list under load: the JSON API (token) and the HTML page (session) against
a bare Django view doing the same query without auth, scope or audit, all served by the same
gunicorn (2 workers) on loopback and driven by bench/loadgen.py."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

from bench.common import ROOT, build_static_manifest, report, row, scale, setup


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, url: str) -> subprocess.Popen:
    build_static_manifest()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        GONGHAO_LOCAL_HTTP="1",
        GONGHAO_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "gonghao.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def api_token(port: int, employee_id: str, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"employee_id": employee_id, "password": password})
    connection.request(
        "POST", "/api/v1/auth/token", body, headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"token login failed: {payload}")
    return payload["token"]


def session_cookie(employee) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(employee)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def main() -> None:
    url = setup()
    from bench.data import PASSWORD, actors
    from bench.loadgen import hammer, hammer_interleaved

    sizes = scale()
    rep = actors()["rep"]
    port = free_port()
    server = start_gunicorn(port, url)
    try:
        token = api_token(port, rep.employee_id, PASSWORD)
        cookie = session_cookie(rep)
        targets = {
            "bare": (f"/bench/bare/customers?owner={rep.pk}", {}),
            "api": ("/api/v1/customers?limit=50", {"Authorization": f"Bearer {token}"}),
            "html": ("/customers/", {"Cookie": cookie}),
        }
        for path, headers in targets.values():
            hammer(port, path, headers, 1.0, concurrency=2)
        results = hammer_interleaved(port, targets, sizes["load_seconds"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare = results["bare"]["rps"]
    report(
        "list_api",
        [
            row(
                "scoped customer list, JSON API (token, 50 rows)",
                results["api"]["rps"],
                "req/s",
                baseline=bare,
                baseline_what="bare view",
                target="≥ 0.8 of bare",
                met=results["api"]["rps"] >= 0.8 * bare,
                **results["api"],
            ),
            row(
                "scoped customer list, HTML page (session)",
                results["html"]["rps"],
                "req/s",
                baseline=bare,
                baseline_what="bare view",
                target="≥ 0.5 of bare",
                met=results["html"]["rps"] >= 0.5 * bare,
                **results["html"],
            ),
        ],
        bare=results["bare"],
        customers_of_actor=rep.customers.count(),
    )


if __name__ == "__main__":
    main()
