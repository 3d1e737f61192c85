"""Pages people see."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from recommender.models import EMOTION_CHOICES, Favourite, TypicalSong
from webapp import ratelimit


def home(request):
    return render(request, "home.html", {
        "emotions": EMOTION_CHOICES,
        "max_upload_mb": settings.MIEN_MAX_UPLOAD_BYTES // (1024 * 1024),
    })


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and (wait := ratelimit.signup_wait(request)):
        minutes = -(-wait // 60)
        form.errors.clear()
        form.add_error(None, ngettext("Too many new accounts from your address. Wait %(minutes)s minute and try again.",
                                      "Too many new accounts from your address. Wait %(minutes)s minutes and try again.",
                                      minutes) % {"minutes": minutes})
        response = render(request, "registration/signup.html", {"form": form}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def my_music(request):
    favourites = Favourite.objects.filter(user=request.user).select_related("song")
    typical = TypicalSong.objects.filter(user=request.user).select_related("song")
    typical_by_emotion = [(key, label, [t for t in typical if t.emotion == key]) for key, label in EMOTION_CHOICES]
    return render(request, "my_music.html", {"favourites": favourites, "typical_by_emotion": typical_by_emotion})
