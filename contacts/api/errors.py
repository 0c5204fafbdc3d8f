"""One error shape for the API: `{"detail": "..."}` or `{"field": ["message", ...]}`; never a 500 for bad input."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from contacts.api.parsers import TOO_BIG
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


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


# Model errors that are about existing data, not the input's form: answered 409, same body shape.
CONFLICT_CODES = {DUPLICATE_EMAIL}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        # From contacts.api.parsers, or from anything reading `request.body` past Django's limit.
        exc = RequestTooLarge(TOO_BIG.format(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    elif isinstance(exc, DjangoValidationError):
        codes = (
            {error.code for error in exc.error_list}
            if not hasattr(exc, "error_dict")
            else {error.code for errors in exc.error_dict.values() for error in errors}
        )
        detail = validation_error_detail(exc)
        exc = Conflict(detail) if codes <= CONFLICT_CODES else exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/ (clients parse every answer), the HTML error page elsewhere.

    Unhandled exceptions still reach Django's logging and `got_request_exception` first; this only
    chooses the body of the answer.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
