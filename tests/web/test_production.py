"""The production start (`make serve`: collectstatic, migrate, gunicorn, DEBUG off) boots and serves
every page; a worker's memory stays bounded under oversized bodies (issue #16, probes 1 and 5)."""

import re
import subprocess
import sys

import pytest
import requests
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from tests.web import serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def production_env(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("boots the production web process on PostgreSQL")
    return serving.clean_env(DATABASE_URL=serving.database_url(connection.settings_dict),
                             STATIC_ROOT=str(tmp_path / "static"))


def test_the_deploy_check_catches_a_missing_static_manifest(production_env, tmp_path):
    env = {**production_env, "STATIC_ROOT": str(tmp_path / "never-collected"), "DJANGO_SETTINGS_MODULE": "webapp.settings"}
    check = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=serving.ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert check.returncode != 0 and "webapp.E001" in check.stderr + check.stdout


def test_make_serve_boots_with_debug_off_and_serves_every_page(production_env, tmp_path, django_user_model):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    boss = django_user_model.objects.create_superuser("boss")
    # Hashed as production hashes (the tests' own settings use a fast hasher production does not know).
    boss.password = PBKDF2PasswordHasher().encode("a-long-admin-password", PBKDF2PasswordHasher().salt())
    boss.save()
    port = serving.free_port()
    base = f"http://127.0.0.1:{port}"
    # -o: the shared virtualenv is already installed; do not let make reinstall it here.
    process = serving.start(["make", "-o", ".venv/.runtime", "serve", "HOST=127.0.0.1", f"PORT={port}"],
                            production_env, tmp_path / "serve.log")
    try:
        serving.wait_until_up(process, base, seconds=400)
        browser = requests.Session()
        anonymous = ["/", "/accounts/login/", "/accounts/signup/", "/admin/login/"]
        for path in anonymous:
            assert_page(browser.get(base + path, timeout=30), path)
        home = browser.get(base + "/", timeout=30)
        assert "camera=(self)" in home.headers["Permissions-Policy"]
        assert "script-src 'self'" in home.headers["Content-Security-Policy"]
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', home.text)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
        for asset in assets:  # hashed names from the manifest, served by WhiteNoise
            assert re.search(r"\.[0-9a-f]{12}\.(js|css|png|svg|ico)$", asset), asset
            assert browser.get(base + asset, timeout=30).status_code == 200, asset

        token = browser.cookies["csrftoken"]
        signed_in = browser.post(base + "/accounts/login/", timeout=30, allow_redirects=False, data={
            "username": "boss", "password": "a-long-admin-password", "csrfmiddlewaretoken": token})
        assert signed_in.status_code == 302, signed_in.text[:500]
        pages = ["/", "/me/music/", "/accounts/delete/", "/admin/", "/admin/recommender/song/import-excel/",
                 *(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                   for model in admin.site._registry)]
        for path in pages:
            assert_page(browser.get(base + path, timeout=60), path)
        assert browser.get(base + "/api/no-such-thing", timeout=30).json()["error"]
    finally:
        serving.stop(process)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Booting worker" in log and "Traceback" not in log, log[-3000:]


def assert_page(response, path):
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert "text/html" in response.headers["Content-Type"], path
    assert "Content-Security-Policy" in response.headers, path


# --------------------------------------------------------------------------- memory under big bodies

# The probe: 100 parts of 7 MB (each under the 8 MB cap) grew a fresh worker by 450-700 MB.
PROBES = {
    "100 parts of 7 MB to the snapshot API": lambda port: serving.many_parts_request("/api/recognitions", 100, 7 << 20),
    "100 parts of 7 MB to the log-in form": lambda port: serving.many_parts_request("/accounts/login/", 100, 7 << 20),
    "200 MB chunked to the snapshot API": lambda port: serving.chunked_request("/api/recognitions", 200 << 20),
    "2 parts of 3 MB, under the size cap": lambda port: serving.many_parts_request("/api/recognitions", 2, 3 << 20),
}
EXPECTED = {"100 parts of 7 MB to the snapshot API": b" 413 ", "100 parts of 7 MB to the log-in form": b" 413 ",
            "200 MB chunked to the snapshot API": b" 411 ", "2 parts of 3 MB, under the size cap": b" 400 "}
MAX_GROWTH_MB = 48


def test_a_worker_s_peak_memory_stays_bounded_under_oversized_bodies(production_env, tmp_path):
    port = serving.free_port()
    process = serving.start([sys.executable, "-m", "gunicorn", "webapp.wsgi:application", "--workers", "1",
                             "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
                            {**production_env, "STATIC_ROOT": str(tmp_path)}, tmp_path / "gunicorn.log")
    try:
        serving.wait_until_up(process, f"http://127.0.0.1:{port}")
        worker = serving.gunicorn_worker(process.pid)
        # Warm the worker (imports, first request) so that only the probes' own cost is measured.
        for _ in range(3):
            requests.post(f"http://127.0.0.1:{port}/api/favourites", data="{}", timeout=30)
        before = serving.peak_rss_mb(worker)
        growth = {}
        for name, probe in PROBES.items():
            head, chunks = probe(port)
            answer = serving.send_raw(port, head, chunks)
            assert EXPECTED[name] in answer.split(b"\r\n", 1)[0], (name, answer[:300])
            assert serving.gunicorn_worker(process.pid) == worker, "the worker was replaced"
            growth[name] = round(serving.peak_rss_mb(worker) - before, 1)
        print("peak RSS growth (MiB) over", round(before, 1), "MiB:", growth)
        assert max(growth.values()) < MAX_GROWTH_MB, growth
    finally:
        serving.stop(process)
