"""Importing customers: preview with every row-level error, all-or-nothing commit, audit, scope."""

from __future__ import annotations

import pytest
from django.utils import translation

from gonghao.audit.models import AuditEvent
from gonghao.core.errors import Conflict, PermissionDenied
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_crm_cast
from gonghao.transfer import services
from gonghao.transfer.models import ImportBatch, ImportedRecord, ImportStatus
from gonghao.transfer.readers import BadFile

from .helpers import CUSTOMER_HEADER_EN, CUSTOMER_HEADER_ZH, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm():
    return make_crm_cast()


def imports(actor, content, name="customers.csv", kind="customers"):
    return services.create_import(actor=actor, kind=kind, file_name=name, content=content)


def codes(batch):
    return [(e["row"], e["column"], e["code"]) for e in batch.errors]


def good_rows(crm):
    return [
        ["深圳丁公司", "A", "referral", crm.rep_b.employee_id, "138 0013 8000", "a@d.cn", "x"],
        ["Acme Trading", "b", "Website", "", "+86 139-0013-9000", "", ""],
        ["广州戊公司", "C", "展会", "", "", "", "多行\n备注"],
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding_previews_and_commits(crm, encoding):
    content = csv_bytes(CUSTOMER_HEADER_ZH, good_rows(crm), encoding)
    batch = imports(crm.head, content)
    assert batch.errors == []
    assert (batch.status, batch.total, batch.valid) == (ImportStatus.PREVIEW, 3, 3)
    assert batch.preview[0][0] == "深圳丁公司"
    assert Customer.objects.filter(name="深圳丁公司").count() == 0  # preview changes nothing

    before = AuditEvent.objects.count()
    done = services.commit_import(batch.pk, actor=crm.head)
    assert (done.status, done.created_count) == (ImportStatus.COMMITTED, 3)
    d = Customer.objects.get(name="深圳丁公司")
    assert (d.level, d.source, d.owner, d.phone) == ("A", "referral", crm.rep_b, "+8613800138000")
    assert d.owner_department == crm.sales_east
    assert d.name_folded == "深圳丁公司" and d.phone_digits == "13800138000"
    acme = Customer.objects.get(name="Acme Trading")
    assert (acme.level, acme.source, acme.owner) == ("B", "website", crm.head)
    assert acme.name_folded == "acme trading"
    assert Customer.objects.get(name="广州戊公司").source == "exhibition"
    # one audit event for the import, with its counts; every record attributable to it
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["import.commit"]
    assert events[0].params["created"] == 3 and events[0].params["batch"] == batch.pk
    assert events[0].actor_employee_id == crm.head.employee_id
    linked = set(ImportedRecord.objects.filter(batch=batch).values_list("object_id", flat=True))
    assert linked == set(
        Customer.objects.filter(name__in=[r[0] for r in good_rows(crm)]).values_list(
            "pk", flat=True
        )
    )
    assert services.batch_of_record("customer", d.pk) == batch.pk


def test_xlsx_with_english_headers_and_numeric_phones(crm):
    content = xlsx_bytes(
        CUSTOMER_HEADER_EN, [["Numeric Phone Co", "A", "", "", "13800138000", "", ""]], numbers=True
    )
    batch = imports(crm.rep_a, content, name="list.xlsx")
    assert batch.errors == [] and batch.file_format == "xlsx"
    services.commit_import(batch.pk, actor=crm.rep_a)
    assert Customer.objects.get(name="Numeric Phone Co").phone == "+8613800138000"


def test_every_row_error_is_reported_and_nothing_can_be_committed(crm):
    outsider = crm.rep_c.employee_id
    rows = [
        ["", "A", "", "", "", "", ""],  # 2: name required
        ["好公司", "Z", "", "", "", "", ""],  # 3: unknown level
        ["好公司2", "", "tv", "", "", "", ""],  # 4: unknown source
        ["好公司3", "", "", "", "12345", "", ""],  # 5: invalid phone
        ["好公司4", "", "", "E0000000", "", "", ""],  # 6: not a valid 工号
        ["好公司5", "", "", outsider, "", "", ""],  # 7: owner outside the rep's scope
        ["好公司6", "", "", "", "", "not-an-email", ""],  # 8: invalid e-mail
        ["=cmd|' /C calc'!A0", "", "", "", "", "", ""],  # 9: formula
        ["好公司7", "", "", "", "", "", "@SUM(A1)"],  # 10: formula in notes
        ["上海甲公司", "", "", "", "13812341234", "", ""],  # 11: exists in the database
        ["重复公司", "", "", "", "13900000001", "", ""],  # 12
        ["重复公司", "", "", "", "139 0000 0001", "", ""],  # 13: duplicate of row 12
        ["控制\x1b字符", "", "", "", "", "", ""],  # 14: control character
        ["好公司8", "", "", "", "", "", ""],  # 15: fine
    ]
    batch = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, rows))
    assert batch.status == ImportStatus.INVALID
    assert codes(batch) == [
        (2, "name", "required"),
        (3, "level", "invalid_choice"),
        (4, "source", "invalid_choice"),
        (5, "phone", "invalid_phone"),
        (6, "owner", "invalid_employee_id"),
        (7, "owner", "owner_out_of_scope"),
        (8, "email", "invalid_email"),
        (9, "name", "formula"),
        (10, "notes", "formula"),
        (11, "name", "duplicate_existing"),
        (13, "name", "duplicate_in_file"),
        (14, "name", "control_characters"),
    ]
    assert batch.valid == 2
    with translation.override("en"):
        summary = services.batch_summary(batch)
    assert "row 12" in summary["errors"][-2]["message"]
    with translation.override("zh-hans"):
        chinese = services.batch_summary(batch)["errors"]
    assert chinese[0]["code"] == "required"
    before = (Customer.objects.count(), AuditEvent.objects.count())
    with pytest.raises(Conflict) as refused:
        services.commit_import(batch.pk, actor=crm.rep_a)
    assert refused.value.code == "import_has_errors"
    assert (Customer.objects.count(), AuditEvent.objects.count()) == before


def test_unknown_and_inactive_owner(crm):
    from gonghao.testing.kit import make_employee

    gone = make_employee("离职", department=crm.sales, status="departed")
    from gonghao.accounts.employee_ids import format_number

    unknown = format_number(99999)
    rows = [["甲", "", "", unknown, "", "", ""], ["乙", "", "", gone.employee_id, "", "", ""]]
    batch = imports(crm.head, csv_bytes(CUSTOMER_HEADER_EN, rows))
    assert codes(batch) == [(2, "owner", "unknown_employee"), (3, "owner", "inactive_employee")]


def test_missing_unknown_and_repeated_columns(crm):
    batch = imports(crm.rep_a, csv_bytes(["Level", "Colour", "Level"], [["A", "red", "B"]]))
    assert sorted(e["code"] for e in batch.errors) == [
        "duplicate_column",
        "missing_column",
        "unknown_column",
    ]
    assert all(e["row"] == 1 for e in batch.errors)
    assert batch.status == ImportStatus.INVALID


def test_a_failure_in_the_middle_leaves_nothing_and_no_audit_event(crm, monkeypatch):
    rows = [[f"公司{i}", "", "", "", "", "", ""] for i in range(50)]
    batch = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, rows))
    real = services.link_records
    seen = {}

    def failing(batch_id, kind, ids):
        real(batch_id, kind, ids[:10])
        seen["inserted"] = Customer.objects.filter(pk__in=ids).count()
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "link_records", failing)
    before = (Customer.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuntimeError):
        services.commit_import(batch.pk, actor=crm.rep_a)
    assert seen["inserted"] == 50  # the rows were written before the failure…
    assert (Customer.objects.count(), AuditEvent.objects.count()) == before  # …and rolled back
    assert ImportedRecord.objects.count() == 0
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.PREVIEW


def test_a_duplicate_created_after_the_preview_refuses_the_commit(crm):
    batch = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["后来者", "", "", "", "", "", ""]]))
    assert batch.errors == []
    from gonghao.testing.crm import make_customer

    make_customer(crm.rep_a, "后来者")
    with pytest.raises(Conflict):
        services.commit_import(batch.pk, actor=crm.rep_a)
    assert Customer.objects.filter(name="后来者").count() == 1
    assert codes(ImportBatch.objects.get(pk=batch.pk)) == [(2, "name", "duplicate_existing")]


def test_a_batch_is_committed_once(crm):
    batch = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["一次", "", "", "", "", "", ""]]))
    services.commit_import(batch.pk, actor=crm.rep_a)
    with pytest.raises(Conflict) as again:
        services.commit_import(batch.pk, actor=crm.rep_a)
    assert again.value.code == "import_committed"
    assert Customer.objects.filter(name="一次").count() == 1


def test_scope_a_head_may_give_customers_to_the_department_a_rep_only_to_themselves(crm):
    rows = [["给李四", "", "", crm.rep_b.employee_id, "", "", ""]]
    assert imports(crm.head, csv_bytes(CUSTOMER_HEADER_EN, rows)).errors == []
    refused = imports(
        crm.rep_b, csv_bytes(CUSTOMER_HEADER_EN, [["x", "", "", crm.rep_a.employee_id, "", "", ""]])
    )
    assert codes(refused) == [(2, "owner", "owner_out_of_scope")]


@pytest.mark.parametrize("who", ["marketer", "agent", "auditor", "nobody", "admin"])
def test_roles_without_customer_create_are_refused(crm, who):
    with pytest.raises(PermissionDenied):
        imports(getattr(crm, who), csv_bytes(CUSTOMER_HEADER_EN, [["x", "", "", "", "", "", ""]]))
    assert ImportBatch.objects.count() == 0


def test_another_employees_batch_is_not_found(crm):
    from gonghao.core.errors import NotFound

    batch = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["私有", "", "", "", "", "", ""]]))
    with pytest.raises(NotFound):
        services.commit_import(batch.pk, actor=crm.head)
    assert not Customer.objects.filter(name="私有").exists()


BAD_FILES = [
    ("junk.csv", bytes(range(256)) * 40, "not_text"),
    ("latin.csv", "Name\nCafé Müller\n".encode("utf-16"), "not_text"),
    ("fake.xlsx", b"Name,Phone\nA,1\n", "not_xlsx"),
    ("broken.xlsx", b"PK\x03\x04" + b"\x00garbage" * 100, "not_xlsx"),
    ("empty.csv", b"", "empty_file"),
    ("quotes.csv", b'Name\n"unterminated\n', "bad_csv"),
]


@pytest.mark.parametrize(("name", "content", "code"), BAD_FILES)
def test_bad_files_get_a_clear_error_and_store_nothing(crm, name, content, code):
    with pytest.raises(BadFile) as refused:
        imports(crm.rep_a, content, name=name)
    assert refused.value.code == code
    assert str(refused.value.message)
    assert ImportBatch.objects.count() == 0


def test_ten_megabytes_of_random_junk(crm):
    import random

    junk = random.Random(4).randbytes(10 * 1024 * 1024)
    with pytest.raises(BadFile) as refused:
        imports(crm.rep_a, junk, name="junk.csv")
    assert refused.value.code in ("not_text", "bad_encoding")
    with pytest.raises(BadFile):
        imports(crm.rep_a, junk, name="junk.xlsx")
    assert ImportBatch.objects.count() == 0 and Customer.objects.count() == 3


def test_a_file_that_is_not_utf8_nor_gbk_is_refused(crm):
    # Valid Shift-JIS text that is neither valid UTF-8 nor valid GB18030.
    content = "名前\n".encode() + b"\x82\xa0\x82\xa2\x80\n"
    with pytest.raises(BadFile) as refused:
        imports(crm.rep_a, content)
    assert refused.value.code == "bad_encoding"


def test_size_and_row_limits(crm, settings):
    settings.GONGHAO_IMPORT_MAX_BYTES = 1000
    with pytest.raises(BadFile) as too_big:
        imports(
            crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["x" * 100, "", "", "", "", "", ""]] * 20)
        )
    assert too_big.value.code == "file_too_large"
    settings.GONGHAO_IMPORT_MAX_BYTES = 10**6
    settings.GONGHAO_IMPORT_MAX_ROWS = 5
    with pytest.raises(BadFile) as too_many:
        imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [[f"c{i}"] for i in range(6)]))
    assert too_many.value.code == "too_many_rows"


def test_path_tricks_in_the_file_name_stay_a_label(crm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "../../etc/passwd\x00.csv"
    batch = imports(
        crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["路径", "", "", "", "", "", ""]]), name=name
    )
    assert batch.file_name == "passwd.csv"
    assert list(tmp_path.iterdir()) == []
    windows = imports(crm.rep_a, csv_bytes(CUSTOMER_HEADER_EN, [["路径2"]]), name="..\\..\\a.csv")
    assert windows.file_name == "a.csv"


def test_phone_fast_path_agrees_with_phonenumbers():
    import random

    import phonenumbers

    from gonghao.transfer.importers import normalise_phone

    rng = random.Random(1)
    for _ in range(3000):
        number = "1" + "".join(str(rng.randrange(10)) for _ in range(10))
        try:
            parsed = phonenumbers.parse(number, "CN")
        except phonenumbers.NumberParseException:
            parsed = None
        expected = (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if parsed is not None and phonenumbers.is_valid_number(parsed)
            else None
        )
        assert normalise_phone(number) == expected, number
    assert normalise_phone("+1 650 253 0000") == "+16502530000"
    assert normalise_phone("010 6552 9988") == "+861065529988"


def test_email_fast_path_agrees_with_djangos_validator():
    import random

    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from gonghao.transfer import importers

    def django_says(value: str) -> bool:
        try:
            validate_email(value)
        except ValidationError:
            return False
        return True

    pieces = ["a", "Z", "0", ".", "..", "-", "_", "+", "@", "@@", "cn", "com", "x-", "-x", "k",
              "\u212a", "\u017f", "例子", "[1.2.3.4]", '"q"', " ", "localhost", "xn--fiqs8s",
              "a" * 64, "b" * 70, "é", "!", "#"]  # fmt: skip
    rng = random.Random(3)
    samples = [
        "buyer1@example.cn", "A.B+tag@Sub.Example.COM", "a..b@x.cn", ".a@x.cn", "a.@x.cn",
        "a@-x.cn", "a@x-.cn", "a@x.c", "a@x.c0m", "a@localhost", "a@[127.0.0.1]", "用户@例子.中国",
        "a@x.xn--fiqs8s", "\u212a@x.cn", "a@\u017fx.cn", "a@" + "b" * 64 + ".cn",
    ]  # fmt: skip
    for _ in range(5000):
        samples.append("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9))))
        user, host, top = ("".join(rng.sample(pieces, 2)) for _ in range(3))
        samples.append(f"{user}@{host}.{top}")
        samples.append(f"{rng.choice(['a', 'Z0', 'b_c+d'])}.{len(samples)}@mail-{top[:5]}.cn")
    fast = 0
    for value in samples:
        assert importers._check_email(value) == django_says(value), value
        fast += bool(importers._PLAIN_EMAIL.fullmatch(value))
    assert fast > 1000  # the fast path was taken, not only the fallback


def test_formulas_in_xlsx_cells_are_refused_and_a_plain_zip_is_not_a_workbook(crm):
    import io
    import zipfile

    rows = [["正常", "", "", "", "", "", "+cmd|' /C calc'!A0"], ["-2+3", "", "", "", "", "", ""]]
    batch = imports(crm.rep_a, xlsx_bytes(CUSTOMER_HEADER_EN, rows), name="f.xlsx")
    assert codes(batch) == [(2, "notes", "formula"), (3, "name", "formula")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.txt", "x")
    with pytest.raises(BadFile) as refused:
        imports(crm.rep_a, buffer.getvalue(), name="evil.xlsx")
    assert refused.value.code == "not_xlsx"


@pytest.mark.django_db(transaction=True)
def test_concurrent_commits_import_the_file_once():
    from gonghao.access.builtin import ensure_builtin_roles
    from gonghao.testing.kit import make_employee
    from gonghao.testing.threads import run_together

    ensure_builtin_roles()
    rep = make_employee("并发", roles=("sales",))
    rows = [[f"并发客户{i}", "", "", "", "", "", ""] for i in range(30)]
    batch = imports(rep, csv_bytes(CUSTOMER_HEADER_EN, rows))

    def worker(index: int):
        return services.commit_import(batch.pk, actor=rep).created_count

    results, errors = run_together(worker, 4)
    assert results == [30]
    assert len(errors) == 3 and all(getattr(e, "code", "") == "import_committed" for e in errors)
    assert Customer.objects.count() == 30
    assert AuditEvent.objects.filter(action="import.commit").count() == 1


def test_imported_customers_are_found_by_search_at_once(crm):
    """The import writes the search index in its transaction, as Customer.save() does."""
    from gonghao.crm.queries import CustomerFilter, customers_for
    from gonghao.crm.search_index import CustomerGram

    batch = imports(crm.head, csv_bytes(CUSTOMER_HEADER_ZH, good_rows(crm)))
    services.commit_import(batch.pk, actor=crm.head)
    imported = Customer.objects.get(name="深圳丁公司")
    grams = set(CustomerGram.objects.filter(customer=imported).values_list("gram", flat=True))
    assert {"深圳", "丁公", "#1380", "#8000"} <= grams

    def found(text: str) -> set[str]:
        return {c.name for c in customers_for(crm.head, CustomerFilter(q=text))}

    assert "深圳丁公司" in found("圳丁")
    assert "深圳丁公司" in found("38001")
    assert "Acme Trading" in found("me tra")


def test_each_imported_customer_gets_its_own_postings_and_record(crm, monkeypatch):
    """The rows' ids come back in the rows' order, batch after batch (SQLite's multi-row
    INSERTs, forced to two rows each here; PostgreSQL's pipelined single-row INSERTs): every
    customer is indexed under its own name and phone and linked to the batch once."""
    from gonghao.crm.search_index import CustomerGram, grams_of
    from gonghao.transfer import importers

    monkeypatch.setattr(importers, "_max_parameters", lambda: 2 * 20)
    rows = [
        [f"第{n}号公司 Nova {n}", "B", "", "", f"138 00{n:02d} 90{n:02d}", "", ""]
        for n in range(1, 8)
    ]
    batch = imports(crm.head, csv_bytes(CUSTOMER_HEADER_ZH, rows))
    services.commit_import(batch.pk, actor=crm.head)

    imported = list(Customer.objects.filter(name__contains="号公司").order_by("pk"))
    assert [c.name for c in imported] == [row[0] for row in rows]
    for customer in imported:
        postings = CustomerGram.objects.filter(customer=customer).values_list("gram", flat=True)
        assert set(postings) == grams_of(customer.name_folded, customer.phone_digits), customer.name
    linked = ImportedRecord.objects.filter(batch=batch).values_list("object_id", flat=True)
    assert sorted(linked) == [c.pk for c in imported]


def test_a_database_error_in_the_bulk_insert_is_djangos_and_leaves_nothing(crm):
    """PostgreSQL's rows go through psycopg's own cursor: its errors still arrive as Django's,
    which the import's callers handle, and the transaction leaves nothing."""
    from django.db import IntegrityError, transaction

    from gonghao.transfer import importers

    batch = imports(crm.head, csv_bytes(CUSTOMER_HEADER_ZH, good_rows(crm)))
    table = ImportedRecord._meta.db_table
    columns = ["batch_id", "kind", "object_id"]
    rows = [(batch.pk, "customers", 1), (batch.pk, None, 2), (batch.pk, "customers", 3)]

    with pytest.raises(IntegrityError), transaction.atomic():
        importers._insert_many(table, columns, rows)

    assert not ImportedRecord.objects.filter(batch=batch).exists()
