"""Test settings: the production settings module with the test environment's defaults."""

import os
import tempfile

# Long and varied enough for the settings' strength check (DEBUG is off in tests, as in production).
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-" + "0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# The test servers speak plain HTTP.
for name in ("MIEN_SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
    os.environ.setdefault(name, "0")

from webapp.settings import *  # noqa: E402,F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast sign-ups in tests

if not REDIS_URL:  # noqa: F405
    # One cache folder per test run, shared with the processes the run starts: runs side by side, or
    # left-overs of an earlier run, never share rate-limit counters or the cached library index.
    os.environ.setdefault("MIEN_TEST_CACHE_DIR", tempfile.mkdtemp(prefix="mien-test-cache-"))
    CACHES["default"]["LOCATION"] = os.environ["MIEN_TEST_CACHE_DIR"]  # noqa: F405
