"""What the numbers were measured on: cores, Python, the versions of the libraries doing the work."""

from __future__ import annotations

import datetime as dt
import os
import platform
from importlib import metadata

PACKAGES = ("procsearch", "whoosh-reloaded", "lxml", "beautifulsoup4", "click")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
