"""CPU time of the processes a load run involves, from /proc (Linux): user + system seconds.

A Tally snapshots the chosen processes when it starts and counts, at the end, what each spent since
(a process started meanwhile counts from zero), with what its reaped children spent: a gunicorn
worker recycled mid-run counts through its master. A PostgreSQL backend that ended before the end is
not counted (its parent, the postmaster, is not selected); backends live as long as their
connection (CONN_MAX_AGE), so that is a small undercount.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    """(pid, pgrp, comm, cmdline, cpu seconds) of every live process we may read."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        # utime + stime, and cutime + cstime: the children it has reaped (a recycled gunicorn worker's
        # CPU moves to the master when it ends), so a process that ended mid-run still counts.
        yield int(stat.parent.name), int(fields[2]), comm, cmdline, sum(map(int, fields[11:15])) / TICKS


def in_groups(groups: set[int]):
    """Processes of these process groups (each stack process is started in a session of its own)."""
    return lambda pid, pgrp, comm, cmdline: pgrp in groups


def postgres_backends(database: str):
    """PostgreSQL's backends serving this database ("postgres: ... <user> <database> <address> ...")."""
    return lambda pid, pgrp, comm, cmdline: comm == "postgres" and f" {database} " in cmdline


def named(comm_name: str):
    return lambda pid, pgrp, comm, cmdline: comm == comm_name


class Tally:
    def __init__(self, selectors: dict):
        self.selectors = selectors
        self.start = self._read()

    def _read(self) -> dict[str, dict[int, float]]:
        seen: dict[str, dict[int, float]] = {name: {} for name in self.selectors}
        for pid, pgrp, comm, cmdline, cpu in _processes():
            for name, chosen in self.selectors.items():
                if chosen(pid, pgrp, comm, cmdline):
                    seen[name][pid] = cpu
        return seen

    def seconds(self) -> dict[str, float]:
        """CPU seconds each selection spent since the tally started."""
        now = self._read()
        return {name: sum(cpu - self.start[name].get(pid, 0.0) for pid, cpu in pids.items())
                for name, pids in now.items()}
