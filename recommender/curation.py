"""Curation: what curators do to the library, as plain functions the admin and commands call.

A song's effective labels are those of its highest-priority source (admin > model > catalogue).
Curators write admin labels only; ingest never writes or removes them (see library.py), so a
curated label survives crawling and re-import. Every change of a song's effective labels is kept
as a ``LabelChange`` (who, when, old, new).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .emotion.labels import EMOTIONS
from .library import bump_library_version, ensure_tags
from .models import REVIEW_THRESHOLD, EmotionLabel, LabelChange, Song, Tag, confidence_error
from .review import review_queue  # noqa: F401  (the queue lives in review.py)

ADMIN = EmotionLabel.Source.ADMIN
MODEL = EmotionLabel.Source.MODEL
# The admin's confidence bands, name -> [low, high): "high" starts at the review threshold, so no
# band holds songs on both sides of it (it was 0.4-0.7 around a 0.6 threshold).
CONFIDENCE_BANDS = {
    "low": (0.0, min(0.4, REVIEW_THRESHOLD)),
    "medium": (min(0.4, REVIEW_THRESHOLD), REVIEW_THRESHOLD),
    "high": (REVIEW_THRESHOLD, 1.01),
}


# -- effective labels ---------------------------------------------------------------------------

def effective_labels(labels: Iterable[EmotionLabel]) -> tuple[str, dict[str, float]]:
    """(source, {emotion: confidence}) of the highest-priority source among ``labels``: the model's rule."""
    return EmotionLabel.effective(labels)


def describe(source: str, emotions: dict[str, float]) -> str:
    if not emotions:
        return ""
    return ", ".join(f"{e} {c:.2f}" for e, c in emotions.items()) + f" ({source})"


def _effective_by_song(song_ids) -> dict[int, tuple[str, dict[str, float]]]:
    rows = EmotionLabel.objects.filter(song_id__in=list(song_ids)).values_list("song_id", "emotion", "source",
                                                                              "confidence")
    found = EmotionLabel.effective_by_song(rows)
    return {song_id: found.get(song_id, ("", {})) for song_id in song_ids}


def _song_ids(songs) -> list[int]:
    if hasattr(songs, "values_list"):
        return list(songs.values_list("id", flat=True))
    return [s if isinstance(s, int) else s.pk for s in songs]


# -- relabel and approve ------------------------------------------------------------------------

@transaction.atomic
def set_emotions(songs, emotions: dict[str, float] | Iterable[str], user=None, via: str = "relabel") -> int:
    """Make ``emotions`` the admin labels of ``songs``; returns how many songs changed.

    A song whose effective labels already are exactly these admin labels is left alone (no history).
    """
    if not isinstance(emotions, dict):
        emotions = {e: 1.0 for e in emotions}
    if not emotions:
        raise ValueError("give at least one emotion")
    for emotion, confidence in emotions.items():
        if reason := confidence_error(emotion, confidence):
            raise ValueError(reason)
    emotions = dict(sorted(emotions.items()))
    ids = _song_ids(songs)
    before = _effective_by_song(ids)
    changed = []
    for song_id in ids:
        source, current = before[song_id]
        if source == ADMIN and current == emotions:
            continue
        changed.append(song_id)
    if not changed:
        return 0
    EmotionLabel.objects.filter(song_id__in=changed, source=ADMIN).delete()
    EmotionLabel.objects.bulk_create([
        EmotionLabel(song_id=song_id, emotion=e, source=ADMIN, confidence=c, labelled_by=user)
        for song_id in changed for e, c in emotions.items()])
    new = describe(ADMIN, emotions)
    LabelChange.objects.bulk_create([
        LabelChange(song_id=song_id, changed_by=user, old=describe(*before[song_id]), new=new, via=via)
        for song_id in changed])
    transaction.on_commit(bump_library_version)  # bulk writes send no signals
    return len(changed)


def set_emotion(songs, emotion: str, user=None, via: str = "relabel") -> int:
    return set_emotions(songs, {emotion: 1.0}, user=user, via=via)


@transaction.atomic
def approve(songs, user=None) -> int:
    """Turn the model labels of songs whose effective labels come from the model into admin labels."""
    ids = _song_ids(songs)
    approved = 0
    for song_id, (source, emotions) in _effective_by_song(ids).items():
        if source == MODEL:
            approved += set_emotions([song_id], {e: 1.0 for e in emotions}, user=user, via="approve")
    return approved


@transaction.atomic
def confirm(songs, user=None, via: str = "confirm") -> int:
    """A curator agrees with a song's labels, whatever their source: they become admin labels (at
    1.0), and an already curated song is confirmed again (history kept, people's earlier pushback
    answered: see review.py). Returns how many songs were confirmed."""
    confirmed = 0
    for song_id, (source, emotions) in _effective_by_song(_song_ids(songs)).items():
        if not emotions:
            continue
        if source != ADMIN:
            confirmed += set_emotions([song_id], {e: 1.0 for e in emotions}, user=user, via=via)
            continue
        EmotionLabel.objects.filter(song_id=song_id, source=ADMIN).update(labelled_at=timezone.now(),
                                                                          labelled_by=user)
        text = describe(source, emotions)
        LabelChange.objects.create(song_id=song_id, changed_by=user, old=text, new=text, via=via)
        confirmed += 1
    return confirmed


def record_change(song, old: str, user=None, via: str = "admin form") -> LabelChange | None:
    """After a song's labels were edited by hand: keep the change, if there was one."""
    new = current_description(song)
    if new == old:
        return None
    return LabelChange.objects.create(song=song, changed_by=user, old=old, new=new, via=via)


def current_description(song) -> str:
    return describe(*effective_labels(EmotionLabel.objects.filter(song=song)))


# -- library membership and tags ----------------------------------------------------------------

def set_active(songs, active: bool) -> int:
    """Soft delete (``active=False``) or restore songs: reversible, labels and history kept."""
    ids = _song_ids(songs)
    count = Song.objects.filter(id__in=ids).exclude(is_active=active).update(is_active=active)
    if count:
        transaction.on_commit(bump_library_version)
    return count


def add_tag(songs, name: str) -> Tag:
    tag_id = ensure_tags([name])[name]
    tag = Tag.objects.get(pk=tag_id)
    tag.songs.add(*_song_ids(songs))  # m2m_changed bumps the library version
    return tag


def remove_tag(songs, name: str) -> int:
    tag = Tag.objects.filter(name=name).first()
    if tag is None:
        return 0
    ids = _song_ids(songs)
    count = Song.tags.through.objects.filter(tag=tag, song_id__in=ids).count()
    tag.songs.remove(*ids)
    return count


# -- review queue evidence (the queue itself: review.py) ------------------------------------------

def model_probabilities(labels: Iterable[EmotionLabel]) -> dict[str, float]:
    """The classifier's probabilities kept on the song's model label ({} if none were kept), highest
    first."""
    model = [label for label in labels if label.source == MODEL and label.probabilities]
    if not model:
        return {}
    best = max(model, key=lambda label: label.confidence)
    return dict(sorted(best.probabilities.items(), key=lambda item: (-item[1], EMOTIONS.index(item[0]))))


def effective_source_q(source: str) -> Q:
    """Songs whose effective labels come from ``source`` (the model's rule, as a filter)."""
    return EmotionLabel.effective_source_q(source)


# -- the curator group --------------------------------------------------------------------------

CURATOR_GROUP = "curator"
# Curators view, add and change these (never delete; never users, groups or settings) ...
CURATOR_MODELS = ("song", "songreview", "tag", "emotionlabel", "labelchange", "classifierrun")
# ... except the history and the retraining runs, which they only read (and ask for a retraining).
CURATOR_EXCLUDED = ("add_labelchange", "change_labelchange", "change_classifierrun")


def curator_group(using: str = "default"):
    """The `curator` group with its permissions, made or completed as needed (idempotent).

    Migration 0004 makes it; the post_migrate handler (recommender/apps.py) calls this after every
    migrate and every test-database flush, so the group is always there. Permissions a superuser
    gave the group on top are left alone.
    """
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.using(using).get_or_create(name=CURATOR_GROUP)
    wanted = set(Permission.objects.using(using).filter(
        content_type__app_label="recommender", content_type__model__in=CURATOR_MODELS,
        codename__regex=r"^(view|change|add)_").exclude(codename__in=CURATOR_EXCLUDED).values_list("pk", flat=True))
    missing = wanted - set(group.permissions.values_list("pk", flat=True))
    if missing:
        group.permissions.add(*missing)
    return group
