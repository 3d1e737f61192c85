"""What a person tells Mien about their taste beyond typical songs and favourites.

Imported at the end of ``recommender.models`` so that Django registers these models with the app.
Everything here points at songs by their primary key, which a catalogue re-import or a new crawl
keeps (``library.ingest_many`` upserts by (source, external_id)), so none of it is lost then.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import EMOTION_CHOICES, Recognition, Song

__all__ = ["MoodSetting", "HiddenSong", "RecognitionCorrection"]


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
