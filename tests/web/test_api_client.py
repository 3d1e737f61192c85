"""The README's API examples, run as written against a live server: the curl snap-and-poll and the
Python client (docs/examples/mien_client.py, which the README quotes whole)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "docs" / "examples" / "mien_client.py"
EMOTION_LABELS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")


def readme_block(language: str, containing: str) -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    return next(block for block in blocks if containing in block)


def test_the_readme_quotes_the_client_whole():
    assert readme_block("python", "import requests") == CLIENT.read_text(encoding="utf-8")


def test_the_python_client_and_the_curl_example_snap_and_poll(live_server, catalogue, face_photo, tmp_path):
    """One test for both: the catalogue is loaded once (a live server's tables are emptied after each test)."""
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(face_photo)
    done = subprocess.run([sys.executable, str(CLIENT), str(selfie), live_server.url],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split(" ", 1)[0] in EMOTION_LABELS, lines
    assert len(lines) == 6 and all(re.match(r"^[01]\.\d\d  .+ - .+  https://", line) for line in lines[1:]), lines

    if not shutil.which("curl"):
        skip_or_fail("curl is not installed")
    script = readme_block("sh", "api/recognitions").replace("http://127.0.0.1:8000", live_server.url)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert '"status": "done"' in done.stdout and '"songs": [' in done.stdout, done.stdout
