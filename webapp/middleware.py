"""Middleware: a bound on every request's size, JSON errors under /api/, and an unreachable Redis
(broker or cache) answered 503 "busy" instead of 500."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

SERVICE_DOWN = (KombuOperationalError, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = "30"
# Also stored, untranslated, as the error of a recognition that could not be queued.
BUSY_MESSAGE = gettext_noop("The service is busy right now: please try again in a moment.")


def busy_message() -> str:
    return _(BUSY_MESSAGE)


class ServiceBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, SERVICE_DOWN):
            return None
        log.error("%s %s: a backing service is unreachable: %r", request.method, request.path, exception)
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": busy_message()}, status=503, headers=headers)
        response = render(request, "busy.html", {"message": busy_message()}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class RequestSizeLimitMiddleware:
    """Bound every request's whole size before anything reads its body (CSRF checks, forms and
    upload parsing all come later). The declared Content-Length is checked against
    MIEN_MAX_REQUEST_BYTES; a body of unknown length (chunked) is refused, as no browser sends one
    and Django would not read it anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        if refusal is None:
            return self.get_response(request)
        message, params, status = refusal
        # This runs before LocaleMiddleware, so the active language is whatever the worker thread's
        # previous request left: the refusal is said in this request's own (cookie, then browser).
        language = translation.get_language_from_request(request)
        with translation.override(language):
            message = _(message) % params
        # The body is left unread; the server closes or drains the connection (WSGI leaves
        # Connection, a hop-by-hop header, to the server).
        if wants_json(request):
            response = JsonResponse({"error": message}, status=status)
        else:
            response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        response["Content-Language"] = language
        return response

    @staticmethod
    def refusal(request):
        """None, or why this request is refused: (message id, its parameters, status)."""
        limit = settings.MIEN_MAX_REQUEST_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return gettext_noop("The Content-Length header is not a number."), {}, 400
        if declared > limit:
            return (gettext_noop("The request is too large: the limit is %(mb)s MB."),
                    {"mb": round(limit / (1024 * 1024), 1)}, 413)
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return gettext_noop("Send the request with a Content-Length, not in chunks."), {}, 411
        return None


# Said when a view under /api/ ended in a non-JSON error page (405, a CSRF refusal, DEBUG pages).
API_STATUS_MESSAGES = {
    400: gettext_noop("The request is not valid."),
    403: gettext_noop("This request was refused: reload the page, sign in if needed, and try again."),
    404: gettext_noop("There is nothing at this address."),
    405: gettext_noop("This address does not accept that method."),
    413: gettext_noop("The request is too large."),
    415: gettext_noop("This address does not accept that type of content."),
}
SERVER_ERROR_MESSAGE = gettext_noop("Something went wrong on our side: please try again in a moment.")


class ApiErrorMiddleware:
    """Under /api/, every error is JSON ``{"error": ...}``: an ``ApiError`` raised by a view becomes
    its 4xx answer, and any other error page (405, CSRF, 404 of an unknown address) is rewritten."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code >= 400
                and not response.get("Content-Type", "").startswith("application/json")):
            message = API_STATUS_MESSAGES.get(response.status_code, SERVER_ERROR_MESSAGE
                                              if response.status_code >= 500 else API_STATUS_MESSAGES[400])
            rewritten = JsonResponse({"error": _(message)}, status=response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    rewritten[header] = response[header]
            return rewritten
        return response

    def process_exception(self, request, exception):
        from webapp.jsonbody import ApiError

        if isinstance(exception, ApiError):
            return exception.response()
        return None
