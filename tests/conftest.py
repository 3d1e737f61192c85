"""Shared fixtures: real photos, the bundled catalogue, people."""

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings
from PIL import Image

REQUIRE_SERVICES = os.environ.get("MIEN_REQUIRE_SERVICES") == "1"

# Hypothesis probes. "ci" (the default, `make test`): a fixed, derandomised set of examples, so that a
# red run is the same red run again and its cost is known; "thorough" (MIEN_HYPOTHESIS=thorough): the
# full counts with fresh random examples, for a deeper search before a release or after a parser change.
# The strategies are the same in both; only the number of examples drawn from them differs.
HYPOTHESIS_PROFILE = os.environ.get("MIEN_HYPOTHESIS", "ci")
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                                     suppress_health_check=[HealthCheck.function_scoped_fixture])
hypothesis_settings.register_profile("thorough", deadline=None, print_blob=True,
                                     suppress_health_check=[HealthCheck.function_scoped_fixture])
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def hypothesis_examples(thorough: int) -> int:
    """A probe's example count: `thorough` in the thorough profile, a quarter of it (never under 25) in CI."""
    return thorough if HYPOTHESIS_PROFILE == "thorough" else max(25, thorough // 4)


def jpeg_bytes(array: np.ndarray, quality: int = 90, **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality, **save_kwargs)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def face_photo() -> bytes:
    """A real face: scikit-image's public-domain portrait of astronaut Eileen Collins."""
    from skimage import data

    return jpeg_bytes(data.astronaut())


@pytest.fixture(scope="session")
def no_face_photo() -> bytes:
    """A real photo without a face: scikit-image's cup of coffee."""
    from skimage import data

    return jpeg_bytes(data.coffee())


@pytest.fixture
def catalogue(db):
    """The bundled song catalogue, loaded through the real import command."""
    from django.core.management import call_command

    from recommender.models import Song

    if not Song.objects.exists():
        call_command("import_catalogue", stdout=io.StringIO())
    return Song.objects.count()


@pytest.fixture
def few_songs(db):
    """Five songs made on the spot, for tests about people's data rather than recommendations."""
    from recommender.models import Song

    return [Song.objects.create(source="manual", external_id=f"few-{i}", title=f"Song {i}", artist="Tester",
                                url=f"https://example.org/song/{i}") for i in range(5)]


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="a-long-test-password")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", password="a-long-test-password")


def skip_or_fail(reason: str):
    """Missing services fail the suite under `make test` and skip elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fresh_library_index():
    """Each test starts with no cached library index (rolled-back rows must not linger in it)."""
    yield
    from django.core.cache import cache

    import recommender.song_index as song_index

    song_index._index = None
    cache.clear()
