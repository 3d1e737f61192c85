"""The song library: tags, songs and their emotion labels (the one label priority rule)."""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.validators import URLValidator, validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..attribution import licence_name
from ..emotion.labels import EMOTIONS

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

# Labels below this confidence wait for a curator (the review queue; lyrics are kept for them).
REVIEW_THRESHOLD = settings.MIEN_REVIEW_THRESHOLD

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
        return self.display_name_of(self.name, self.name_en, self.name_zh)

    @staticmethod
    def display_name_of(name: str, name_en: str, name_zh: str) -> str:
        """The name a reader sees in the active language (for rows read without the model)."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("zh") and name_zh:
            return name_zh
        return name_en or name


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

    # THE label priority rule, the only place it is written: higher wins, a song's effective labels
    # are those of its highest-ranked source. Everything else asks effective() / BY_PRIORITY.
    PRIORITY = {Source.CATALOGUE: 0, Source.MODEL: 1, Source.ADMIN: 2}
    BY_PRIORITY = tuple(sorted(PRIORITY, key=PRIORITY.get, reverse=True))  # admin, model, catalogue

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

    @classmethod
    def effective(cls, labels: Iterable) -> tuple[str, dict[str, float]]:
        """(source, {emotion: confidence}) of the highest-priority source among ``labels`` (label rows
        or (emotion, source, confidence) tuples); ("", {}) when there are none."""
        by_source: dict[str, dict[str, float]] = defaultdict(dict)
        for label in labels:
            emotion, source, confidence = ((label.emotion, label.source, label.confidence)
                                           if isinstance(label, cls) else label)
            by_source[source][emotion] = confidence
        if not by_source:
            return "", {}
        source = max(by_source, key=lambda s: cls.PRIORITY[s])
        return source, dict(sorted(by_source[source].items()))

    @classmethod
    def effective_by_song(cls, rows: Iterable[tuple]) -> dict[int, tuple[str, dict[str, float]]]:
        """{song_id: effective(...)} for (song_id, emotion, source, confidence) rows."""
        grouped = defaultdict(list)
        for song_id, emotion, source, confidence in rows:
            grouped[song_id].append((emotion, source, confidence))
        return {song_id: cls.effective(labels) for song_id, labels in grouped.items()}

    @classmethod
    def effective_source_q(cls, source: str) -> models.Q:
        """Songs whose effective labels come from ``source``: they have one and none of a higher source."""
        q = models.Q(models.Exists(cls.objects.filter(song=models.OuterRef("pk"), source=source)))
        for other in cls.BY_PRIORITY[:cls.BY_PRIORITY.index(source)]:
            q &= ~models.Q(models.Exists(cls.objects.filter(song=models.OuterRef("pk"), source=other)))
        return q


def is_confidence(value, *, allow_zero: bool = True) -> bool:
    """THE confidence rule, the only place it is written: a number in [0, 1], as the database
    constraint says. ``allow_zero=False`` for labels an item brings: confidence 0 says nothing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (value >= 0 if allow_zero else value > 0) and value <= 1


def confidence_error(emotion: str, confidence, *, allow_zero: bool = True) -> str | None:
    """Why (emotion, confidence) cannot be a label, or None."""
    if emotion not in EMOTIONS:
        return f"unknown emotion {emotion!r}"
    if not is_confidence(confidence, allow_zero=allow_zero):
        return f"confidence for {emotion} must be in {'[' if allow_zero else '('}0, 1]"
    return None
