"""How much memory this process uses (resident set size)."""

from __future__ import annotations

import os
import resource

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current RSS of this process; the peak where the current value is unavailable."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        # ru_maxrss is in KiB on Linux: a peak, not the current value, but never zero.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
