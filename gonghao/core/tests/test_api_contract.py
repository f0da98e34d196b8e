"""The API's contract, walked over every operation: documented, JSON errors, never a 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from gonghao.accounts.services import issue_token
from gonghao.api import api

METHODS = ("get", "post", "put", "patch", "delete")
ENGLISH_401 = "Log in or send a valid API token to continue."
CJK = re.compile(r"[\u4e00-\u9fff]")


def openapi() -> dict[str, Any]:
    """The document as a client reads it (JSON: status codes are strings)."""
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


DOCUMENT = openapi()  # built once: generating it takes a noticeable fraction of a second


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def op_id(op) -> str:
    return f"{op[0].upper()} {op[1]}"


OPERATIONS = operations()
# JSON bodies; file uploads (multipart) have their own bad-input tests (transfer/tests).
BODY_OPERATIONS = [
    op for op in OPERATIONS if "application/json" in op[2].get("requestBody", {}).get("content", {})
]

# django-ninja reads a body schema's fields as attributes, so a JSON list or number passes as an
# empty body where every field is optional: these PATCHes answer 200 and change nothing.
NON_OBJECT_BODY_ACCEPTED = {
    "PATCH /api/v1/departments/{department_id}",
    "PATCH /api/v1/positions/{position_id}",
}


def concrete(path: str, values: dict[str, Any] | None = None) -> str:
    """A path with every {parameter} filled in: a real record where given, else 1."""
    values = values or {}
    return re.sub(r"\{([^}]+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def request_schema(document: dict, operation: dict) -> dict:
    content = operation["requestBody"]["content"]["application/json"]
    return resolve(document, content["schema"])


def wrong_value(document: dict, schema: dict) -> Any:
    """A JSON value that is not of the type `schema` wants."""
    schema = resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if resolve(document, s).get("type") != "null"]
            return wrong_value(document, options[0])
    kind = schema.get("type")
    if kind == "string":
        return "not-a-date" if schema.get("format") in ("date", "date-time") else 12345
    if kind in ("integer", "number"):
        return "not-a-number"
    if kind == "boolean":
        return "perhaps"
    if kind == "array":
        return 7
    if "enum" in schema:
        return 12345 if all(isinstance(v, str) for v in schema["enum"]) else "nope"
    return 7  # an object


def send(client: Client, method: str, path: str, body: Any, **headers: str):
    """One raw request; a server error (raised by the test client) comes back as the exception."""
    try:
        with transaction.atomic():
            if method == "get":
                return client.get(path, headers=headers)
            data = body if isinstance(body, str | bytes) else json.dumps(body)
            return getattr(client, method)(
                path, data, content_type="application/json", headers=headers
            )
    except Exception as error:
        return error


def assert_json_error(response, context: str = "") -> dict:
    assert not isinstance(response, Exception), f"{context}: server error {response!r}"
    assert 400 <= response.status_code < 500, (context, response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), (context, response.content)
    body = response.json()
    assert isinstance(body, dict), (context, body)
    assert set(body) - {"details"} == {"code", "message"}, (context, body)
    assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"]), body
    assert isinstance(body["message"], str) and body["message"], body
    return body


@pytest.fixture
def admin_headers(cast) -> dict[str, str]:
    token, _ = issue_token(cast.admin, name="contract")
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


# --- the OpenAPI document ----------------------------------------------------------------------


def test_the_document_is_served_and_lists_the_operations(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Gonghao API"
    served = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    assert served == {(method, path) for method, path, _ in OPERATIONS}
    for expected in (
        ("post", "/api/v1/employees"),
        ("get", "/api/v1/employees/{employee_id}"),
        ("patch", "/api/v1/departments/{department_id}"),
        ("patch", "/api/v1/positions/{position_id}"),
    ):
        assert expected in served


def test_every_operation_has_a_summary_a_tag_and_a_unique_id():
    seen: set[str] = set()
    for method, path, operation in OPERATIONS:
        where = f"{method.upper()} {path}"
        assert isinstance(operation.get("summary"), str) and operation["summary"].strip(), where
        assert operation.get("tags") and all(isinstance(t, str) and t for t in operation["tags"])
        assert operation["operationId"] not in seen, where
        seen.add(operation["operationId"])


def test_every_operation_declares_its_error_responses():
    document = DOCUMENT
    problems: list[str] = []
    for method, path, operation in OPERATIONS:
        where = f"{method.upper()} {path}"
        declared = {int(status) for status in operation["responses"]}
        errors = {status for status in declared if 400 <= status < 500}
        if not errors:
            problems.append(f"{where}: no 4xx declared")
        needed = set()
        if operation.get("security"):
            needed |= {401, 403}
        if operation.get("requestBody"):
            needed |= {400, 422}  # unreadable JSON, invalid fields
        if "{" in path:
            needed |= {404, 422}  # unknown record, malformed path parameter
        if needed - declared:
            problems.append(f"{where}: missing {sorted(needed - declared)}")
        for status in errors:
            content = operation["responses"][str(status)].get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            error_schema = resolve(document, schema)
            if not {"code", "message"} <= set(error_schema.get("required", [])):
                problems.append(f"{where}: {status} is not the {{code, message}} error")
    assert problems == []


def test_operations_taking_a_gonghao_in_the_path_declare_400():
    missing = [
        op_id(op)
        for op in OPERATIONS
        if "{employee_id}" in op[1] and "400" not in op[2]["responses"]
    ]
    assert missing == []


def test_the_docs_page_renders(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "/api/v1/openapi.json" in html


# --- error format and language -----------------------------------------------------------------


def test_errors_are_json_in_english_when_asked(cast, admin_headers):
    anonymous = Client().get("/api/v1/me", headers={"Accept-Language": "en"})
    body = assert_json_error(anonymous)
    assert body == {"code": "not_authenticated", "message": ENGLISH_401}
    assert anonymous["Content-Language"] == "en"

    client = Client()
    missing = client.get("/api/v1/departments/987654", headers=admin_headers)
    assert assert_json_error(missing) == {"code": "department_not_found", "message": "Not found."}

    token, _ = issue_token(cast.employee, name="contract")
    refused = client.post(
        "/api/v1/departments",
        {"code": "X", "name": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    assert assert_json_error(refused) == {
        "code": "permission_denied",
        "message": "You do not have permission to do this.",
    }

    invalid = client.post(
        "/api/v1/departments", {}, content_type="application/json", headers=admin_headers
    )
    body = assert_json_error(invalid)
    assert body["message"] == "Some fields are not valid."
    assert set(body["details"]["fields"]) == {"code", "name"}


def test_the_language_is_negotiated_per_request(db):
    chinese = Client().get("/api/v1/me", headers={"Accept-Language": "zh-Hans,zh;q=0.9"})
    assert chinese.status_code == 401
    assert chinese["Content-Language"] == "zh-hans"
    english = Client().get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english["Content-Language"] == "en"
    assert english.json()["message"] == ENGLISH_401


def test_errors_are_in_chinese_for_chinese_clients(db):
    response = Client().get("/api/v1/me", headers={"Accept-Language": "zh-hans"})
    assert CJK.search(response.json()["message"])


# --- bad bodies on every operation that takes one ----------------------------------------------


@pytest.fixture
def records(cast) -> dict[str, Any]:
    """Existing records for path parameters, so a PATCH reaches a real row."""
    from gonghao.org.models import Position

    position = Position.objects.create(code="REP", name="销售代表")
    return {"department_id": cast.sales_dept.pk, "position_id": position.pk}


def test_unreadable_bodies_are_400_json(admin_headers, records):
    client = Client()
    for op in BODY_OPERATIONS:
        method, path, _operation = op
        for body in ("{not json", b"\xff\xfe\x00", "{'single': 'quotes'}", "[1,"):
            response = send(client, method, concrete(path, records), body, **admin_headers)
            assert_json_error(response, f"{op_id(op)} with {body!r}")
            assert response.status_code == 400, (op_id(op), body)


NOT_OBJECTS = ("[1, 2]", "[]", '"text"', "42", "null", "true")


def test_bodies_that_are_not_objects_are_4xx_json(admin_headers, records):
    client = Client()
    for op in BODY_OPERATIONS:
        if op_id(op) in NON_OBJECT_BODY_ACCEPTED:
            continue
        method, path, _operation = op
        for body in NOT_OBJECTS:
            response = send(client, method, concrete(path, records), body, **admin_headers)
            assert_json_error(response, f"{op_id(op)} with {body!r}")


@pytest.mark.parametrize("operation", sorted(NON_OBJECT_BODY_ACCEPTED))
def test_patch_bodies_that_are_not_objects_are_4xx_json(admin_headers, records, operation):
    method, path = operation.split(" ")
    for body in NOT_OBJECTS:
        response = send(Client(), method.lower(), concrete(path, records), body, **admin_headers)
        assert_json_error(response, f"{operation} with {body!r}")


def test_wrong_types_are_422_naming_the_field(admin_headers, records):
    document = DOCUMENT
    client = Client()
    checked = 0
    for op in BODY_OPERATIONS:
        method, path, operation = op
        schema = request_schema(document, operation)
        for name, field_schema in schema.get("properties", {}).items():
            body = {name: wrong_value(document, field_schema)}
            response = send(client, method, concrete(path, records), body, **admin_headers)
            error = assert_json_error(response, f"{op_id(op)} {body}")
            assert response.status_code == 422, (op_id(op), body, error)
            assert error["code"] == "validation_error"
            assert name in error["details"]["fields"], (op_id(op), body, error)
            checked += 1
    assert checked >= 20


def test_an_oversized_body_is_refused_without_a_server_error(admin_headers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = json.dumps({"code": "BIG", "name": "x" * 4096})
    client = Client()
    for method, path in (("post", "/api/v1/departments"), ("post", "/api/v1/employees")):
        response = send(client, method, path, body, **admin_headers)
        assert not isinstance(response, Exception), response
        assert 400 <= response.status_code < 500
    from gonghao.org.models import Department

    assert not Department.objects.filter(code="BIG").exists()


def test_a_body_over_the_default_limit_is_refused(admin_headers, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = send(Client(), "post", "/api/v1/employees", body, **admin_headers)
    assert not isinstance(response, Exception), response
    assert 400 <= response.status_code < 500


def test_an_oversized_body_gets_a_json_error(admin_headers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = json.dumps({"code": "BIG", "name": "x" * 4096})
    assert_json_error(send(Client(), "post", "/api/v1/departments", body, **admin_headers))


# --- bad query strings on every list -----------------------------------------------------------


def list_parameters(kind: str) -> list[tuple[str, str]]:
    found = []
    for method, path, operation in OPERATIONS:
        if method != "get" or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if parameter["in"] == "query" and kind in types:
                found.append((path, parameter["name"]))
    return found


def server_errors(admin_headers, kind: str, value: str) -> list[str]:
    client = Client()
    failures = []
    for path, name in list_parameters(kind):
        response = send(client, "get", f"{path}?{name}={value}", None, **admin_headers)
        if isinstance(response, Exception) or response.status_code >= 500:
            failures.append(f"{path}?{name}")
    return failures


def test_walks_find_query_parameters():
    assert ("/api/v1/employees", "offset") in list_parameters("integer")
    assert ("/api/v1/departments", "q") in list_parameters("string")


def test_huge_integers_in_query_strings_are_never_a_server_error(admin_headers):
    assert server_errors(admin_headers, "integer", "9" * 20) == []


def test_nul_in_query_strings_is_never_a_server_error(admin_headers):
    assert server_errors(admin_headers, "string", "%00") == []


# --- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/departments/1/extra", "/api/v1/employees/E0000017/x"]
)
def test_an_unknown_api_path_is_404(admin_headers, path):
    response = Client().get(path, headers=admin_headers)
    assert response.status_code == 404


def test_an_unknown_api_path_is_a_json_404(admin_headers):
    assert_json_error(Client().get("/api/v1/nothing-here", headers=admin_headers))


def test_a_wrong_method_is_405(admin_headers):
    client = Client()
    assert client.put("/api/v1/departments", headers=admin_headers).status_code == 405
    assert client.delete("/api/v1/positions/1", headers=admin_headers).status_code == 405


def test_a_wrong_method_is_a_json_405(admin_headers):
    assert_json_error(Client().put("/api/v1/departments", headers=admin_headers))
