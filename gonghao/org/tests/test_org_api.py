"""Departments and positions through the API: everyone reads, only org.manage writes, audited."""

from __future__ import annotations

import pytest

from gonghao.accounts.services import issue_token
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.org.models import Department, Position
from gonghao.testing.kit import ApiClient

pytestmark = pytest.mark.django_db


def api_for(employee) -> ApiClient:
    """A client with a real bearer token, issued directly: no Argon2 login per test."""
    return ApiClient(issue_token(employee, name="test")[0])


@pytest.fixture
def admin_api(cast) -> ApiClient:
    return api_for(cast.admin)


NOT_ALLOWED = ["auditor", "security_admin", "employee"]


def state() -> tuple:
    """Everything a refused write must leave as it was."""
    return (
        list(Department.objects.order_by("pk").values_list()),
        list(Position.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
    )


def new_events(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def assert_refused(send, cases, status: int = 422, code: str = "validation_error") -> None:
    """Each case is (label, body, field or None): refused with `status`, nothing changed."""
    for label, body, field in cases:
        before = state()
        response = send(body)
        assert response.status_code == status, (label, response.content)
        error = response.json()
        assert error["code"] == code, (label, error)
        if field is not None:
            assert error["details"]["fields"][field], (label, error)
        assert state() == before, label


@pytest.fixture
def tree(cast):
    """HQ > SALES > EAST > EAST-1, with SERVICE beside SALES."""
    hq = Department.objects.create(code="HQ", name="总部")
    Department.objects.filter(pk__in=[cast.sales_dept.pk, cast.service_dept.pk]).update(parent=hq)
    east = Department.objects.create(code="EAST", name="华东区", parent=cast.sales_dept)
    east_one = Department.objects.create(code="EAST-1", name="华东一组", parent=east)
    return {"hq": hq, "sales": cast.sales_dept, "east": east, "east_one": east_one}


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", *NOT_ALLOWED])
def test_every_employee_reads_departments_and_positions(cast, who):
    Position.objects.create(code="REP", name="销售代表")
    api = api_for(getattr(cast, who))
    departments = api.get("/api/v1/departments")
    assert departments.status_code == 200
    assert departments.json()["count"] == 2
    assert [d["code"] for d in departments.json()["items"]] == ["SALES", "SERVICE"]
    one = api.get(f"/api/v1/departments/{cast.sales_dept.pk}").json()
    assert one == {
        "id": cast.sales_dept.pk,
        "code": "SALES",
        "name": "销售部",
        "parent_id": None,
        "head": None,
        "is_active": True,
    }
    positions = api.get("/api/v1/positions").json()
    assert positions["count"] == 1
    assert positions["items"][0]["code"] == "REP"


def test_anonymous_reads_nothing(cast):
    for path in ("/api/v1/departments", "/api/v1/positions"):
        response = ApiClient().get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_department_list_filters_and_pages(admin_api, tree):
    everything = admin_api.get("/api/v1/departments").json()
    assert everything["count"] == 5
    page = admin_api.get("/api/v1/departments", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5
    assert [d["code"] for d in page["items"]] == ["HQ", "SALES"]
    children = admin_api.get("/api/v1/departments", {"parent_id": tree["hq"].pk}).json()
    assert {d["code"] for d in children["items"]} == {"SALES", "SERVICE"}
    found = admin_api.get("/api/v1/departments", {"q": "华东"}).json()
    assert [d["code"] for d in found["items"]] == ["EAST", "EAST-1"]
    assert admin_api.get("/api/v1/departments", {"q": "east-1"}).json()["count"] == 1


def test_position_list_filters_and_pages(admin_api):
    for index in range(5):
        Position.objects.create(code=f"P{index}", name=f"岗位{index}")
    page = admin_api.get("/api/v1/positions", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5
    assert [p["code"] for p in page["items"]] == ["P1", "P2"]
    assert admin_api.get("/api/v1/positions", {"q": "岗位3"}).json()["items"][0]["code"] == "P3"


def test_unknown_ids_are_404(admin_api):
    for path, code in (
        ("/api/v1/departments/987654", "department_not_found"),
        ("/api/v1/positions/987654", "position_not_found"),
    ):
        assert admin_api.get(path).status_code == 404
        assert admin_api.get(path).json()["code"] == code
        assert admin_api.patch(path, {"name": "x"}).json()["code"] == code


# --- departments: writing ----------------------------------------------------------------------


def test_admin_creates_a_department_with_one_audit_event(cast, admin_api):
    since = last_seq()
    response = admin_api.post(
        "/api/v1/departments",
        {
            "code": "ops.east_1-a",
            "name": " 运营部 ",
            "parent_id": cast.sales_dept.pk,
            "head": cast.employee.employee_id.lower(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "ops.east_1-a"
    assert body["name"] == "运营部"
    assert body["parent_id"] == cast.sales_dept.pk
    assert body["head"] == cast.employee.employee_id
    department = Department.objects.get(pk=body["id"])
    assert department.head == cast.employee

    events = new_events(since)
    assert [e.action for e in events] == ["department.create"]
    event = events[0]
    assert event.actor_employee_id == cast.admin.employee_id
    assert event.target_type == "org.department"
    assert event.target_id == str(department.pk)
    assert event.changes == {
        "code": [None, "ops.east_1-a"],
        "name": [None, "运营部"],
        "parent": [None, "SALES"],
        "head": [None, cast.employee.employee_id],
        "is_active": [None, True],
    }
    assert verify_chain().ok


def test_admin_updates_a_department_with_one_audit_event(cast, admin_api, tree):
    since = last_seq()
    response = admin_api.patch(
        f"/api/v1/departments/{tree['east'].pk}",
        {"name": "华东大区", "parent_id": tree["hq"].pk, "head": cast.admin.employee_id},
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent_id"] == tree["hq"].pk
    events = new_events(since)
    assert [e.action for e in events] == ["department.update"]
    assert events[0].changes == {
        "name": ["华东区", "华东大区"],
        "parent": ["SALES", "HQ"],
        "head": [None, cast.admin.employee_id],
    }
    tree["east"].refresh_from_db()
    assert (tree["east"].name, tree["east"].parent, tree["east"].head) == (
        "华东大区",
        tree["hq"],
        cast.admin,
    )

    since = last_seq()
    moved = admin_api.patch(
        f"/api/v1/departments/{tree['east'].pk}",
        {"parent_id": None, "head": None, "is_active": False},
    )
    assert moved.json()["parent_id"] is None and moved.json()["is_active"] is False
    assert [e.changes for e in new_events(since)] == [
        {"parent": ["HQ", None], "head": [cast.admin.employee_id, None], "is_active": [True, False]}
    ]


def test_an_update_without_a_change_writes_nothing(admin_api, tree):
    url = f"/api/v1/departments/{tree['east'].pk}"
    for body in (
        {},
        {"name": "华东区"},
        {"name": " 华东区 "},
        {"name": None},
        {"is_active": True},
        {"parent_id": tree["sales"].pk},
    ):
        before = state()
        response = admin_api.patch(url, body)
        assert response.status_code == 200, (body, response.content)
        assert response.json()["name"] == "华东区"
        assert state() == before, body


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_only_org_managers_write_departments(cast, who, tree):
    api = api_for(getattr(cast, who))
    before = state()
    attempts = [
        api.post("/api/v1/departments", {"code": "NEW", "name": "新部门"}),
        api.patch(f"/api/v1/departments/{tree['east'].pk}", {"name": "改名"}),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json() == {
            "code": "permission_denied",
            "message": "You do not have permission to do this.",
        }
    assert state() == before


def test_a_duplicate_department_code_is_409(admin_api, cast):
    for code in ("SALES", "sales", " Sales "):
        before = state()
        response = admin_api.post("/api/v1/departments", {"code": code, "name": "又一个"})
        assert response.status_code == 409, code
        assert response.json() == {
            "code": "duplicate_code",
            "message": "A department with this code already exists.",
        }
        assert state() == before


BAD_DEPARTMENTS = [
    ("code-chinese", {"code": "销售", "name": "x"}, "code"),
    ("code-space", {"code": "a b", "name": "x"}, "code"),
    ("code-leading-dash", {"code": "-lead", "name": "x"}, "code"),
    ("code-slash", {"code": "a/b", "name": "x"}, "code"),
    ("code-semicolon", {"code": "a;drop", "name": "x"}, "code"),
    ("code-empty", {"code": "", "name": "x"}, "code"),
    ("code-blank", {"code": "   ", "name": "x"}, "code"),
    ("code-too-long", {"code": "A" * 33, "name": "x"}, "code"),
    ("code-number", {"code": 12, "name": "x"}, "code"),
    ("name-empty", {"code": "OK", "name": ""}, "name"),
    ("name-blank", {"code": "OK", "name": "   "}, "name"),
    ("name-huge", {"code": "OK", "name": "名" * 10_000}, "name"),
    ("name-nul", {"code": "OK", "name": "a\x00b"}, "name"),
    ("name-newline", {"code": "OK", "name": "a\nb"}, "name"),
    ("name-escape", {"code": "OK", "name": "a\x1b[31mb"}, "name"),
    ("name-delete", {"code": "OK", "name": "a\x7fb"}, "name"),
    ("name-c1-control", {"code": "OK", "name": "a\x85b"}, "name"),
    ("name-missing", {"code": "OK"}, "name"),
    ("parent-unknown", {"code": "OK", "name": "x", "parent_id": 987_654}, "parent_id"),
    ("parent-text", {"code": "OK", "name": "x", "parent_id": "top"}, "parent_id"),
    ("head-malformed", {"code": "OK", "name": "x", "head": "E12"}, "head"),
    ("head-unknown", {"code": "OK", "name": "x", "head": "E0009995"}, "head"),
]


def test_bad_department_input_is_422_and_changes_nothing(cast, admin_api):
    assert_refused(lambda body: admin_api.post("/api/v1/departments", body), BAD_DEPARTMENTS)


def test_bad_department_update_is_422_and_changes_nothing(admin_api, tree):
    url = f"/api/v1/departments/{tree['east'].pk}"
    assert_refused(
        lambda body: admin_api.patch(url, body),
        [
            ("name-empty", {"name": ""}, "name"),
            ("name-long", {"name": "x" * 101}, "name"),
            ("name-tab", {"name": "a\tb"}, "name"),
            ("name-number", {"name": 5}, "name"),
            ("head-malformed", {"head": "not-a-gonghao"}, "head"),
            ("parent-unknown", {"parent_id": 987_654}, "parent_id"),
            ("active-text", {"is_active": "maybe"}, "is_active"),
        ],
    )


@pytest.mark.parametrize(
    ("subject", "new_parent"),
    [("sales", "sales"), ("sales", "east"), ("sales", "east_one"), ("hq", "east_one")],
)
def test_a_department_cannot_move_below_itself(admin_api, tree, subject, new_parent):
    # HQ > SALES > EAST > EAST-1: a department under itself or its descendant is a cycle.
    before = state()
    response = admin_api.patch(
        f"/api/v1/departments/{tree[subject].pk}", {"parent_id": tree[new_parent].pk}
    )
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "validation_error"
    assert error["details"]["fields"]["parent_id"] == ["A department cannot sit below itself."]
    assert state() == before


def test_moving_a_department_beside_its_branch_is_fine(admin_api, tree, cast):
    response = admin_api.patch(
        f"/api/v1/departments/{tree['east'].pk}", {"parent_id": cast.service_dept.pk}
    )
    assert response.status_code == 200
    assert response.json()["parent_id"] == cast.service_dept.pk


# --- positions: writing ------------------------------------------------------------------------


def test_admin_creates_and_updates_a_position_with_audit_events(cast, admin_api):
    since = last_seq()
    created = admin_api.post("/api/v1/positions", {"code": "CS-1", "name": "客服专员"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {"id": body["id"], "code": "CS-1", "name": "客服专员", "is_active": True}
    events = new_events(since)
    assert [e.action for e in events] == ["position.create"]
    assert events[0].changes == {
        "code": [None, "CS-1"],
        "name": [None, "客服专员"],
        "is_active": [None, True],
    }
    assert events[0].actor_employee_id == cast.admin.employee_id

    since = last_seq()
    updated = admin_api.patch(
        f"/api/v1/positions/{body['id']}", {"name": "高级客服", "is_active": False}
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "高级客服"
    assert updated.json()["is_active"] is False
    events = new_events(since)
    assert [e.action for e in events] == ["position.update"]
    assert events[0].changes == {"name": ["客服专员", "高级客服"], "is_active": [True, False]}

    before = state()
    same = admin_api.patch(f"/api/v1/positions/{body['id']}", {"name": "高级客服"})
    assert same.status_code == 200
    assert admin_api.patch(f"/api/v1/positions/{body['id']}", {}).status_code == 200
    assert state() == before
    assert verify_chain().ok


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_only_org_managers_write_positions(cast, who):
    position = Position.objects.create(code="REP", name="销售代表")
    api = api_for(getattr(cast, who))
    before = state()
    for response in (
        api.post("/api/v1/positions", {"code": "NEW", "name": "新岗位"}),
        api.patch(f"/api/v1/positions/{position.pk}", {"name": "改名"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert state() == before


def test_a_duplicate_position_code_is_409(admin_api):
    Position.objects.create(code="REP", name="销售代表")
    before = state()
    response = admin_api.post("/api/v1/positions", {"code": "rep", "name": "另一个"})
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_code"
    assert state() == before


def test_bad_position_input_is_422_and_changes_nothing(admin_api):
    assert_refused(
        lambda body: admin_api.post("/api/v1/positions", body),
        [
            ("code-chinese", {"code": "客服", "name": "x"}, "code"),
            ("code-space", {"code": "a b", "name": "x"}, "code"),
            ("code-underscore-first", {"code": "_x", "name": "x"}, "code"),
            ("code-missing", {"name": "x"}, "code"),
            ("name-empty", {"code": "OK", "name": ""}, "name"),
            ("name-long", {"code": "OK", "name": "名" * 101}, "name"),
            ("name-nul", {"code": "OK", "name": "a\x00b"}, "name"),
            ("name-cr", {"code": "OK", "name": "a\rb"}, "name"),
            ("name-list", {"code": "OK", "name": ["x"]}, "name"),
        ],
    )


def test_bad_position_update_is_422_and_changes_nothing(admin_api):
    position = Position.objects.create(code="REP", name="销售代表")
    assert_refused(
        lambda body: admin_api.patch(f"/api/v1/positions/{position.pk}", body),
        [
            ("name-empty", {"name": ""}, "name"),
            ("name-control", {"name": "a\x01b"}, "name"),
            ("active-list", {"is_active": [1]}, "is_active"),
        ],
    )


# --- query strings -----------------------------------------------------------------------------


def test_list_query_strings_the_database_cannot_take_are_422(admin_api, tree):
    for path, params in (
        ("/api/v1/departments", {"parent_id": "9" * 25}),
        ("/api/v1/departments", {"parent_id": "0"}),
        ("/api/v1/departments", {"parent_id": "x"}),
        ("/api/v1/departments", {"q": "q" * 101}),
    ):
        response = admin_api.get(path, params)
        assert response.status_code == 422, (path, params, response.content)
        assert response.json()["code"] == "validation_error"
    # A NUL in the query string is refused before any view runs.
    for path, params in (
        ("/api/v1/departments", {"q": "a\x00b"}),
        ("/api/v1/positions", {"q": "\x00"}),
    ):
        response = admin_api.get(path, params)
        assert response.status_code == 400, (path, params, response.content)
        assert response.json()["code"] == "bad_query"
