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
    # User + system CPU of the process and every child it waited for (wait4 rusage).
    cpu_seconds: float
    # Kernel high-water mark of the largest single process in the tree, from wait4 (ru_maxrss).
    max_rss_mib: float
    # Largest sum of the RSS of the process and its live children, sampled every SAMPLE_SECONDS.
    # Shared pages of forked workers are counted once per process.
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


def run_measured(argv: list[str], *, check: bool = True, env: dict | None = None, cwd: Path | None = None) -> Measured:
    """Run `argv`, wait for it with wait4 and return its output and resource use.

    Raise CommandError when it exits non-zero and `check` is true.
    """
    log.debug("running %s", " ".join(map(str, argv)))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([str(arg) for arg in argv], stdout=out, stderr=err, env=env, cwd=cwd)
        stop = threading.Event()
        peak = [0]
        sampler = threading.Thread(target=_sample_tree_rss, args=(process.pid, stop, peak), daemon=True)
        sampler.start()
        # wait4 instead of Popen.wait, because only wait4 returns the child's rusage.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")

    measured = Measured(
        argv=[str(arg) for arg in argv],
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        # Linux reports ru_maxrss in KiB.
        max_rss_mib=usage.ru_maxrss / 1024,
        sampled_tree_rss_mib=peak[0] / (1024 * 1024),
        load_average=os.getloadavg(),
    )
    if check and measured.returncode != 0:
        raise CommandError(
            f"command failed with exit status {measured.returncode}: {' '.join(measured.argv)}\n"
            f"stderr (last 2000 characters):\n{measured.stderr[-2000:]}"
        )
    return measured
