"""`python manage.py ...` and `scrapy ...` typed in a fresh checkout run with development settings;
anything configured, and the web server always, keeps the production refusal."""

import subprocess
import sys
from pathlib import Path

import pytest

from webapp.environment import use_development_defaults

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = "SECRET_KEY must be set when DEBUG is off"


def run(args, **env):
    """A command in an environment as bare as a new shell's, plus ``env``."""
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    return subprocess.run(args, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("environment, applied", [
    ({}, True),
    ({"DJANGO_SETTINGS_MODULE": "webapp.settings"}, True),
    ({"DEBUG": "0"}, False),
    ({"SECRET_KEY": "x" * 60}, False),
    ({"DATABASE_URL": "postgres://db/mien"}, False),
    ({"REDIS_URL": "redis://cache:6379/0"}, False),
    ({"ALLOWED_HOSTS": "mien.example.org"}, False),
    ({"DJANGO_SETTINGS_MODULE": "tests.settings"}, False),
])
def test_only_an_unconfigured_environment_gets_debug(environment, applied):
    import io

    environ, note = dict(environment), io.StringIO()
    assert use_development_defaults(environ, stderr=note) is applied
    assert environ.get("DEBUG") == ("1" if applied else environment.get("DEBUG"))
    assert ("development settings" in note.getvalue()) is applied


def test_manage_py_works_as_typed_in_a_fresh_checkout():
    done = run([sys.executable, "manage.py", "check"])
    assert done.returncode == 0, done.stderr
    assert "development settings (DEBUG=1" in done.stderr


def test_a_configured_manage_py_still_refuses_to_run_without_a_secret_key():
    done = run([sys.executable, "manage.py", "check"], DATABASE_URL="sqlite:////tmp/mien-never-created.sqlite3")
    assert done.returncode != 0 and REFUSAL in done.stderr


def test_the_web_server_never_assumes_development():
    done = run([sys.executable, "-c", "import webapp.wsgi"])
    assert done.returncode != 0 and REFUSAL in done.stderr


def test_scrapy_works_as_typed_in_a_fresh_checkout():
    done = run([sys.executable, "-m", "scrapy", "list"])
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) >= {"netease", "jamendo", "lyrics"}
