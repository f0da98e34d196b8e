"""Bad input on every operation that takes a body: deep JSON, wrong encodings, NUL and control
characters in every text field, oversized forms, and file names that cannot be steered.

The answer is always a clear 4xx JSON error (or the form again, for pages), and nothing is stored:
every write in Gonghao has its audit event, so an unchanged audit log and unchanged row counts
show that nothing was written.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.test import Client

from gonghao.accounts.services import issue_token
from gonghao.api import api
from gonghao.audit.models import AuditEvent

from . import authz_table
from .authz_world import build_world, call, fill, params_for
from .test_api_fuzz import superuser

METHODS = ("post", "put", "patch")
NESTING = 100_000
# Answers 200 whatever the identifier, so as not to reveal which accounts exist; the unchanged
# row counts show that a malformed identifier stores nothing.
SAME_ANSWER = {"POST /api/v1/auth/password-reset", "POST /api/v1/auth/token/otp-code"}
ENCODED_SURROGATE = b'{"name": "\xed\xa0\x80", "name_en": "\xed\xa0\x80"}'  # not UTF-8


def _document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


DOCUMENT = _document()


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_operations() -> list[tuple[str, str, dict]]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method in METHODS and operation.get("requestBody"):
                content = operation["requestBody"]["content"].get("application/json")
                if content is None:
                    continue  # a file upload (multipart): its own tests cover bad files
                found.append((method.upper(), path, _resolve(content["schema"])))
    return found


def text_fields(schema: dict) -> list[str]:
    names = []
    for name, field in schema.get("properties", {}).items():
        options = [_resolve(field), *(_resolve(o) for o in field.get("anyOf", []))]
        if any(o.get("type") == "string" and "enum" not in o for o in options):
            names.append(name)
    return names


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "crm", "org", "lifecycle", "access", "audit")
    }


@pytest.fixture
def setting(db):
    world = build_world()
    token, _ = issue_token(superuser(), name="bad input")
    values = params_for(world, "admin")
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    return world, values, headers


def path_of(path: str, values: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def raw(client: Client, method: str, path: str, body: bytes | str, content_type: str, headers):
    return call(client, method, path, body_bytes=(body, content_type), **headers)


def assert_clear_error(response, where: str) -> dict:
    assert 400 <= response.status_code < 500, (where, response.status_code, response.body[:300])
    assert response["Content-Type"].startswith("application/json"), where
    error = json.loads(response.body)
    assert set(error) - {"details"} == {"code", "message"} and error["message"], (where, error)
    return error


def test_the_walk_finds_the_operations():
    operations = body_operations()
    assert len(operations) >= 25
    assert sum(len(text_fields(schema)) for _m, _p, schema in operations) >= 60


def test_deeply_nested_json_is_a_clear_400_and_stores_nothing(setting):
    _world, values, headers = setting
    before, events = row_counts(), AuditEvent.objects.count()
    deep_list = '{"name": ' + "[" * NESTING + "]" * NESTING + "}"
    deep_object = '{"a": ' * NESTING + "1" + "}" * NESTING
    client = Client()
    for method, path, _schema in body_operations():
        for body in (deep_list, deep_object):
            response = raw(client, method, path_of(path, values), body, "application/json", headers)
            error = assert_clear_error(response, f"{method} {path} nested")
            assert response.status_code in (400, 422), (method, path, error)
    assert row_counts() == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=iso-8859-1"]
)
def test_bodies_that_are_not_utf8_are_a_clear_400(setting, content_type):
    _world, values, headers = setting
    before = row_counts()
    latin1 = json.dumps({"name": "Café Müller", "code": "LAT"}, ensure_ascii=False)
    client = Client()
    for method, path, _schema in body_operations():
        for body in (latin1.encode("latin-1"), b'{"name": "\xc3\x28"}', ENCODED_SURROGATE):
            response = raw(client, method, path_of(path, values), body, content_type, headers)
            assert_clear_error(response, f"{method} {path} {body!r} {content_type}")
    assert row_counts() == before


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "\x07", "a\x7fb", "a\ud800b"], ids=repr)
def test_control_characters_in_any_text_field_are_refused(setting, bad):
    """NUL and other control characters: a 4xx naming nothing stored (PostgreSQL could not even
    store a NUL in text; SQLite would, silently)."""
    _world, values, headers = setting
    before, events = row_counts(), AuditEvent.objects.count()
    client = Client()
    accepted = []
    for method, path, schema in body_operations():
        key = f"{method} {path}"
        base = fill(authz_table.BODIES.get(key) or {}, values)
        for field in text_fields(schema):
            body = {**base, field: bad}
            response = call(client, method, path_of(path, values), body, **headers)
            if response.status_code >= 500 or not response["Content-Type"].startswith(
                "application/json"
            ):
                accepted.append(f"{key} {field}: {response.status_code}")
            elif response.status_code < 400 and not _multiline(field) and key not in SAME_ANSWER:
                accepted.append(f"{key} {field}: accepted with {response.status_code}")
    assert accepted == [], "\n".join(accepted)
    assert row_counts() == before
    assert AuditEvent.objects.count() == events


def _multiline(field: str) -> bool:
    """Free text (notes, follow-up content, reasons) may hold tabs and line breaks; still no NUL."""
    return field in ("notes", "content", "outcome", "reason", "description")


def test_nul_in_free_text_is_refused_too(setting):
    _world, values, headers = setting
    client = Client()
    refused = []
    for method, path, schema in body_operations():
        key = f"{method} {path}"
        base = fill(authz_table.BODIES.get(key) or {}, values)
        for field in filter(_multiline, text_fields(schema)):
            body = {**base, field: "a\x00b"}
            response = call(client, method, path_of(path, values), body, **headers)
            refused.append((key, field, response.status_code))
    assert refused
    accepted = [f"{k} {f}: {s}" for k, f, s in refused if not 400 <= s < 500]
    assert accepted == [], "\n".join(accepted)


def test_an_oversized_form_is_a_clear_refusal_and_stores_nothing(setting, settings):
    world, _values, _headers = setting
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    browser = Client()
    browser.force_login(world.crm.head)
    before = row_counts()
    response = call(browser, "POST", "/customers/new/", form={"name": "大" * 10_000})
    assert response.status_code in (400, 413), response.status_code
    assert row_counts() == before


def test_export_file_names_cannot_be_steered(setting):
    world, _values, _headers = setting
    head = {"Authorization": f"Bearer {world.tokens['head']}"}
    trick = '../../etc/passwd"\r\nX-Injected: 1'
    response = call(Client(), "GET", f"/api/v1/customers/export.csv?q={quote(trick)}", **head)
    assert response["Content-Disposition"] == 'attachment; filename="customers.csv"'
    assert "X-Injected" not in response
