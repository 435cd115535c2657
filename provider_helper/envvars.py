"""The ``NVCF_MIRROR_*`` settings that are numbers: read and checked in one place, so a bad value is
one line (exit 2) when a command starts, never a traceback or a failure in the middle of a run."""

from __future__ import annotations

import math
import os

from provider_helper.errors import InputError

DEFAULTS = {
    "NVCF_MIRROR_PROGRESS_INTERVAL": 10.0,  # seconds between progress lines off a terminal
    "NVCF_MIRROR_MIN_BLOB_RATE": 16 * 1024.0,  # bytes per second a blob stream must keep up (0: no minimum)
    "NVCF_MIRROR_BLOB_RATE_WINDOW": 60.0,  # seconds over which it is measured
}


def number(name: str) -> float:
    """The setting's value from the environment, or its default."""
    text = os.environ.get(name, "").strip()
    if not text:
        return DEFAULTS[name]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{name}={text!r}: expected a number, 0 or more")
    return value


def check() -> None:
    """Every numeric setting, checked before a command does anything."""
    for name in DEFAULTS:
        number(name)
