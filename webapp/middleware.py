"""Turn an unreachable Redis (broker or cache) into a 503 "busy" answer instead of a 500."""

import logging

from django.http import JsonResponse
from django.shortcuts import render
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
