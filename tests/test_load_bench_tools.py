"""The load benchmark's own tools: CPU per party from /proc, and its refusal to drop a database or
flush a Redis db that the app or the tests use."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bench import bench_load, load_cpu

BUSY = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux)")
def test_a_tally_counts_a_group_s_cpu_since_it_started_reaped_children_included():
    # Idle first (not counted: before the tally), then a child that is busy 0.3 s and ends (reaped by
    # the leader), then the leader busy 0.2 s itself, then idle until killed.
    code = ("import subprocess, sys, time\ntime.sleep(0.5)\n"
            f"subprocess.run([sys.executable, '-c', {BUSY.format(s=0.3)!r}])\n{BUSY.format(s=0.2)}time.sleep(60)\n")
    leader = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        time.sleep(0.1)
        tally = load_cpu.Tally({"group": load_cpu.in_groups({leader.pid}), "nobody": load_cpu.in_groups({-1})})
        deadline = time.monotonic() + 30
        while (spent := tally.seconds())["group"] < 0.5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert 0.45 <= spent["group"] < 2.0, spent  # both busy spells (the interpreters' start-up aside)
        assert spent["nobody"] == 0
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


def test_it_refuses_the_urls_of_the_app_or_the_tests(monkeypatch):
    monkeypatch.setattr(bench_load, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mien")
    monkeypatch.setattr(bench_load, "REDIS_URL", "redis://127.0.0.1:6379/9")
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mien")
    with pytest.raises(RuntimeError, match="MIEN_LOAD_DATABASE_URL"):
        bench_load.check_urls_are_its_own()
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/other")
    monkeypatch.setenv("MIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    with pytest.raises(RuntimeError):
        bench_load.check_urls_are_its_own()
    monkeypatch.setenv("MIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.delenv("REDIS_URL", raising=False)
    bench_load.check_urls_are_its_own()  # its own: no complaint
