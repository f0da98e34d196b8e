"""`gonghao import` / `gonghao export` and the import / export pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import PASSWORD, api_as
from gonghao.transfer import services
from gonghao.transfer.models import ImportBatch

from .helpers import CUSTOMER_HEADER_EN, CUSTOMER_HEADER_ZH, csv_bytes, read_xlsx, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm():
    return make_crm_cast()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_cli_dry_run_then_commit(crm, tmp_path, capsys):
    path = tmp_path / "客户.xlsx"
    path.write_bytes(xlsx_bytes(CUSTOMER_HEADER_ZH, [["命令行客户", "B", "", "", "", "", ""]]))
    call_command("import", "customers", str(path), "--as", crm.rep_a.employee_id)
    out = capsys.readouterr()
    assert "1 rows are valid" in out.out and "1/1" in out.err
    assert not Customer.objects.filter(name="命令行客户").exists()
    call_command("import", "customers", str(path), "--as", crm.rep_a.employee_id, "--commit")
    assert "imported 1 customers" in capsys.readouterr().out
    customer = Customer.objects.get(name="命令行客户")
    assert customer.owner == crm.rep_a
    event = AuditEvent.objects.get(action="import.commit")
    assert event.channel == "cli" and event.actor_employee_id == crm.rep_a.employee_id


def test_cli_lists_problems_and_imports_nothing(crm, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(CUSTOMER_HEADER_EN, [["x", "Z", "", "", "", "", ""]], "gbk"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import", "customers", str(path), "--as", crm.rep_a.employee_id, "--commit")
    assert "row 2, level" in capsys.readouterr().err
    assert Customer.objects.count() == 3


def test_cli_needs_an_acting_employee_with_the_permission(crm, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(CUSTOMER_HEADER_EN, [["x"]]))
    with pytest.raises(CommandError, match="--as"):
        call_command("import", "customers", str(path))
    with pytest.raises(CommandError, match="permission"):
        call_command("import", "customers", str(path), "--as", crm.marketer.employee_id)
    with pytest.raises(CommandError, match="not a valid 工号"):
        call_command("import", "customers", str(path), "--as", "E123")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="not an Excel"):
        call_command("import", "customers", str(junk), "--as", crm.rep_a.employee_id)
    assert ImportBatch.objects.count() == 0


def test_cli_export(crm, tmp_path, capsys):
    target = tmp_path / "out.xlsx"
    call_command(
        "export",
        "customers",
        "--format",
        "xlsx",
        "--output",
        str(target),
        "--as",
        crm.marketer.employee_id,
    )
    rows = read_xlsx(target.read_bytes())
    assert len(rows) == 4 and "138****1234" in repr(rows)
    assert "exported 3 customers" in capsys.readouterr().err
    event = AuditEvent.objects.filter(action="customer.export").latest("seq")
    assert event.channel == "cli" and event.changes["format"] == [None, "xlsx"]
    with pytest.raises(CommandError):
        call_command("export", "customers", "--as", crm.agent.employee_id, "--output", str(target))


def logged_in(employee) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    assert client.login(username=employee.employee_id, password=PASSWORD)
    return client


def test_import_pages_upload_preview_and_commit(crm):
    client = logged_in(crm.rep_a)
    page = client.get("/data/imports/")
    assert (
        page.status_code == 200 and "/data/imports/template/customers.xlsx" in page.content.decode()
    )
    bad = client.post(
        "/data/imports/",
        {
            "kind": "customers",
            "file": SimpleUploadedFile("b.csv", csv_bytes(CUSTOMER_HEADER_EN, [["x", "Z"]])),
        },
    )
    assert bad.status_code == 302
    detail = client.get(bad["Location"]).content.decode()
    assert "is not one of" in detail and "Import all" not in detail
    good = client.post(
        "/data/imports/",
        {
            "kind": "customers",
            "file": SimpleUploadedFile("g.csv", csv_bytes(CUSTOMER_HEADER_EN, [["网页客户"]])),
        },
    )
    batch_url = good["Location"]
    assert "网页客户" in client.get(batch_url).content.decode()
    batch_id = int(batch_url.rstrip("/").rsplit("/", 1)[1])
    progress = client.get(f"/data/imports/{batch_id}/progress/")
    assert "1 of 1 rows processed" in progress.content.decode()
    committed = client.post(f"/data/imports/{batch_id}/commit/", headers={"HX-Request": "true"})
    assert committed.status_code == 204 and committed["HX-Redirect"].endswith(f"/{batch_id}/")
    assert Customer.objects.filter(name="网页客户").exists()
    assert "1 records created" in client.get(f"/data/imports/{batch_id}/progress/").content.decode()
    # another employee cannot see the batch
    assert logged_in(crm.head).get(batch_url).status_code == 404


def test_a_junk_upload_on_the_page_shows_the_error(crm):
    client = logged_in(crm.rep_a)
    response = client.post(
        "/data/imports/",
        {"kind": "customers", "file": SimpleUploadedFile("j.xlsx", b"junk" * 100)},
    )
    assert response.status_code == 200
    assert "not an Excel .xlsx file" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_pages_refuse_who_may_not(crm):
    assert logged_in(crm.marketer).get("/data/imports/").status_code == 403
    assert logged_in(crm.agent).get("/data/exports/").status_code == 403
    assert logged_in(crm.rep_a).get("/data/imports/template/employees.csv").status_code == 403
    assert Client().get("/data/imports/").status_code == 302


def test_export_page_downloads_masked_xlsx(crm):
    client = logged_in(crm.marketer)
    assert client.get("/data/exports/").status_code == 200
    response = client.get(
        "/data/exports/", {"download": "1", "kind": "customers", "format": "xlsx"}
    )
    assert response.status_code == 200
    rows = read_xlsx(b"".join(response.streaming_content))
    assert "138****1234" in repr(rows) and "13812341234" not in repr(rows)
    refused = client.get("/data/exports/", {"download": "1", "kind": "contacts", "format": "csv"})
    assert refused.status_code == 403


def test_an_imported_customer_names_its_batch_on_its_page_and_in_the_api(crm):
    content = csv_bytes(CUSTOMER_HEADER_EN, [["Batch Origin Co", "B", "", "", "", "", ""]])
    batch = services.create_import(
        actor=crm.rep_a, kind="customers", file_name="origin.csv", content=content
    )
    services.commit_import(batch.pk, actor=crm.rep_a)
    imported = Customer.objects.get(name="Batch Origin Co")
    link = f'href="/data/imports/{batch.pk}/"'

    # The uploader gets the link to the batch; the head, who sees the customer but not the
    # upload (batches are private), gets its number alone.
    page = logged_in(crm.rep_a).get(f"/customers/{imported.pk}/").content.decode()
    assert f"by import batch #{batch.pk}" in page and link in page
    page = logged_in(crm.head).get(f"/customers/{imported.pk}/").content.decode()
    assert f"by import batch #{batch.pk}" in page and link not in page
    assert logged_in(crm.head).get(f"/data/imports/{batch.pk}/").status_code == 404
    # A customer made by hand has no batch.
    page = logged_in(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/").content.decode()
    assert "import batch" not in page

    api = api_as(crm.head)
    assert api.get(f"/api/v1/customers/{imported.pk}").json()["import_batch"] == batch.pk
    assert api.get(f"/api/v1/customers/{crm.customer_a.pk}").json()["import_batch"] is None
    with translation.override("zh-hans"):
        page = logged_in(crm.rep_a).get(
            f"/customers/{imported.pk}/", headers={"Accept-Language": "zh-hans"}
        )
    assert f"导入批次 #{batch.pk}" in page.content.decode()
