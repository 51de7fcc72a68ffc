"""Run a command as a child process and measure its wall time, CPU seconds and peak RSS.

CPU comes from ``os.wait4`` (user + system of the child and every descendant it waited
for). Peak RSS is the larger of the highest high-water mark (``VmHWM``) of any process
in the child's tree and the highest sum of RSS over the tree, both sampled from
``/proc`` every 100 ms, so a crawler that forks worker processes is charged for all of
them at once. Linux only.

Not ``ru_maxrss``: Linux records the memory of the process that called ``exec`` in the
new program's ``ru_maxrss``, and that process is a copy of this one. Once this process
had loaded a 50,000-page site's manifest to verify a run, every later child "peaked" at
exactly this process's size (two different crawlers at 314,134,528 bytes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost."""

    returncode: int
    timed_out: bool
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss: int  # bytes

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (empty when ``pid`` is gone)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except FileNotFoundError:
            continue
        found.append(current)
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as file:
                    stack.extend(int(child) for child in file.read().split())
            except FileNotFoundError:
                pass
    return found


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants, summed."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/statm") as file:
                total += int(file.read().split()[1]) * _PAGE_SIZE
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def high_water(pid: int) -> int:
    """The most bytes ``pid`` has had resident (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by ``pid``, its live descendants and the children they reaped."""
    ticks = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / _CLOCK_TICKS


class _RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        # The first look comes after one interval: until the child has called exec, it
        # is a copy of this process, high-water mark included.
        while not self.done.wait(self.interval):
            members = process_tree(self.pid)
            highest = max((high_water(member) for member in members), default=0)
            self.peak = max(self.peak, tree_rss(self.pid), highest)


def run_measured(
    command: Sequence[str],
    *,
    log: Path,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Measurement:
    """Run ``command`` to completion (killing its process group after ``timeout``)."""
    timed_out = threading.Event()
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler = _RssSampler(process.pid)
        sampler.start()

        def kill() -> None:
            timed_out.set()
            _kill_group(process.pid)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            sampler.done.set()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    _kill_group(process.pid)  # helpers it left behind, if any
    sampler.join()
    return Measurement(
        returncode=process.returncode,
        timed_out=timed_out.is_set(),
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        peak_rss=sampler.peak,
    )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
