"""The API's JSON parser: DRF's, with the body size limit Django applies to forms and no 500 for deep nesting."""

from __future__ import annotations

import io
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, parsers

TOO_BIG = "The request body is larger than {limit} bytes."


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        # DRF reads the request as a stream, past the DATA_UPLOAD_MAX_MEMORY_SIZE check Django makes
        # in `request.body`; without this a client could have any size of JSON decoded in memory.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise RequestDataTooBig(TOO_BIG.format(limit=limit))
            # The declared length can be missing or wrong: read no further than the limit either way.
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig(TOO_BIG.format(limit=limit))
            stream = io.BytesIO(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The json module recurses once per `[` or `{`: deep nesting is bad input, not a crash.
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
