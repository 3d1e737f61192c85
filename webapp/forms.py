"""Forms with a security job: throttled log-in, account deletion, the snapshot privacy setting."""

import math

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from webapp import ratelimit


class LoginThrottleMixin:
    """Refuse to check any password once a user name has failed too often from one address.

    The limit is checked before the password, so a blocked guesser learns nothing; only wrong
    passwords count, and the right one clears that user name's count.
    """

    retry_after = 0

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if self.request is not None and (wait := ratelimit.login_wait(self.request, username)):
            self.retry_after = wait
            minutes = math.ceil(wait / 60)
            raise ValidationError(
                ngettext("Too many failed log-ins. Wait %(minutes)s minute and try again.",
                         "Too many failed log-ins. Wait %(minutes)s minutes and try again.", minutes)
                % {"minutes": minutes},
                code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if self.request is not None and any(e.code == "invalid_login" for e in error.error_list):
                ratelimit.login_failed(self.request, username)
            raise
        if self.request is not None and username:
            ratelimit.login_succeeded(self.request, username)
        return cleaned


class ThrottledAuthenticationForm(LoginThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(LoginThrottleMixin, AdminAuthenticationForm):
    pass


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=_("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="password_incorrect")
        return password


class SnapshotSettingForm(forms.Form):
    keep_snapshots = forms.BooleanField(required=False, label=_("Keep my snapshots"))
