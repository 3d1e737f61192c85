"""Benchmark helpers: medians over repeats, machine description, results file."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def median_ms(fn, repeats: int = 30, warmup: int = 3) -> float:
    from recommender.emotion.predictor import median_ms as median_call_ms

    return median_call_ms(fn, repeats, warmup)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def run_child(code: str, env: dict | None = None, show_stderr: bool = False) -> object:
    """Run ``code`` in a fresh Python process (TF thread and allocator settings are fixed at
    start-up) from the project root; return the JSON it prints on its ``RESULT `` line. With
    show_stderr the child's stderr (a long benchmark's progress) goes to ours."""
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=None if show_stderr else subprocess.PIPE, text=True, check=True, env=env,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def fresh_database(url: str) -> None:
    """Drop and recreate the benchmark's own PostgreSQL database, point Django at it and migrate it."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
