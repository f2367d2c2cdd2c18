"""The API's JSON parser: size-limited, strict, and never a 500.

DRF's own JSONParser reads the request stream directly, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (checked only by ``HttpRequest.body``) never
applies to it: a 10 MB body would be parsed in full. This parser enforces the
limit itself and turns every way a body can be malformed into a 400.
"""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

# A JSON escape of a UTF-16 surrogate. Paired ones decode to one character;
# a lone one decodes to a str that cannot be encoded as UTF-8 (nor stored).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _invalid(message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({"non_field_errors": [message]})


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf, which no database stores
        raise ValueError("number out of range")
    return value


def has_lone_surrogate(data: object) -> bool:
    """Whether any string (or object key) in parsed JSON holds a lone surrogate."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class JSONBodyParser(BaseParser):
    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if limit is not None and declared > limit:
                raise RequestDataTooBig
        raw = stream.read(limit + 1 if limit is not None else -1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid(_("The body is not valid UTF-8.")) from None
        text = text.removeprefix("\ufeff")
        try:
            data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except (ValueError, RecursionError):
            # RecursionError: "[[[[…" nested deeper than the interpreter allows.
            raise _invalid(_("The body is not valid JSON.")) from None
        if _SURROGATE_ESCAPE.search(text) and has_lone_surrogate(data):
            raise _invalid(_("The body contains a lone UTF-16 surrogate (invalid Unicode)."))
        return data
