"""record(): every field of an event, the hash chain, and what it refuses."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import translation

from gonghao.audit import registry
from gonghao.audit.chain import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, compute_hash
from gonghao.audit.models import ActorKind, AuditChainHead, AuditEvent
from gonghao.audit.services import (
    MAX_LABEL,
    chain_heads,
    diff,
    record,
    seq_is_gapless,
    verify_chain,
)
from gonghao.core import context
from gonghao.org.models import Department

from .util import head, record_some

pytestmark = pytest.mark.django_db


def stored(event: AuditEvent) -> dict:
    """The event's hashed fields exactly as the database gives them back."""
    return AuditEvent.objects.filter(pk=event.pk).values(*HASHED_FIELDS, "prev_hash", "hash")[0]


def test_record_writes_every_field(cast, frozen_clock):
    department = Department.objects.create(code="TEA", name="Tea Department")
    previous_seq, previous_hash = head()
    frozen_clock.advance(minutes=5)
    with context.bind(
        request_id="req0001",
        client_ip="203.0.113.9",
        user_agent="pytest-agent/1.0",
        channel="api",
    ):
        event = record(
            "department.update",
            actor=cast.admin,
            target=department,
            params={"note": "renamed"},
            changes={"name": ["Tea", "Tea Department"]},
        )

    row = AuditEvent.objects.get(pk=event.pk)
    assert row.seq == previous_seq + 1
    assert row.occurred_at == frozen_clock.current
    assert row.actor_kind == ActorKind.EMPLOYEE
    assert row.actor_employee_id == cast.admin.employee_id
    assert row.actor_id == cast.admin.pk
    assert row.action == "department.update"
    assert row.target_type == "org.department"
    assert row.target_id == str(department.pk)
    assert row.target_label == "Tea Department"
    assert row.params == {"note": "renamed"}
    assert row.changes == {"name": ["Tea", "Tea Department"]}
    assert row.request_id == "req0001"
    assert row.client_ip == "203.0.113.9"
    assert row.user_agent == "pytest-agent/1.0"
    assert row.channel == "api"
    assert row.prev_hash == previous_hash
    assert row.hash == compute_hash(stored(row), previous_hash)
    assert len(row.hash) == 64 and row.hash != previous_hash
    assert chain_heads()[row.chain] == (row.seq, row.hash)


def test_first_event_links_to_the_genesis_hash():
    assert not AuditEvent.objects.exists()

    event = record(registry.AUDIT_VERIFIED, params={"result": "ok", "checked": 0})

    assert event.seq == 1
    assert event.prev_hash == GENESIS_HASH == "0" * 64
    assert event.hash == compute_hash(stored(event), GENESIS_HASH)
    assert head() == (1, event.hash)
    assert verify_chain().ok


def test_each_event_links_to_the_previous_one(cast):
    start_seq, start_hash = head()
    events = record_some(5)

    assert [e.seq for e in events] == list(range(start_seq + 1, start_seq + 6))
    assert events[0].prev_hash == start_hash
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
        assert after.hash == compute_hash(stored(after), before.hash)
    result = verify_chain()
    assert result.ok
    assert result.checked == AuditEvent.objects.count() == events[-1].seq


def test_system_and_anonymous_actors():
    system = record(registry.AUDIT_VERIFIED, actor=None)
    anonymous = record(registry.AUDIT_VERIFIED, actor=ActorKind.ANONYMOUS)

    for event, kind in ((system, ActorKind.SYSTEM), (anonymous, ActorKind.ANONYMOUS)):
        row = AuditEvent.objects.get(pk=event.pk)
        assert row.actor_kind == kind
        assert row.actor_employee_id == ""
        assert row.actor_id is None
    with translation.override("en"):
        assert system.actor_display == "System"
        assert anonymous.actor_display == "Anonymous"


def test_actor_display_is_the_employee_id(cast):
    event = record(registry.AUDIT_VERIFIED, actor=cast.auditor)
    assert event.actor_display == cast.auditor.employee_id


def test_the_context_defaults_to_the_system_channel():
    event = AuditEvent.objects.get(pk=record(registry.AUDIT_VERIFIED).pk)
    assert (event.channel, event.request_id, event.client_ip, event.user_agent) == (
        "system",
        "",
        None,
        "",
    )


def test_unknown_action_codes_are_refused(cast):
    before_count, before_head = AuditEvent.objects.count(), head()

    with pytest.raises(ValueError, match=r"unregistered audit action 'department\.explode'"):
        record("department.explode", actor=cast.admin)

    assert AuditEvent.objects.count() == before_count
    assert head() == before_head


def test_explicit_target_fields_and_a_long_label_is_cut():
    event = record(
        registry.AUDIT_VERIFIED,
        target_type="crm.customer",
        target_id=42,
        target_label="客" * (MAX_LABEL + 20),
    )
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.target_type, row.target_id) == ("crm.customer", "42")
    assert row.target_label == "客" * MAX_LABEL
    assert verify_chain().ok


def test_explicit_arguments_win_over_the_target_instance():
    department = Department.objects.create(code="OPS", name="Operations")
    event = record(registry.AUDIT_VERIFIED, target=department, target_label="custom label")
    assert (event.target_type, event.target_id, event.target_label) == (
        "org.department",
        str(department.pk),
        "custom label",
    )


def test_params_and_changes_are_stored_as_json():
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    event = record(
        registry.AUDIT_VERIFIED,
        params={"amount": Decimal("12.50"), "when": when, "items": (1, 2)},
        changes={"due": [None, when.date()], "limit": [Decimal("1"), Decimal("2.5")]},
    )
    row = AuditEvent.objects.get(pk=event.pk)
    assert row.params == {"amount": "12.50", "when": "2025-03-04T05:06:07Z", "items": [1, 2]}
    assert row.changes == {"due": [None, "2025-03-04"], "limit": ["1", "2.5"]}
    assert row.params == event.params and row.changes == event.changes
    assert verify_chain().ok


@pytest.mark.parametrize(
    "client_ip, stored_ip",
    [
        ("198.51.100.4", "198.51.100.4"),
        ("2001:0DB8:0000::0001", "2001:db8::1"),
        ("not an address", None),
        ("", None),
    ],
)
def test_client_ip_is_normalised(client_ip, stored_ip):
    with context.bind(client_ip=client_ip):
        event = record(registry.AUDIT_VERIFIED)
    assert AuditEvent.objects.get(pk=event.pk).client_ip == stored_ip
    assert verify_chain().ok


@pytest.mark.parametrize(
    "client_ip",
    # Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; the databases print these
    # IPv6 forms differently from Python, and the chain must still verify.
    ["::ffff:10.0.0.1", "::1.2.3.4", "fe80::1"],
)
def test_ipv6_forms_still_verify(client_ip):
    with context.bind(client_ip=client_ip):
        record(registry.AUDIT_VERIFIED)
        event = record(registry.AUDIT_VERIFIED)
    result = verify_chain()
    assert result.ok, result
    # Stored as the ORM stores the field (PostgreSQL's inet then prints it its own way): an
    # IPv4-mapped address keeps its dotted spelling.
    stored = AuditEvent.objects.get(pk=event.pk).client_ip
    assert ipaddress.ip_address(stored) == ipaddress.ip_address(client_ip)
    if connection.vendor == "sqlite":
        field = AuditEvent._meta.get_field("client_ip")
        assert stored == field.get_prep_value(ipaddress.ip_address(client_ip).compressed)
    if client_ip.startswith("::ffff:"):
        assert stored == client_ip


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"text": "a literal \\u0000 in text"}, {"text": "a literal \\u0000 in text"}),
        ({"text": "nul\x00byte", "k\x00ey": ["x\x00"]}, {"text": "nulbyte", "key": ["x"]}),
        ({"big": 1e20, "small": 0.1, "one": 1.0}, {"big": 10**20, "small": 0.1, "one": 1.0}),
        ({"zero": -0.0, "tiny": -1e-7}, {"zero": 0.0, "tiny": -1e-7}),
        ({"huge": 2**70, "zh": "客户名称", "nested": {"a": [1, {"b": None}]}}, None),
    ],
)
def test_awkward_json_is_stored_and_verifies(params, expected):
    event = record(registry.AUDIT_VERIFIED, params=params, changes={"x": [params, None]})
    row = AuditEvent.objects.get(pk=event.pk)
    assert row.params == (params if expected is None else expected)
    assert row.params == event.params
    result = verify_chain()
    assert result.ok, result


def test_nul_characters_are_dropped_from_text_fields():
    with context.bind(user_agent="agent\x00/1", request_id="r\x00id"):
        event = record(
            registry.AUDIT_VERIFIED,
            target_type="crm.customer",
            target_id="4\x002",
            target_label="E0\x0012",
        )
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.target_id, row.target_label, row.user_agent, row.request_id) == (
        "42",
        "E012",
        "agent/1",
        "rid",
    )
    assert verify_chain().ok


def test_the_head_is_rebuilt_from_the_last_event_when_missing(cast):
    last = AuditEvent.objects.order_by("-seq").first()
    AuditChainHead.objects.all().delete()

    event = record(registry.AUDIT_VERIFIED)

    # PostgreSQL numbers may skip (the connection's reserved number was drawn for a head that
    # is gone), never go back
    if seq_is_gapless():
        assert event.seq == last.seq + 1
    else:
        assert event.seq > last.seq
    assert event.prev_hash == last.hash
    assert verify_chain().ok


# --- the canonical form --------------------------------------------------------------------------

GOLDEN_FIELDS = {
    "seq": 1,
    "occurred_at": datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    "actor_kind": "employee",
    "actor_employee_id": "E0000017",
    "action": "customer.update",
    "target_type": "crm.customer",
    "target_id": "42",
    "target_label": "上海茶叶公司",
    "params": {"b": 2, "a": "一"},
    "changes": {"name": ["旧", "新"]},
    "request_id": "abc",
    "client_ip": "203.0.113.7",
    "user_agent": "UA/1",
    "channel": "api",
}


def test_the_hash_format_is_stable():
    """Existing chains must keep verifying: changing the format needs a new CHAIN_VERSION."""
    assert canonical_bytes(GOLDEN_FIELDS, GENESIS_HASH).decode() == (
        '{"action":"customer.update","actor_employee_id":"E0000017","actor_kind":"employee",'
        '"changes":{"name":["旧","新"]},"channel":"api","client_ip":"203.0.113.7",'
        '"occurred_at":"2025-01-02T03:04:05.678901Z","params":{"a":"一","b":2},'
        '"prev_hash":"' + GENESIS_HASH + '","request_id":"abc","seq":1,"target_id":"42",'
        '"target_label":"上海茶叶公司","target_type":"crm.customer","user_agent":"UA/1","v":1}'
    )
    assert compute_hash(GOLDEN_FIELDS, GENESIS_HASH) == (
        "2d8e442c9f15cc8575646e7802d3611bc820f348258493a2b9c2e4157571880d"
    )


def test_the_time_is_hashed_in_utc():
    shanghai = GOLDEN_FIELDS["occurred_at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert shanghai.hour == 11
    assert compute_hash({**GOLDEN_FIELDS, "occurred_at": shanghai}, GENESIS_HASH) == (
        compute_hash(GOLDEN_FIELDS, GENESIS_HASH)
    )


CHANGED_VALUES = {
    "seq": 2,
    "occurred_at": GOLDEN_FIELDS["occurred_at"] + timedelta(microseconds=1),
    "actor_kind": "system",
    "actor_employee_id": "E0000025",
    "action": "customer.create",
    "target_type": "crm.contact",
    "target_id": "43",
    "target_label": "上海茶叶公司 ",
    "params": {"b": 3, "a": "一"},
    "changes": {"name": ["旧", "新新"]},
    "request_id": "abd",
    "client_ip": "203.0.113.8",
    "user_agent": "UA/2",
    "channel": "web",
}


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_every_hashed_field_changes_the_hash(field):
    assert set(CHANGED_VALUES) == set(HASHED_FIELDS)
    original = compute_hash(GOLDEN_FIELDS, GENESIS_HASH)
    assert compute_hash({**GOLDEN_FIELDS, field: CHANGED_VALUES[field]}, GENESIS_HASH) != original


def test_the_previous_hash_changes_the_hash():
    assert compute_hash(GOLDEN_FIELDS, GENESIS_HASH) != compute_hash(GOLDEN_FIELDS, "1" * 64)


# --- diff and summaries ---------------------------------------------------------------------------


def test_diff_keeps_only_changed_fields():
    before = {"name": "Tea", "code": "TEA", "head": None}
    after = {"name": "Green Tea", "code": "TEA", "head": "E0000017", "new": 1}
    assert diff(before, after) == {
        "name": ["Tea", "Green Tea"],
        "head": [None, "E0000017"],
        "new": [None, 1],
    }
    assert diff(before, before) == {}


def test_summaries_render_params_and_target():
    with translation.override("en"):
        assert (
            registry.render_summary("audit.verify", {"result": "ok", "checked": 3})
            == "Verified the audit chain: ok (3 events)"
        )
        assert registry.render_summary("department.create", {}, "Sales") == (
            "Created department Sales"
        )
        # A missing parameter shows as "?", never as an error.
        assert registry.render_summary("audit.verify", {"checked": 3}) == (
            "Verified the audit chain: ? (3 events)"
        )
        # An event whose code is no longer registered still shows something.
        assert registry.render_summary("retired.action", {"x": 1}) == "retired.action"


def test_event_summary_uses_its_params_and_label():
    department = Department.objects.create(code="HR", name="Human Resources")
    event = record("department.create", target=department)
    with translation.override("en"):
        assert event.summary == "Created department Human Resources"


def test_registering_a_code_twice_with_another_summary_fails():
    original = registry.get("audit.verify")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("audit.verify", translation.gettext_lazy("Something else"))
    assert registry.get("audit.verify") is original
    # Registering the same summary again (a module imported twice) is harmless.
    assert registry.register("audit.verify", original.summary) == "audit.verify"
    assert registry.get("audit.verify").category == "audit"


def test_every_registered_action_has_a_renderable_summary():
    codes = [a.code for a in registry.all_actions()]
    assert codes == sorted(codes)
    assert {"audit.verify", "auth.login.succeeded", "auth.login.failed"} <= set(codes)
    with translation.override("en"):
        for action in registry.all_actions():
            assert registry.render_summary(action.code, {}, "X").strip()
