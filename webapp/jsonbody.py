"""The API's one JSON body parser and its one error shape.

Every view under /api/ reads its body through ``json_object`` and its fields through the helpers
below; anything malformed, oversized, wrongly typed or non-finite raises ``ApiError``, which
``webapp.middleware.ApiErrorMiddleware`` answers as ``{"error": "<a sentence>"}`` with a 4xx status.
That ``error`` field is the whole error shape of the API (429s add ``retry_after``).
"""

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

# The largest id a PostgreSQL bigint holds: larger ones name nothing and are refused as such.
MAX_ID = 2**63 - 1


class ApiError(Exception):
    """A request the API refuses: ``message`` is shown to the person, ``status`` is a 4xx."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status

    def response(self) -> JsonResponse:
        return error_response(self.message, self.status)


def error_response(message: str, status: int, **headers) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers or None)


def _refuse_constant(name: str):
    raise ApiError(_("Numbers must be finite: %(value)s is not allowed.") % {"value": name})


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ApiError(_("The number %(value)s is too large.") % {"value": text[:40]})
    return value


def json_object(request) -> dict:
    """The request's body as a JSON object (an empty body is ``{}``)."""
    limit = settings.MIEN_MAX_JSON_BYTES
    too_large = _("The request body is too large: the limit is %(kb)s KB.") % {"kb": limit // 1024}
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(_("The Content-Length header is not a number.")) from None
    if declared > limit:  # refused on the header, before a byte is read
        raise ApiError(too_large, 413)
    raw = request.body
    if len(raw) > limit:
        raise ApiError(too_large, 413)
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(_("The request body is not UTF-8 text.")) from None
    try:
        body = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ApiError(_("The JSON in the request body is nested too deeply.")) from None
    except ValueError:  # json.JSONDecodeError is a ValueError
        raise ApiError(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise ApiError(_("The request body must be a JSON object, such as {\"song_id\": 12}."))
    return body


def id_field(body: dict, name: str) -> int:
    """A required id: a JSON whole number from 1 up (not 1.9, not true, not "12")."""
    if name not in body:
        raise ApiError(_("The field '%(name)s' is missing.") % {"name": name})
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(_("The field '%(name)s' must be a whole number, such as 12.") % {"name": name})
    if not 1 <= value <= MAX_ID:
        raise ApiError(_("The field '%(name)s' is not a valid id.") % {"name": name})
    return value


def choice_field(body: dict, name: str, choices, unknown_message: str) -> str:
    """A required string among ``choices``; ``unknown_message`` says what was expected."""
    if name not in body:
        raise ApiError(_("The field '%(name)s' is missing.") % {"name": name})
    value = body[name]
    if not isinstance(value, str):
        raise ApiError(_("The field '%(name)s' must be a string.") % {"name": name})
    if value not in choices:
        raise ApiError(unknown_message)
    return value
