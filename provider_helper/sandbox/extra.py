"""The packages only the local sandbox needs (the ``demo`` extra), imported when it starts, so a plain
``pip install .`` ships a package every module of which imports."""

from __future__ import annotations

import importlib
from types import ModuleType

from provider_helper.errors import InputError

INSTALL = "pip install '.[demo]' in the nvcf-mirror repository (or run ./scripts/demo.sh, which installs it)"


def require(module: str) -> ModuleType:
    """``module``, or one line saying how to install what the sandbox needs."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"the local sandbox needs the Python package {module!r}: {INSTALL}") from None
