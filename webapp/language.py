"""The interface language: the browser's Accept-Language on a first visit (LocaleMiddleware), then
the footer's choice (a cookie), and for a signed-in person the choice kept on their account, which
every log-in applies again, in any browser."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation
from django.views.i18n import set_language as django_set_language

from webapp.models import LanguageSetting


def set_language(request):
    """Django's footer switch (cookie + redirect); a signed-in person's choice is also kept."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if (request.method == "POST" and request.user.is_authenticated
            and translation.check_for_language(code) and code in dict(settings.LANGUAGES)):
        LanguageSetting.objects.update_or_create(user=request.user, defaults={"language": code})
    return response


@receiver(user_logged_in, dispatch_uid="mien-apply-account-language")
def apply_account_language(sender, request, user, **kwargs):
    """At log-in, the account's language wins over the browser's; the middleware sets the cookie."""
    if request is None:
        return
    code = LanguageSetting.objects.filter(user=user).values_list("language", flat=True).first()
    if code is None:
        # A choice made in the footer before signing up (or in) becomes the account's.
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen in dict(settings.LANGUAGES):
            LanguageSetting.objects.create(user=user, language=chosen)
        return
    if translation.check_for_language(code):
        request.mien_account_language = code
        translation.activate(code)
        request.LANGUAGE_CODE = code


class AccountLanguageMiddleware:
    """Writes the language cookie chosen at log-in into the log-in's response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        code = getattr(request, "mien_account_language", None)
        if code:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response
