"""Domain errors: a stable code, an HTTP status and a translated message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class GonghaoError(Exception):
    """Base for errors a user can act on. Views and the API turn them into 4xx answers."""

    code = "error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}
        super().__init__(str(self.message))


class ValidationFailed(GonghaoError):
    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")

    def __init__(
        self,
        message: Any = None,
        *,
        field_errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, details={"fields": field_errors or {}})
        self.field_errors = field_errors or {}


class NotFound(GonghaoError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(GonghaoError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(GonghaoError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")
