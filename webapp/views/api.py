"""JSON API: snapshots in, recognitions and playlists out; saving songs."""

import base64
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recommender.models import (EMOTION_LABELS, Favourite, HiddenSong, MoodSetting, Recognition,
                                 RecognitionCorrection, Song, TypicalSong)
from webapp.jsonbody import ApiError, choice_field, error_response, id_field, json_object
from webapp.middleware import BUSY_MESSAGE, RETRY_AFTER_SECONDS, SERVICE_DOWN
from recommender.emotion import ImageDecodeError, ImageTooLarge, UnsupportedImageType, check_image
from webapp import recognition_wait
from webapp.serializers import recognition_json
from webapp.ratelimit import limit_snapshots
from webapp.snapshots import keep_if_wanted
from webapp.tasks import mark_failed, recognise_and_recommend

log = logging.getLogger(__name__)
# What publishing a task raises when the broker cannot be reached (kombu wraps the socket errors).
BROKER_DOWN = (*SERVICE_DOWN, OSError)



def error(message, status):
    return error_response(message, status)


@require_POST
@limit_snapshots
def recognitions(request):
    limit_mb = settings.MIEN_MAX_UPLOAD_BYTES // (1024 * 1024)
    too_large = _("That photo is too large: the limit is %(mb)s MB.") % {"mb": limit_mb}
    # Refuse early on the declared length; the upload handler enforces the cap while reading.
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.MIEN_MAX_UPLOAD_BYTES + 64 * 1024:
        return error(too_large, 413)
    upload = request.FILES.get("image")
    if getattr(request, "mien_upload_too_large", False):
        return error(too_large, 413)
    if upload is None:
        return error(_("Send a photo in the form field 'image'."), 400)
    data = upload.read()
    if not data:
        return error(_("The photo is empty."), 400)
    try:  # the type by content (the decoder's allow-list), the header, then a cheap read of the whole stream
        check_image(data, max_pixels=settings.MIEN_MAX_PIXELS)
    except UnsupportedImageType:
        return error(_("That file is not a photo we can read: send a JPEG, PNG, WebP, GIF or BMP image."), 415)
    except ImageTooLarge:
        return error(_("That photo has too many pixels: the limit is %(mp)s megapixels.")
                     % {"mp": settings.MIEN_MAX_PIXELS // 1_000_000}, 413)
    except ImageDecodeError:
        return error(_("That photo is damaged or incomplete: please take or upload it again."), 400)
    if not request.session.session_key:
        request.session.save()
    recognition = Recognition.objects.create(
        user=request.user if request.user.is_authenticated else None,
        session_key="" if request.user.is_authenticated else request.session.session_key,
    )
    try:
        recognise_and_recommend.delay(str(recognition.id), base64.b64encode(data).decode("ascii"))
    except BROKER_DOWN:
        # The queue is unreachable: say so now rather than leave the recognition pending for good.
        log.exception("could not queue recognition %s", recognition.id)
        mark_failed([recognition.id], BUSY_MESSAGE)
        return JsonResponse({"error": _(BUSY_MESSAGE)}, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    keep_if_wanted(request, recognition, data)  # only with the person's "Keep my snapshots" on
    url = reverse("api:recognition", args=[recognition.id])
    return JsonResponse({"id": str(recognition.id), "url": url}, status=202, headers={"Location": url})


def _recognition_row(recognition_id):
    # With its correction, which the JSON shows: one query.
    return Recognition.objects.select_related("correction").filter(pk=recognition_id).first()


@require_GET
def recognition(request, recognition_id):
    """The recognition; with ``?wait=N`` (seconds, at most MAX_WAIT_SECONDS) a pending one is answered
    as soon as it ends, or still pending after N seconds (a long-poll instead of a poll every 300 ms)."""
    try:
        wait, bad_wait = recognition_wait.wait_seconds(request.GET.get("wait")), False
    except ValueError:
        wait, bad_wait = 0.0, True
    # Listening starts before the first read, so an outcome written after it is not missed.
    with recognition_wait.listening(recognition_id if wait else None) as waiter:
        found = _recognition_row(recognition_id)
        if found is None or not found.is_owned_by(request):
            return error(_("No such recognition."), 404)
        if bad_wait:
            return error(_("'wait' must be a number of seconds (at most %(max)s).")
                         % {"max": recognition_wait.MAX_WAIT_SECONDS}, 400)
        if wait and found.status == Recognition.Status.PENDING:
            found = waiter.wait(wait, lambda: _recognition_row(recognition_id))
            if found is None:  # deleted while we waited
                return error(_("No such recognition."), 404)
    return JsonResponse(recognition_json(found))


def _song_from(body) -> Song:
    """The active song named by the body's ``song_id`` (400 when malformed, 404 when unknown)."""
    song = Song.objects.active().filter(pk=id_field(body, "song_id")).first()
    if song is None:
        raise ApiError(_("No such song."), 404)
    return song


def _emotion_from(body) -> str:
    return choice_field(body, "emotion", EMOTION_LABELS, _("Unknown emotion."))


def _signed_in(request):
    if not request.user.is_authenticated:
        return error(_("Sign in to save songs."), 401)
    return None


@require_POST
def favourites(request):
    if refusal := _signed_in(request):
        return refusal
    song = _song_from(json_object(request))
    Favourite.objects.get_or_create(user=request.user, song=song)
    return JsonResponse({"song_id": song.id, "saved": True}, status=201)


@require_http_methods(["DELETE"])
def favourite(request, song_id):
    if refusal := _signed_in(request):
        return refusal
    deleted, _by_model = Favourite.objects.filter(user=request.user, song_id=song_id).delete()
    if not deleted:
        return error(_("That song is not among your saved songs."), 404)
    return JsonResponse({}, status=204)


@require_POST
def typical_songs(request):
    if refusal := _signed_in(request):
        return refusal
    body = json_object(request)
    emotion = _emotion_from(body)
    song = _song_from(body)
    try:
        added = TypicalSong.pick(request.user, emotion, song)
    except ValidationError as exc:
        return error(" ".join(exc.messages), 409)
    return JsonResponse({"emotion": emotion, "song_id": song.id}, status=201 if added else 200)


@require_http_methods(["DELETE"])
def typical_song(request, emotion, song_id):
    if refusal := _signed_in(request):
        return refusal
    deleted, _by_model = TypicalSong.objects.filter(user=request.user, emotion=emotion, song_id=song_id).delete()
    if not deleted:
        return error(_("That song is not one of your typical songs for this emotion."), 404)
    return JsonResponse({}, status=204)


@require_GET
def library_songs(request):
    """Search one emotion's library (``?emotion=happy&q=rock``): how a person finds typical songs
    that are not in their playlist. Each song says whether it is already one of theirs."""
    from recommender.playlists import SEARCH_MAX_CHARS, search_library

    if refusal := _signed_in(request):
        return refusal
    emotion = request.GET.get("emotion")
    if emotion not in EMOTION_LABELS:
        return error(_("Unknown emotion."), 400)
    query = (request.GET.get("q") or "").strip()
    if not query:
        return error(_("Type a title, an artist or a tag to search for."), 400)
    if len(query) > SEARCH_MAX_CHARS:
        return error(_("That search is too long: use at most %(n)s characters.") % {"n": SEARCH_MAX_CHARS}, 400)
    typical = set(TypicalSong.objects.filter(user=request.user, emotion=emotion).values_list("song_id", flat=True))
    songs = [{"id": song.id, "title": song.title, "artist": song.artist, "url": song.url,
              "tags": sorted(t.display_name for t in song.tags.all()), "typical": song.id in typical}
             for song in search_library(emotion, query)]
    return JsonResponse({"emotion": emotion, "query": query, "songs": songs})


@require_POST
def recognition_correction(request, recognition_id):
    """'I'm actually sad': the owner corrects the emotion; the playlist is re-ranked for it at once
    and the correction is stored beside the detected emotion. Saying the detected emotion undoes it."""
    from recommender.playlists import playlist_for_recognition

    found = Recognition.objects.select_related("user").filter(pk=recognition_id).first()
    if found is None or not found.is_owned_by(request):
        return error(_("No such recognition."), 404)
    emotion = _emotion_from(json_object(request))
    if found.status != Recognition.Status.DONE or not found.emotion:
        return error(_("Only a finished recognition can be corrected."), 409)
    if emotion == found.emotion:
        RecognitionCorrection.objects.filter(recognition=found).delete()
        found.songs, found.strategy = playlist_for_recognition(found)
    else:
        RecognitionCorrection.objects.update_or_create(
            recognition=found, defaults={"emotion": emotion, "detected_emotion": found.emotion})
        found.songs, found.strategy = playlist_for_recognition(found, corrected_emotion=emotion)
    found.save(update_fields=["songs", "strategy"])  # post_save keeps its playlist rows in step
    return JsonResponse(recognition_json(found))


@require_POST
def hidden_songs(request):
    """'Not for me': hide a song from this person's playlists and lower its tags in their profile."""
    if refusal := _signed_in(request):
        return refusal
    song = _song_from(json_object(request))
    HiddenSong.objects.get_or_create(user=request.user, song=song)
    return JsonResponse({"song_id": song.id, "hidden": True}, status=201)


@require_http_methods(["DELETE"])
def hidden_song(request, song_id):
    if refusal := _signed_in(request):
        return refusal
    deleted, _by_model = HiddenSong.objects.filter(user=request.user, song_id=song_id).delete()
    if not deleted:
        return error(_("That song is not hidden."), 404)
    return JsonResponse({}, status=204)


@require_POST
def mood_strategy(request):
    """Set the person's mood strategy; JSON in, JSON out, or a form from My music (redirects back)."""
    is_form = request.content_type != "application/json"
    if not request.user.is_authenticated:
        if is_form:
            return redirect(f"{reverse('login')}?next={reverse('my_music')}")
        return error(_("Sign in to choose how Mien picks your music."), 401)
    unknown = _("Unknown mood strategy.")
    if is_form:
        strategy = request.POST.get("strategy")
        if strategy not in MoodSetting.Strategy.values:
            return error(unknown, 400)
    else:
        strategy = choice_field(json_object(request), "strategy", MoodSetting.Strategy.values, unknown)
    MoodSetting.objects.update_or_create(user=request.user, defaults={"strategy": strategy})
    if is_form:
        return redirect(reverse("my_music") + "#strategy-heading")
    return JsonResponse({"strategy": strategy})
