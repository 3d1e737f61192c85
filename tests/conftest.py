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


CATALOGUE_SNAPSHOT = "mien_test_catalogue"  # a schema of the test database; Django's flush never sees it


def recommender_tables():
    from django.apps import apps

    tables = []
    models = apps.get_app_config("recommender").get_models(include_auto_created=True)
    return list(dict.fromkeys(m._meta.db_table for m in models if not m._meta.proxy))  # proxies share a table


@pytest.fixture(scope="session")
def catalogue_snapshot(django_db_setup, django_db_blocker):
    """On PostgreSQL, the bundled catalogue imported once per run by the real command and kept as a copy
    of the rows it wrote, so that each test that needs it gets the same library without re-importing
    it (6-12 s a test on the shared machine). None where that cannot be done: each test imports then.
    """
    from django.core.management import call_command
    from django.db import connection

    with django_db_blocker.unblock():
        tables = recommender_tables()
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                yield None
                return
            counts = {}
            for table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                counts[table] = cursor.fetchone()[0]
            if any(counts.values()):  # a reused database: leave it alone
                yield None
                return
            call_command("import_catalogue", stdout=io.StringIO())
            cursor.execute(f'DROP SCHEMA IF EXISTS "{CATALOGUE_SNAPSHOT}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{CATALOGUE_SNAPSHOT}"')
            written = []
            for table in tables:
                cursor.execute(f'CREATE TABLE "{CATALOGUE_SNAPSHOT}"."{table}" AS SELECT * FROM "{table}"')
                cursor.execute(f'SELECT count(*) FROM "{CATALOGUE_SNAPSHOT}"."{table}"')
                if cursor.fetchone()[0]:
                    written.append(table)
            # Back to the empty library the other tests expect.
            cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in written) + " CASCADE")
        clear_library_index()
    yield written


def restore_catalogue(tables):
    """The imported rows back, ids included, in one transaction (foreign keys are checked at commit)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{CATALOGUE_SNAPSHOT}"."{table}"')
        models = apps.get_app_config("recommender").get_models(include_auto_created=True)
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(statement)


@pytest.fixture
def catalogue(db, catalogue_snapshot):
    """The bundled song catalogue, loaded through the real import command (once a run on PostgreSQL)."""
    from django.core.management import call_command

    from recommender.models import Song

    if not Song.objects.exists():
        if catalogue_snapshot:
            restore_catalogue(catalogue_snapshot)
        else:
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


def clear_library_index():
    from django.core.cache import cache

    import recommender.song_index as song_index

    song_index._index = None
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_library_index():
    """Each test starts with no cached library index (rolled-back rows must not linger in it)."""
    yield
    clear_library_index()
