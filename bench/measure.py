"""Run a command as a child process and measure its wall time, CPU time and peak memory."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

log = logging.getLogger("bench")

# GNU time (Debian package `time`), which reports the child's CPU time and peak RSS.
TIME = "/usr/bin/time"

# Interval of the psutil sampler that sums the RSS of a process and its children.
SAMPLE_SECONDS = 0.05


@dataclasses.dataclass
class Measured:
    """Result of one measured command."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    # User + system CPU of the process and every child it waited for, from GNU time.
    cpu_seconds: float
    # Kernel high-water mark of the largest single process in the tree, from GNU time.
    max_rss_mib: float
    # Largest sum of the RSS of `time`, the process and its live children, sampled every
    # SAMPLE_SECONDS. Shared pages of forked workers are counted once per process.
    sampled_tree_rss_mib: float
    load_average: tuple[float, float, float]

    def json(self) -> dict:
        """Parse stdout as JSON."""
        return json.loads(self.stdout)


class CommandError(RuntimeError):
    """A measured command exited with a non-zero status."""


def _sample_tree_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        total = 0
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                pass
        peak[0] = max(peak[0], total)
        stop.wait(SAMPLE_SECONDS)


def _parse_time_report(text: str) -> dict[str, float]:
    """Read the fields of a GNU `time -v` report that the benchmark uses."""
    fields = {
        "User time (seconds)": "user",
        "System time (seconds)": "system",
        "Maximum resident set size (kbytes)": "max_rss_kib",
    }
    values = {}
    for line in text.splitlines():
        label, _, value = line.strip().rpartition(": ")
        if label in fields:
            values[fields[label]] = float(value)
    missing = set(fields.values()) - set(values)
    if missing:
        raise ValueError(f"{TIME} wrote no {', '.join(sorted(missing))}; its report was:\n{text}")
    return values


def run_measured(argv: list[str], *, check: bool = True, env: dict | None = None, cwd: Path | None = None) -> Measured:
    """Run `argv` under GNU time and return its output and resource use.

    GNU time, not wait4 from this process, because Linux carries a process's peak RSS across
    exec: a child forked from this Python process would start at this process's RSS.
    Raise CommandError when the command exits non-zero and `check` is true.
    """
    log.debug("running %s", " ".join(map(str, argv)))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as report:
        started = time.perf_counter()
        process = subprocess.Popen(
            [TIME, "-v", "-o", report.name, *[str(arg) for arg in argv]], stdout=out, stderr=err, env=env, cwd=cwd
        )
        stop = threading.Event()
        peak = [0]
        sampler = threading.Thread(target=_sample_tree_rss, args=(process.pid, stop, peak), daemon=True)
        sampler.start()
        process.wait()
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
        usage = _parse_time_report(Path(report.name).read_text(encoding="utf-8"))

    measured = Measured(
        argv=[str(arg) for arg in argv],
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=wall,
        cpu_seconds=usage["user"] + usage["system"],
        max_rss_mib=usage["max_rss_kib"] / 1024,
        sampled_tree_rss_mib=peak[0] / (1024 * 1024),
        load_average=os.getloadavg(),
    )
    if check and measured.returncode != 0:
        raise CommandError(
            f"command failed with exit status {measured.returncode}: {' '.join(measured.argv)}\n"
            f"stderr (last 2000 characters):\n{measured.stderr[-2000:]}"
        )
    return measured
