"""The layering the README's module map describes, checked on the source: only the HTTP layer speaks
HTTP, the content API's callers act on error kinds, and each rule every fetch must follow is written
once (the digest-verifying reader, the token cache, the listing bounds)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provider_helper"
# The HTTP layer: client construction and answer reading, retries, the origin policy, the registry's auth,
# the registry store (the content API over HTTP), the NGC API client, the web fetch of Helm repositories.
# The sandbox holds the demo's stand-in servers.
HTTP_LAYER = {"http.py", "retry.py", "origin.py", "fetch.py", "ngc_api.py", "registry", "content/registry.py"}


def _modules(*parts: str) -> list[Path]:
    return sorted(path for path in (PACKAGE.joinpath(*parts)).rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _within(name: str, places: set[str]) -> bool:
    """Whether the module ``name`` (``content/registry.py``) is one of ``places`` or in one of its packages."""
    return name in places or name.split("/")[0] in places


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_http_layer_imports_httpx() -> None:
    speaking = {_relative(path) for path in _modules() if "httpx" in _imports(ast.parse(path.read_text()))}
    outside = {name for name in speaking if not _within(name, HTTP_LAYER | {"sandbox"})}
    assert not outside, f"modules outside the HTTP layer that import httpx: {sorted(outside)}"
    assert "mirror/helm.py" not in speaking and "doctor.py" not in speaking


def test_the_content_apis_callers_act_on_error_kinds_not_http_statuses() -> None:
    """Under mirror/ and content/, no HTTP status number is compared and no caught error's status or
    registry error code is looked at: stores answer with kinds (errors.NotFoundError, DeniedError, …).
The registry store (content/registry.py) is where HTTP answers become those kinds."""
    problems = []
    for path in _modules("mirror") + _modules("content"):
        if _within(_relative(path), HTTP_LAYER):
            continue
        tree = ast.parse(path.read_text())
        caught = {handler.name for handler in ast.walk(tree) if isinstance(handler, ast.ExceptHandler) and handler.name}
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                numbers = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and type(n.value) is int]
                problems += [f"{_relative(path)}:{node.lineno}: compares {n}" for n in numbers if 100 <= n <= 599]
            if isinstance(node, ast.Attribute) and node.attr in ("status_code", "code", "status") and \
                    isinstance(node.value, ast.Name) and (node.value.id in caught or node.attr == "status_code"):
                problems.append(f"{_relative(path)}:{node.lineno}: reads {node.value.id}.{node.attr}")
    assert not problems, problems


def _calls(name: str) -> set[str]:
    """Modules that call ``name`` (a function or a constant's use), outside its definition."""
    users = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                users.add(_relative(path))
    return users


def test_one_digest_verifying_reader_one_token_cache_one_paging_helper() -> None:
    assert _calls("hasher_for") <= {"oci/digests.py"}, "hash-and-compare loops belong in oci/digests.py"
    assert _calls("MAX_PAGES") <= {"http.py"} and _calls("MAX_LISTING_BYTES") <= {"http.py"}, "listings are bounded by http.pages alone"
    expiring = {_relative(path) for path in _modules() if "expires_at" in path.read_text()}
    assert expiring <= {"tokens.py"}, f"token lifetimes are kept by tokens.TokenCache alone: {sorted(expiring)}"
