"""What people do with the library: typical songs, saved and hidden songs, mood settings,
recognitions and their corrections.

Everything here points at songs by their primary key, which a catalogue re-import or a new crawl
keeps (``library.ingest_many`` upserts by (source, external_id)), so none of it is lost then.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .library import EMOTION_CHOICES, TYPICAL_SONGS_PER_EMOTION, Song

__all__ = ["TypicalSong", "Favourite", "Recognition", "MoodSetting", "HiddenSong", "RecognitionCorrection"]


class TypicalSong(models.Model):
    """One of a person's (at most three) typical songs for an emotion: the paper's profile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="typical_songs")
    emotion = models.CharField(max_length=16, choices=EMOTION_CHOICES)
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "emotion", "song"], name="typical_unique")]
        ordering = ["emotion", "created_at"]
        verbose_name = _("typical song")
        verbose_name_plural = _("typical songs")

    def clean(self):
        taken = TypicalSong.objects.filter(user=self.user, emotion=self.emotion).exclude(pk=self.pk).count()
        if taken >= TYPICAL_SONGS_PER_EMOTION:
            raise ValidationError(_("You already have three typical songs for this emotion; remove one first."))

    @classmethod
    def pick(cls, user, emotion: str, song) -> bool:
        """Make ``song`` one of ``user``'s typical songs for ``emotion``: True when added, False
        when it already was one; ValidationError past the paper's three. The person's row is
        locked while counting, so parallel requests cannot each see room for one more."""
        from django.contrib.auth import get_user_model
        from django.db import transaction

        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            if cls.objects.filter(user=user, emotion=emotion, song=song).exists():
                return False
            new = cls(user=user, emotion=emotion, song=song)
            new.full_clean(exclude=["user", "song"])
            new.save()
            return True


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "song"], name="favourite_unique")]
        ordering = ["-created_at"]
        verbose_name = _("saved song")
        verbose_name_plural = _("saved songs")


class Recognition(models.Model):
    """The outcome of one snapshot: never the image itself."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="recognitions")
    # Anonymous visitors own their recognitions through their session.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    emotion = models.CharField(_("emotion"), max_length=16, choices=EMOTION_CHOICES, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    face_count = models.PositiveSmallIntegerField(_("faces"), default=0)
    face_box = models.JSONField(null=True, blank=True)
    strategy = models.CharField(max_length=16, default="match")
    songs = models.JSONField(default=list, blank=True)  # [{id, score, why}] in playlist order
    # The same songs as rows (kept in step by recommender.signals), so the review queue counts a
    # song's playlists in one query: how many playlists it shapes.
    playlist_songs = models.ManyToManyField(Song, related_name="+", blank=True, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("snapped at"), auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.id} {self.status} {self.emotion}"

    def is_owned_by(self, request) -> bool:
        if self.user_id is not None:
            return request.user.is_authenticated and request.user.pk == self.user_id
        return bool(self.session_key) and self.session_key == request.session.session_key


class MoodSetting(models.Model):
    """A person's mood strategy: match the detected mood (the paper) or lift a negative one."""

    class Strategy(models.TextChoices):
        MATCH = "match", _("Match my mood")
        LIFT = "lift", _("Lift my mood")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mood_setting")
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.MATCH)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user} {self.strategy}"

    @classmethod
    def strategy_for(cls, user) -> str:
        if user is None or not user.is_authenticated:
            return cls.Strategy.MATCH
        found = cls.objects.filter(user=user).values_list("strategy", flat=True).first()
        return found or cls.Strategy.MATCH


class HiddenSong(models.Model):
    """'Not for me': the song never appears in this person's playlists and its tags weigh less."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hidden_songs")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "song"], name="hidden_song_unique")]
        ordering = ["-created_at"]


class RecognitionCorrection(models.Model):
    """The person's own word on a recognition ("I'm actually sad"); the detected emotion stays on
    the recognition. A feedback signal for the emotion model later."""

    recognition = models.OneToOneField(Recognition, on_delete=models.CASCADE, related_name="correction")
    detected_emotion = models.CharField(max_length=16, choices=EMOTION_CHOICES, blank=True)
    emotion = models.CharField(max_length=16, choices=EMOTION_CHOICES)
    corrected_at = models.DateTimeField(auto_now=True)
    # The songs of the playlist the person corrected (rows of the recognition's playlist before it was
    # re-ranked; kept by recommender.signals): a song that keeps appearing here waits for a curator.
    playlist_songs = models.ManyToManyField(Song, related_name="+", blank=True, editable=False)

    def __str__(self):
        return f"{self.recognition_id}: {self.detected_emotion} -> {self.emotion}"
