"""The library's version number in the shared cache: bumped on every write, so each process knows
when its cached library index is stale. At the bottom of the app (no project imports): the write
seam, labelling, curation and signals all bump it."""

from django.core.cache import cache

LIBRARY_VERSION_KEY = "mien:library-version"


def bump_library_version() -> None:
    """Tell every process that its cached tag matrix is stale."""
    try:
        cache.incr(LIBRARY_VERSION_KEY)
    except ValueError:
        cache.set(LIBRARY_VERSION_KEY, 1, timeout=None)


def library_version() -> int:
    return cache.get(LIBRARY_VERSION_KEY) or 0
