"""What the benchmarks print about the machine they ran on (the ratios depend on it)."""
from __future__ import annotations

import os


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def describe() -> str:
    """'N cores, load average L' (the load other processes put on them, when the OS says)."""
    try:
        load = f", load average {os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        load = ""
    return f"{cores()} cores{load}"
