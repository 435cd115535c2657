"""One-off, for merging branches made before the re-cut (issue 35); delete it once they are merged.

Rewrites imports of modules that moved, and of names that moved from one module to another, in the
given files (default: every tracked .py file):

    .venv/bin/python scripts/recut_imports.py [FILE ...]
    .venv/bin/ruff check --select I --fix provider_helper tests bench     # then sort the imports

``from X import a, b`` whose names now live in different modules becomes one import per module.
Dotted module names in strings (``monkeypatch.setattr("provider_helper.registry.retry.…")``) and
file paths (``mutation/mutations.yaml``) are rewritten by MODULES too. Attribute uses of a moved name
through its old module (``layout.Layout`` after ``from provider_helper.mirror import layout``) are not:
mypy names each one.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

MODULES = {
    "provider_helper.refs": "provider_helper.oci.reference",
    "provider_helper.registry.oci": "provider_helper.oci.manifest",
    "provider_helper.content.digests": "provider_helper.oci.digests",
    "provider_helper.registry.retry": "provider_helper.retry",
    "provider_helper.registry.client": "provider_helper.content.registry",
    "provider_helper.registry.pool": "provider_helper.content.pool",
}
# (module after MODULES, name) -> (new module, new name)
NAMES = {
    # the second cut (split stores): names that left a module over 300 lines
    **{
        ("provider_helper.manifest", n): ("provider_helper.artifacts", n)
        for n in ("Artifact", "Group", "ResourceRef", "ArtifactType")
    },
    **{
        ("provider_helper.manifest", n): ("provider_helper.selection", n) for n in ("ArtifactManifest", "check_targets")
    },
    ("provider_helper.mirror.layout", "write_lock"): ("provider_helper.mirror.bundle_lock", "write_lock"),
    **{
        ("provider_helper.mirror.layout", n): ("provider_helper.mirror.saving", n)
        for n in ("layout_for_saving", "writer_lock", "staging_for", "WRITER_LOCK", "STAGING_MARK")
    },
    ("provider_helper.mirror.layout", "pack"): ("provider_helper.mirror.packing", "pack"),
    **{
        ("provider_helper.archives", n): ("provider_helper.archive_members", n)
        for n in ("ExtractLimits", "DEFAULT_LIMITS", "ArchiveError", "checked_members", "GiB", "MAX_DEPTH")
    },
    **{
        ("provider_helper.registry.auth", n): ("provider_helper.registry.challenge", n)
        for n in ("Challenge", "parse_challenge", "repository_scope", "scopes_for")
    },
    **{
        ("provider_helper.oci.manifest", n): ("provider_helper.oci.digests", n)
        for n in ("checked_digest", "hasher_for", "digest_of", "file_digest")
    },
    ("provider_helper.oci.manifest", "MAX_MANIFEST_BYTES"): ("provider_helper.oci.limits", "MAX_MANIFEST_BYTES"),
    ("provider_helper.mirror.resolve", "MAX_CONFIG_BYTES"): ("provider_helper.oci.limits", "MAX_CONFIG_BYTES"),
    **{
        ("provider_helper.mirror.layout", n): ("provider_helper.content.layout", n)
        for n in ("Layout", "blob_file", "read_manifest", "check_layout_blob", "REF_NAME")
    },
    ("provider_helper.mirror.layout", "_read_index"): ("provider_helper.content.layout", "read_index"),
    ("provider_helper.mirror.layout", "_read_json"): ("provider_helper.content.layout", "read_json_object"),
    **{
        ("provider_helper.mirror.ngc", n): ("provider_helper.content.ngc", n)
        for n in (
            "ResourceVersion",
            "resource_artifact",
            "SOURCE",
            "ARTIFACT_TYPE",
            "EMPTY_CONFIG",
            "EMPTY_CONFIG_TYPE",
            "FILE_LAYER",
            "TITLE",
        )
    },
    **{
        ("provider_helper.cli.root", f"EXIT_{n}"): ("provider_helper.exits", "ExitCode")
        for n in ("FAILED", "INPUT", "INTERRUPTED")
    },
}
USES = {"EXIT_FAILED": "ExitCode.FAILED", "EXIT_INPUT": "ExitCode.INPUT", "EXIT_INTERRUPTED": "ExitCode.INTERRUPTED"}


def rewrite_modules(text: str) -> str:
    for old, new in MODULES.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
        text = text.replace(old.replace(".", "/") + ".py", new.replace(".", "/") + ".py")
    return text


def rewrite_names(text: str) -> str:
    lines = text.splitlines(keepends=True)
    for node in sorted(ast.parse(text).body, key=lambda n: -n.lineno):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.end_lineno):
            continue
        if not any((node.module, a.name) in NAMES for a in node.names):
            continue
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            module, name = NAMES.get((node.module, alias.name), (node.module, alias.name))
            shown = f"{name} as {alias.asname}" if alias.asname else name
            if shown not in groups.setdefault(module, []):
                groups[module].append(shown)
        indent = lines[node.lineno - 1][: node.col_offset]
        lines[node.lineno - 1 : node.end_lineno] = [
            f"{indent}from {module} import {', '.join(names)}\n" for module, names in groups.items()
        ]
    text = "".join(lines)
    for old, use in USES.items():
        text = re.sub(rf"\b{old}\b", use, text)
    return text


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or [
        Path(f)
        for f in subprocess.run(
            ["git", "ls-files", "*.py", "*.yaml", "*.md"], capture_output=True, text=True, check=True
        ).stdout.split()
    ]
    for path in files:
        if path.name == "recut_imports.py" or path.as_posix() == "mutation/results.md":
            continue
        text = path.read_text()
        new = rewrite_modules(text)
        if path.suffix == ".py":
            new = rewrite_names(new)
        if new != text:
            path.write_text(new)
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
