"""One error shape for the API: `{"detail": "..."}` or `{"field": ["message", ...]}`; never a 500 for bad input."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from contacts.models import DUPLICATE_EMAIL


def validation_error_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    """A model/service ValidationError as DRF field errors (`__all__` becomes `non_field_errors`)."""
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": list(error.messages)}
    return {
        ("non_field_errors" if field == "__all__" else field): list(messages)
        for field, messages in error.message_dict.items()
    }


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "This conflicts with existing data."
    default_code = "conflict"


# Model errors that are about existing data, not the input's form: answered 409, same body shape.
CONFLICT_CODES = {DUPLICATE_EMAIL}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        codes = (
            {error.code for error in exc.error_list}
            if not hasattr(exc, "error_dict")
            else {error.code for errors in exc.error_dict.values() for error in errors}
        )
        detail = validation_error_detail(exc)
        exc = Conflict(detail) if codes <= CONFLICT_CODES else exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
