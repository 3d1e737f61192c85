"""Error pages: JSON under /api/ (the API's ``{"error": ...}`` shape), Django's own elsewhere."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext as _
from django.views import defaults

from webapp.jsonbody import error_response


def bad_request(request, exception=None):
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, TooManyFilesSent):
        return error_response(_("Send one photo at a time, in the form field 'image'."), 400)
    if isinstance(exception, RequestDataTooBig):
        return error_response(_("The request body is too large."), 413)
    if isinstance(exception, TooManyFieldsSent):
        return error_response(_("The form has too many fields."), 400)
    return error_response(_("The request is not valid."), 400)


def not_found(request, exception=None):
    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return error_response(_("There is nothing at this address."), 404)


def server_error(request):
    if not request.path.startswith("/api/"):
        return defaults.server_error(request)
    return error_response(_("Something went wrong on our side: please try again in a moment."), 500)
