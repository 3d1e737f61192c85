"""A person's account and own data: throttled log-in, kept snapshots, deleting everything."""

from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from webapp import ratelimit
from webapp.forms import DeleteAccountForm, SnapshotSettingForm, ThrottledAuthenticationForm
from webapp.models import KeptSnapshot, PrivacySetting


def with_throttle_status(response):
    """429 and Retry-After on a log-in page that refused to check the password."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and getattr(form, "retry_after", 0):
        response.status_code = 429
        response["Retry-After"] = str(form.retry_after)
    return response


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        return with_throttle_status(super().form_invalid(form))

    def form_valid(self, form):
        response = super().form_valid(form)
        ratelimit.remember_device(self.request, response, form.get_user().get_username())
        return response


def admin_login(request, extra_context=None):
    """The admin's own log-in page, with the same limit (see WebappConfig.ready for its form)."""
    response = with_throttle_status(admin.site.login(request, extra_context))
    if request.method == "POST" and request.user.is_authenticated and response.status_code == 302:
        ratelimit.remember_device(request, response, request.user.get_username())
    return response


@login_required
@require_POST
def snapshot_setting(request):
    form = SnapshotSettingForm(request.POST)
    form.is_valid()  # an unticked box is simply False
    keep = form.cleaned_data.get("keep_snapshots", False)
    PrivacySetting.objects.update_or_create(user=request.user, defaults={"keep_snapshots": keep})
    messages.success(request, _("Mien will keep your new snapshots until you delete them.") if keep
                     else _("Mien will not keep your snapshots from now on."))
    return redirect(reverse("my_music") + "#snapshots-heading")


@login_required
@require_http_methods(["GET", "DELETE"])
def snapshot(request, snapshot_id):
    """The owner's kept snapshot (GET: the JPEG; DELETE: gone for good); 404 for anyone else."""
    found = KeptSnapshot.objects.filter(pk=snapshot_id, user=request.user)
    if request.method == "DELETE":
        deleted, _by_model = found.delete()
        if not deleted:
            return JsonResponse({"error": _("No such snapshot.")}, status=404)
        return JsonResponse({}, status=204)
    kept = found.first()
    if kept is None:
        return JsonResponse({"error": _("No such snapshot.")}, status=404)
    response = HttpResponse(bytes(kept.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="mien-snapshot-{kept.created_at:%Y%m%d-%H%M%S}.jpg"'
    return response


@login_required
@require_POST
def delete_snapshots(request):
    KeptSnapshot.objects.filter(user=request.user).delete()
    messages.success(request, _("Your kept snapshots are deleted."))
    return redirect(reverse("my_music") + "#snapshots-heading")


@never_cache
@login_required
def delete_account(request):
    """Delete the person and everything of theirs, after they confirm with their password."""
    user = request.user
    form = DeleteAccountForm(user, request.POST or None)
    if request.method == "POST":
        # Guessing the password here is throttled like logging in.
        if wait := ratelimit.password_check_wait(user):
            minutes = -(-wait // 60)
            form.add_error(None, ngettext("Too many wrong passwords. Wait %(minutes)s minute and try again.",
                                          "Too many wrong passwords. Wait %(minutes)s minutes and try again.",
                                          minutes) % {"minutes": minutes})
            response = render(request, "registration/delete_account.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            delete_everything_of(user)
            logout(request)
            messages.success(request, _("Your account and everything Mien kept about you are deleted."))
            return redirect("home")
        ratelimit.password_check_failed(user)
    return render(request, "registration/delete_account.html", {"form": form},
                  status=400 if form.errors else 200)


@transaction.atomic
def delete_everything_of(user) -> None:
    """The person, and through the cascades their recognitions (with corrections and kept
    snapshots), favourites, typical and hidden songs, and settings. Curators' label history keeps
    the edit without the name (SET_NULL)."""
    user.delete()
