"""The song library and what people do with it."""

import re
import unicodedata
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _

from .attribution import licence_name
from .emotion.labels import EMOTIONS

EMOTION_CHOICES = [
    ("angry", _("Angry")),
    ("disgust", _("Disgust")),
    ("fear", _("Fear")),
    ("happy", _("Happy")),
    ("sad", _("Sad")),
    ("surprise", _("Surprise")),
    ("neutral", _("Neutral")),
]
assert tuple(key for key, _label in EMOTION_CHOICES) == EMOTIONS
EMOTION_LABELS = dict(EMOTION_CHOICES)

# Song links are shown as hrefs and players: web addresses only (no javascript:, data:, ftp:).
WEB_URL_SCHEMES = ("http", "https")
validate_web_url = URLValidator(schemes=list(WEB_URL_SCHEMES))
WEB_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://"
# Tag names are slugs on every write path: checked here, in the forms and imports, and by the database.
TAG_NAME_PATTERN = r"^[-a-zA-Z0-9_]+$"
validate_tag_name = validate_slug

# The paper's rule: three typical songs per emotion.
TYPICAL_SONGS_PER_EMOTION = 3


def normalise_key(title: str, artist: str) -> str:
    """Title + artist folded for duplicate detection across sources."""

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKC", text or "").casefold()
        return re.sub(r"[\W_]+", "", text)

    return f"{fold(title)}|{fold(artist)}"


class Tag(models.Model):
    class Kind(models.TextChoices):
        MOOD = "mood", _("mood")
        GENRE = "genre", _("genre")
        SCENE = "scene", _("scene")
        LANGUAGE = "language", _("language")
        ERA = "era", _("era")
        INSTRUMENT = "instrument", _("instrument")
        ENERGY = "energy", _("energy")
        OTHER = "other", _("other")

    name = models.SlugField(_("name"), max_length=64, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=models.Q(name__regex=TAG_NAME_PATTERN),
                                              name="tag_name_is_slug")]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name_en or self.name


class SongQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Song(models.Model):
    class Source(models.TextChoices):
        NETEASE = "netease", _("NetEase Cloud Music")
        DEEZER = "deezer", "Deezer"
        SPOTIFY = "spotify", "Spotify"
        JAMENDO = "jamendo", "Jamendo"
        MANUAL = "manual", _("manual")

    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    external_id = models.CharField(_("ID at the source"), max_length=64)
    title = models.CharField(_("title"), max_length=300)
    artist = models.CharField(_("artist"), max_length=300)
    normalised_key = models.CharField(_("duplicate key"), max_length=600, db_index=True, editable=False)
    url = models.URLField(_("public page"), max_length=500, blank=True, validators=[validate_web_url])
    embed_url = models.URLField(_("embeddable player"), max_length=500, blank=True, validators=[validate_web_url])
    audio_url = models.URLField(_("direct audio"), max_length=500, blank=True, validators=[validate_web_url])
    popularity = models.PositiveSmallIntegerField(_("popularity"), null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    album = models.CharField(_("album"), max_length=300, blank=True)
    # The per-track licence (a Creative Commons deed on Jamendo): CC BY asks for it wherever the song plays.
    license_url = models.URLField(_("licence"), max_length=500, blank=True, validators=[validate_web_url])
    # Lyrics are kept only while needed (recommender.labelling.keep_lyrics) unless MIEN_STORE_LYRICS;
    # what they said survives as the lexicon features, and the hash tells a re-crawl nothing changed.
    lyrics = models.TextField(_("lyrics"), blank=True)
    lyrics_features = models.JSONField(_("lexicon features of the lyrics"), default=dict, blank=True)
    lyrics_sha1 = models.CharField(max_length=40, blank=True, editable=False)
    lyrics_checked_at = models.DateTimeField(_("lyrics looked up"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, related_name="songs", blank=True, verbose_name=_("tags"))
    # Ids of the source's playlists holding the song (the catalogue's NetEase playlists): the
    # co-occurrence signal of the ranking (docs/recommendation.md).
    playlists = models.JSONField(_("playlists holding it"), default=list, blank=True)
    is_active = models.BooleanField(_("in library"), default=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SongQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="song_source_id_unique"),
            *(models.CheckConstraint(condition=models.Q(**{name: ""}) | models.Q(**{f"{name}__regex": WEB_URL_PATTERN}),
                                     name=f"song_{name}_is_web") for name in ("url", "embed_url", "audio_url")),
        ]
        ordering = ["artist", "title"]
        verbose_name = _("song")
        verbose_name_plural = _("songs")

    def __str__(self):
        return f"{self.title} - {self.artist}"

    @property
    def license_name(self) -> str:
        """The licence in words ("CC BY-NC-ND 3.0"), shown with the artist credit where the song plays."""
        return licence_name(self.license_url)

    def save(self, *args, **kwargs):
        self.normalised_key = normalise_key(self.title, self.artist)
        super().save(*args, **kwargs)


class EmotionLabel(models.Model):
    """One emotion a song serves, from one source. Admin labels outrank model and catalogue ones."""

    class Source(models.TextChoices):
        CATALOGUE = "catalogue", _("catalogue")
        MODEL = "model", _("model")
        ADMIN = "admin", _("admin")

    # Higher wins: a song's effective labels are those of its highest-ranked source.
    PRIORITY = {Source.CATALOGUE: 0, Source.MODEL: 1, Source.ADMIN: 2}

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="labels")
    emotion = models.CharField(_("emotion"), max_length=16, choices=EMOTION_CHOICES)
    source = models.CharField(_("label source"), max_length=16, choices=Source.choices)
    confidence = models.FloatField(_("confidence"), default=1.0)
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    verbose_name=_("labelled by"))
    labelled_at = models.DateTimeField(_("labelled at"), auto_now=True)
    # Model labels: the classifier's probability for every emotion ({emotion: p}), the evidence the
    # review queue shows. Empty for catalogue and admin labels.
    probabilities = models.JSONField(_("classifier probabilities"), default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["song", "emotion", "source"], name="label_song_emotion_source_unique"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1),
                                   name="label_confidence_0_1"),
        ]
        indexes = [models.Index(fields=["emotion", "source"])]
        verbose_name = _("emotion label")
        verbose_name_plural = _("emotion labels")

    def __str__(self):
        return f"{self.song} -> {self.emotion} ({self.source}, {self.confidence:.2f})"


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


class CrawlRun(models.Model):
    """One run of one spider (see crawler/ and recommender/crawling.py).

    A row in status ``running`` is also the spider's lock: at most one may exist per spider (a
    partial unique constraint, on SQLite and PostgreSQL alike), and it holds only while its lease
    is renewed; a row whose lease has run out is marked abandoned by the next run.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")
        ABANDONED = "abandoned", _("abandoned")

    spider = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lock lease expires"), null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=64, blank=True)
    items_scraped = models.PositiveIntegerField(default=0)
    items_new = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_merged = models.PositiveIntegerField(_("items merged into another source's song"), default=0)
    items_dropped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    stats = models.JSONField(default=dict, blank=True)
    # Set when the site blocked the crawler: the spider's next scheduled runs are skipped until then.
    backoff_until = models.DateTimeField(_("back off until"), null=True, blank=True)
    # Where a cut-short run stopped (the spider's own resume point); the next run carries on from it.
    progress = models.JSONField(_("resume point"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["spider"], condition=models.Q(status="running"),
                                               name="crawlrun_one_running_per_spider")]
        indexes = [models.Index(fields=["spider", "-started_at"])]

    def __str__(self):
        return f"{self.spider} #{self.pk} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at and self.started_at else None

    @property
    def blocked_reason(self) -> str:
        """How the site blocked this run ("" when it did not)."""
        return str((self.stats or {}).get("mien/blocked") or "")


# Person-level settings and curation live in their own modules; Django finds models imported here.
from .models_profile import *  # noqa: E402,F401,F403
from .models_curation import *  # noqa: E402,F401,F403
