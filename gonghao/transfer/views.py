"""Import and export pages: upload, preview with every error, commit with progress; exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from gonghao.access.services import has_permission
from gonghao.accounts.stepup import step_up_required
from gonghao.core.errors import GonghaoError, PermissionDenied
from gonghao.core.views import domain_errors_as_pages
from gonghao.crm.queries import CustomerFilter

from . import services
from .columns import COLUMNS
from .errors import presented
from .exports import export_table
from .forms import ExportForm, UploadForm
from .importers import IMPORTERS
from .models import ImportStatus

ERRORS_PER_PAGE = 200


def _import_kinds(actor) -> list[str]:
    return [
        kind for kind, importer in IMPORTERS.items() if has_permission(actor, importer.permission)
    ]


@login_required
@domain_errors_as_pages
def imports(request: HttpRequest):
    kinds = _import_kinds(request.user)
    if not kinds:
        raise PermissionDenied()
    form = UploadForm(request.POST or None, request.FILES or None)
    form.fields["kind"].choices = [c for c in form.fields["kind"].choices if c[0] in kinds]
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            from .api import read_upload

            batch = services.create_import(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                file_name=upload.name or "",
                content=read_upload(upload),
            )
        except GonghaoError as error:
            if error.status == 403:
                raise
            form.add_error("file", str(error.message))
        else:
            return redirect("import_detail", batch_id=batch.pk)
    recent = services.imports_of(request.user)[:20]
    return render(
        request, "transfer/imports.html", {"form": form, "kinds": kinds, "recent": recent}
    )


@login_required
@domain_errors_as_pages
def import_detail(request: HttpRequest, batch_id: int):
    batch = services.get_import_for(request.user, batch_id)
    errors = Paginator(presented(batch.errors), ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    # The preview's header in the page's language, as in the template file, not internal keys.
    titles = {c.key: c.title() for c in COLUMNS.get(batch.kind, ())}
    return render(
        request,
        "transfer/import_detail.html",
        {
            "batch": batch,
            "errors": errors,
            "can_commit": batch.status == ImportStatus.PREVIEW,
            "column_titles": [titles.get(key, key) for key in batch.columns],
        },
    )


@login_required
@domain_errors_as_pages
def import_progress(request: HttpRequest, batch_id: int):
    batch = services.get_import_for(request.user, batch_id)
    return render(request, "transfer/_progress.html", {"batch": batch})


@login_required
@require_POST
@domain_errors_as_pages
def import_commit(request: HttpRequest, batch_id: int):
    try:
        services.commit_import(batch_id, actor=request.user)
    except GonghaoError as error:
        if error.status in (403, 404):
            raise
        from django.contrib import messages

        messages.error(request, str(error.message))
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("import_detail", args=[batch_id])
        return response
    return redirect("import_detail", batch_id=batch_id)


@login_required
@domain_errors_as_pages
def import_template(request: HttpRequest, kind: str, file_format: str):
    if kind not in _import_kinds(request.user):
        raise PermissionDenied()
    content, content_type, name = services.template_file(kind, file_format, get_language() or "en")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _downloading(request: HttpRequest) -> bool:
    return bool(request.GET.get("download"))


@login_required
@domain_errors_as_pages
@step_up_required("export.run", permission="customer.export", when=_downloading)
def exports(request: HttpRequest):
    if not has_permission(request.user, "customer.export"):
        raise PermissionDenied()
    form = ExportForm(request.GET or None)
    if request.GET.get("download") and form.is_valid():
        data = form.cleaned_data
        filters = CustomerFilter(q=data["q"], status=data["status"], level=data["level"])
        try:
            result = export_table(request.user, data["kind"], filters, data["format"])
        except GonghaoError as error:
            if error.status in (403, 404):
                raise
            form.add_error(None, str(error.message))
        else:
            response = StreamingHttpResponse(result.chunks(), content_type=result.content_type)
            response["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
            return response
    return render(request, "transfer/exports.html", {"form": form})
