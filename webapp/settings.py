"""Mien settings, all from the environment.

Defaults make `make run` work on a bare machine: SQLite in the project folder and Celery tasks
run in-process. Set DATABASE_URL and REDIS_URL to run on PostgreSQL with real Celery workers.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str, default: str) -> tuple[int, int]:
    """'20/m', '5/15m', '100/h' -> (requests, seconds); a bad value stops the start-up."""
    value = (os.environ.get(name) or default).strip().lower()
    match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*", value)
    if not match or int(match[1]) < 1 or match[2] == "0":
        raise ImproperlyConfigured(f"{name} must look like 20/m, 5/15m or 100/h, not {value!r}")
    return int(match[1]), int(match[2] or 1) * RATE_UNITS[match[3]]


def weak_secret_key(key: str) -> bool:
    """Django's own test (security.W009): at least 50 characters, 5 distinct, not generated for DEBUG."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
NEW_KEY_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off; make one with {NEW_KEY_HINT}")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"
elif not DEBUG and weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak (under 50 characters or under 5 distinct ones); make one with {NEW_KEY_HINT}")
# Old keys still accepted for signed data (sessions, password resets) while a new key rolls out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names (comma-separated) when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "recommender",
    "webapp.apps.WebappConfig",
]

MIDDLEWARE = [
    # First: refuse an oversized or chunked body before anything (CSRF, forms, uploads) reads it.
    "webapp.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Every error under /api/ is JSON {"error": ...}.
    "webapp.middleware.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's language, kept on their account, comes back at each log-in.
    "webapp.language.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # An unreachable Redis (broker or cache) answers 503 "busy", not 500.
    "webapp.middleware.ServiceBusyMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"

# Selfies stay in memory: only the memory upload handler, and a hard size cap checked in the view.
MIEN_MAX_UPLOAD_BYTES = env_int("MIEN_MAX_UPLOAD_MB", 8) * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["webapp.uploads.MemoryOnlyUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = MIEN_MAX_UPLOAD_BYTES
# The whole request, headers aside: checked on Content-Length before any body is read
# (webapp.middleware.RequestSizeLimitMiddleware). One photo plus the form's other fields.
MIEN_MAX_REQUEST_BYTES = MIEN_MAX_UPLOAD_BYTES + 256 * 1024
# Form fields other than files (log-in, admin forms), and JSON bodies of the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
MIEN_MAX_JSON_BYTES = 64 * 1024
# One file part per request: a snapshot is one photo, an Excel import one workbook.
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# Refused on the image header, before decoding: decompression bombs and absurdly large photos.
# The worker's decoder applies the same limit (recommender.emotion.MAX_PIXELS).
MIEN_MAX_PIXELS = 40_000_000
# Snapshots a person chose to keep are stored re-encoded at most this many pixels a side.
MIEN_KEPT_SNAPSHOT_SIDE = env_int("MIEN_KEPT_SNAPSHOT_SIDE", 1024)
MIEN_PLAYLIST_LENGTH = env_int("MIEN_PLAYLIST_LENGTH", 20)
# How playlists are ranked (recommender.scoring.METHODS): "blend" = tf-idf tags + co-occurrence in the
# catalogue's playlists and people's kept songs; "cosine" = the paper's tag cosine (docs/recommendation.md).
MIEN_RANKING = (os.environ.get("MIEN_RANKING") or "blend").strip()
if MIEN_RANKING not in ("cosine", "tfidf", "cooccurrence", "blend"):
    raise ImproperlyConfigured(f"MIEN_RANKING must be cosine, tfidf, cooccurrence or blend, not {MIEN_RANKING!r}")
# Off: lyrics are dropped once their features and label are stored, unless still needed (the review
# queue, curated training text: recommender.labelling.keep_lyrics). On: every song keeps them.
MIEN_STORE_LYRICS = env_bool("MIEN_STORE_LYRICS", False)
# A lyrics lookup that found nothing is tried again after this many days.
MIEN_LYRICS_RECHECK_DAYS = env_int("MIEN_LYRICS_RECHECK_DAYS", 90)
# The curators' review queue (recommender/review.py): songs whose best non-admin label is below the
# threshold, and songs people push back on: hidden by this many people, or listed in this many
# playlists people corrected (counted since a curator last decided on the song).
MIEN_REVIEW_THRESHOLD = env_float("MIEN_REVIEW_THRESHOLD", 0.6)
MIEN_REVIEW_MIN_HIDES = env_int("MIEN_REVIEW_MIN_HIDES", 3)
MIEN_REVIEW_MIN_CORRECTIONS = env_int("MIEN_REVIEW_MIN_CORRECTIONS", 3)

# Celery: with REDIS_URL, a real broker and workers; without it, tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("MIEN_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("MIEN_TASK_TIME_LIMIT", 90)
CELERY_TASK_IGNORE_RESULT = True
# Else Celery opens a PostgreSQL connection per task; kept as the web keeps its own (webapp.celery).
CELERY_DB_REUSE_MAX = env_int("MIEN_TASK_DB_REUSE_MAX", 1000)
# Fail fast when the broker is down: the web answers 503 "busy" within a second or two instead of
# hanging the request; workers keep retrying the connection for ever, at start-up too.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("MIEN_BROKER_CONNECT_TIMEOUT", 2)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": env_int("MIEN_BROKER_CONNECT_TIMEOUT", 2),
    # A message taken by a worker that vanished (host lost, main process killed) is handed out
    # again after this long; it must exceed the longest wait + run of an acks_late task.
    "visibility_timeout": env_int("MIEN_BROKER_VISIBILITY_TIMEOUT", 300),
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = env_int("MIEN_BROKER_CONNECT_TIMEOUT", 2)
# A recognition already running when the broker connection drops finishes and writes its outcome
# (the database, not the broker, holds it); cancelling it would lose the photo.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A recognition still pending after this long lost its message (a broker restart drops queued
# ones): the sweeper, every MIEN_SWEEP_EVERY_SECONDS, marks it failed and asks for a new photo.
MIEN_RECOGNITION_STALE_AFTER = env_int("MIEN_RECOGNITION_STALE_AFTER", 600)
# Anonymous recognitions (no account, owned through a session) are deleted after this many days,
# expired sessions at the same daily run (webapp.retention, beat task purge-expired-data).
MIEN_ANONYMOUS_RETENTION_DAYS = env_int("MIEN_ANONYMOUS_RETENTION_DAYS", 7)
# Periodic crawling: every spider in its own process, one run per spider at a time.
MIEN_CRAWL_SPIDERS = env_list("MIEN_CRAWL_SPIDERS", ["netease", "jamendo", "lyrics"])
MIEN_CRAWL_TIMEOUT = env_int("MIEN_CRAWL_TIMEOUT", 4 * 3600)
MIEN_CRAWL_LOCK_LEASE = env_int("MIEN_CRAWL_LOCK_LEASE", 300)
MIEN_CRAWL_TASK_TIME_LIMIT = env_int("MIEN_CRAWL_TASK_TIME_LIMIT", 12 * 3600)
CELERY_BEAT_SCHEDULE = {
    "crawl-music-sites": {
        "task": "recommender.tasks.crawl_all",
        "schedule": timedelta(hours=env_int("MIEN_CRAWL_EVERY_HOURS", 24)),
    },
    "purge-expired-data": {
        "task": "webapp.tasks.purge_expired_data",
        "schedule": timedelta(hours=env_int("MIEN_PURGE_EVERY_HOURS", 24)),
    },
    "sweep-stale-recognitions": {
        "task": "webapp.tasks.sweep_stale_recognitions",
        "schedule": timedelta(seconds=env_int("MIEN_SWEEP_EVERY_SECONDS", 60)),
    },
}
# Crawls and classifier retraining take hours: they get their own queue ("background", served by
# `make background-worker`) so selfies on the default queue ("celery", `make worker`) never wait.
CELERY_TASK_ROUTES = {"recommender.tasks.crawl_all": {"queue": "background"},
                      "recommender.tasks.retrain_song_classifier": {"queue": "background"}}
# Retraining the song classifier: the task's hard limit (a stuck run is then marked abandoned).
MIEN_RETRAIN_TIME_LIMIT = env_int("MIEN_RETRAIN_TIME_LIMIT", 3 * 3600)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache, so that the web server, a crawl and a command on one machine share the
    # library version (and so see each other's writes) without any service running.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": BASE_DIR / "var" / "cache"}}

# Abuse limits over sliding windows (webapp/ratelimit.py), whatever DEBUG says: snapshots per person (signed-in user or anonymous session)
# and per client IP; failed log-ins per user name + IP and per IP. 429 with Retry-After beyond them.
MIEN_SNAPSHOT_RATE = env_rate("MIEN_SNAPSHOT_RATE", "20/m")
MIEN_SNAPSHOT_IP_RATE = env_rate("MIEN_SNAPSHOT_IP_RATE", os.environ.get("MIEN_SNAPSHOT_RATE") or "20/m")
MIEN_LOGIN_RATE = env_rate("MIEN_LOGIN_RATE", "5/15m")
# The per-address budget is larger: it only slows spraying many user names; browsers where a person
# logged in before are exempt from it (webapp.ratelimit, device cookies).
MIEN_LOGIN_IP_RATE = env_rate("MIEN_LOGIN_IP_RATE", "100/15m")
# New accounts per address.
MIEN_SIGNUP_IP_RATE = env_rate("MIEN_SIGNUP_IP_RATE", "10/h")
# How many reverse proxies of ours stand in front (each appends to X-Forwarded-For); 0 trusts
# only REMOTE_ADDR, so a client cannot pick its own address for the limits above.
MIEN_TRUSTED_PROXIES = env_int("MIEN_TRUSTED_PROXIES", 0)

# Content-Security-Policy (django-csp): scripts and styles only from our own static files (the
# pages' JSON string tables are data blocks, not scripts); players embedded from https sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:", "https:"],
        "frame-src": ["https:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): the camera for our own pages only, nothing else.
PERMISSIONS_POLICY = {
    "camera": ["self"], "microphone": [], "geolocation": [], "payment": [], "usb": [],
    "display-capture": [], "interest-cohort": [],
}

if not DEBUG:
    # HTTPS only. Behind a TLS-terminating proxy that redirects http itself, MIEN_SECURE_SSL_REDIRECT=0
    # turns Django's redirect off (and the deploy check's W008 with it); a proxy that talks plain
    # http to Django must set X-Forwarded-Proto and MIEN_PROXY_SSL_HEADER=X-Forwarded-Proto, and strip
    # that header from clients, or Django cannot tell https requests apart.
    SECURE_SSL_REDIRECT = env_bool("MIEN_SECURE_SSL_REDIRECT", env_bool("SECURE_SSL_REDIRECT", True))
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    if proxy_header := os.environ.get("MIEN_PROXY_SSL_HEADER", "").strip():
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
