"""The API's JSON shapes, out of the views: a recognition with its playlist (each song with why it
was picked, in the reader's language)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recommender.attribution import licence_name
from recommender.models import EMOTION_LABELS, HiddenSong, Recognition, RecognitionCorrection, Song, Tag


SONG_FIELDS = ("id", "title", "artist", "url", "embed_url", "audio_url", "album", "license_url")


def playlist_songs(song_ids) -> dict[int, dict]:
    """id -> the song's shown fields and its tags ({slug: name in the reader's language}), read as
    plain rows in two queries (no model instances: this runs on every answered long-poll)."""
    songs = {row["id"]: dict(row, tags={}) for row in Song.objects.filter(id__in=song_ids).values(*SONG_FIELDS)}
    for song_id, name, name_en, name_zh in Song.tags.through.objects.filter(song_id__in=songs).values_list(
            "song_id", "tag__name", "tag__name_en", "tag__name_zh"):
        songs[song_id]["tags"][name] = Tag.display_name_of(name, name_en, name_zh)
    return songs


def recognition_json(recognition: Recognition) -> dict:
    songs = []
    if recognition.songs:
        named = {s for pick in recognition.songs for key in REASON_SONGS for s in pick.get(key, ())}
        by_id = playlist_songs({s["id"] for s in recognition.songs} | named)
        # "Not for me" holds for past playlists too, when they are reopened.
        hidden = set(HiddenSong.objects.filter(user_id=recognition.user_id).values_list("song_id", flat=True)
                     ) if recognition.user_id else set()
        for pick in recognition.songs:
            song = by_id.get(pick["id"])
            if song is None or song["id"] in hidden:  # removed from the library since, or hidden
                continue
            names = song["tags"]
            songs.append({
                "id": song["id"], "title": song["title"], "artist": song["artist"], "score": pick["score"],
                "tags": sorted(names.values()), "why": [names.get(t, t) for t in pick["why"]],
                "reasons": song_reasons(pick, by_id), "mood": pick.get("mood"),
                "mood_label": str(EMOTION_LABELS[pick["mood"]]) if pick.get("mood") in EMOTION_LABELS else None,
                "url": song["url"], "embed_url": song["embed_url"], "audio_url": song["audio_url"],
                # Attribution: a Creative Commons song is shown with its artist and licence where it plays.
                "album": song["album"], "license_url": song["license_url"],
                "license_name": licence_name(song["license_url"]),
            })
    corrected = correction_of(recognition)
    return {
        "id": str(recognition.id),
        "url": reverse("api:recognition", args=[recognition.id]),
        "status": recognition.status,
        "emotion": recognition.emotion or None,
        "emotion_label": str(EMOTION_LABELS[recognition.emotion]) if recognition.emotion else None,
        # In FER2013 order (PostgreSQL's jsonb does not keep key order).
        "probabilities": {e: recognition.probabilities[e] for e in EMOTION_LABELS if e in recognition.probabilities},
        "faces": recognition.face_count,
        "songs": songs,
        # Stored in English by the worker; shown in the reader's language where there is a translation.
        "error": _(recognition.error) if recognition.error else None,
        "strategy": recognition.strategy,
        "strategy_label": strategy_label(recognition.strategy) if recognition.status == "done" else None,
        # The person's own word, when they corrected the detected emotion; the playlist follows it.
        "corrected_emotion": corrected or None,
        "corrected_emotion_label": str(EMOTION_LABELS[corrected]) if corrected else None,
        "correction_url": (reverse("api:recognition_correction", args=[recognition.id])
                           if recognition.status == Recognition.Status.DONE else None),
    }


# A pick's reasons besides its tags (recommender.playlists._reasons): kind -> the pick's key, sentence.
REASON_SONGS = {
    "kept_with": ("people", gettext_lazy("People who kept %(songs)s also kept this")),
    "listed_with": ("playlists", gettext_lazy("Often on the same playlists as %(songs)s")),
}


def song_reasons(pick: dict, songs: dict[int, dict]) -> list[dict]:
    """[{kind, songs, text}] for the seeds a pick shares people's kept songs or playlists with."""
    reasons = []
    for key, (kind, sentence) in REASON_SONGS.items():
        titles = [songs[s]["title"] for s in pick.get(key, ()) if s in songs]
        if titles:
            reasons.append({"kind": kind, "songs": titles,
                            "text": str(sentence) % {"songs": _(" and ").join(f"“{t}”" for t in titles)}})
    return reasons


STRATEGY_LABELS = {
    "match": gettext_lazy("Matched to your mood"),
    "lift": gettext_lazy("Chosen to lift your mood: calming first, then cheerful"),
    "blend": gettext_lazy("Your expression was unclear, so this blends the moods it might be"),
}


def strategy_label(strategy: str) -> str | None:
    label = STRATEGY_LABELS.get(strategy)
    return str(label) if label else None


def correction_of(recognition: Recognition) -> str:
    try:
        return recognition.correction.emotion
    except RecognitionCorrection.DoesNotExist:
        return ""
