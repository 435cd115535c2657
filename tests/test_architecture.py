"""The layering the README's module map describes, checked on the source: the floors (each module
imports only its own floor and those below; the model package imports nothing of the project's but
the error kinds and the wording of settings; no two packages import each other, even through others),
only the HTTP layer speaks HTTP, the content API's callers act on error kinds, and each rule every
fetch must follow is written once (the digest-verifying reader, the token cache, the listing bounds)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provider_helper"
# The HTTP layer: client construction and answer reading, the origin and address policies, the registry client and its
# auth, the NGC API client, the web fetch of Helm repositories. The sandbox holds the demo's stand-in servers.
HTTP_LAYER = {
    "http.py",
    "retry.py",
    "origin.py",
    "transport.py",
    "fetch.py",
    "ngc_api.py",
    "ngc_session.py",
    "ngc_listing.py",
    "registry",
    "content/registry.py",
    "content/registry_blobs.py",
    "content/registry_connection.py",
}


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


# The floors, bottom first: a module (or every module of a package) and the floor it stands on. A new
# module gets a row here; the test below fails for one that has none.
FLOORS: list[tuple[str, set[str]]] = [
    (
        "model",
        {
            "oci",
            "errors.py",
            "wording.py",
            "manifest.py",
            "artifacts.py",
            "selection.py",
            "manifest_entries.py",
            "results.py",
            "values.py",
            "redact.py",
            "yamlload.py",
            "cachedir.py",
            "fsutil.py",
            "envvars.py",
            "threads.py",
            "quickexit.py",
            "splitarchive.py",
            "archives.py",
            "archive_members.py",
            "__init__.py",
        },
    ),
    (
        "transport",
        {
            "http.py",
            "retry.py",
            "origin.py",
            "tokens.py",
            "fetch.py",
            "ngc_api.py",
            "ngc_session.py",
            "ngc_listing.py",
            "registry",
            "aws",
            "targets.py",
            "sourcemap.py",
            "transport.py",
            "answer_clock.py",
            "pinned_backend.py",
        },
    ),
    ("stores", {"content"}),
    ("engine", {"mirror"}),
    (
        "use cases",
        {
            "session.py",
            "usecases",
            "doctor.py",
            "importers.py",
            "importers_nvcf.py",
            "importers_nvcf_rows.py",
            "progress.py",
        },
    ),
    ("front doors", {"cli", "terraform.py", "terraform_settings.py", "exits.py", "__main__.py", "sandbox"}),
]
# What the model package may import of the rest of the project: the vocabulary every floor shares.
# fsutil.py: the one way a local file is read (regular files only, never through a link), itself a leaf.
MODEL_PACKAGE, MODEL_MAY_IMPORT = "oci", {"errors.py", "wording.py", "fsutil.py"}


def _unit(name: str) -> str:
    """The package or top-level module a module belongs to: ``content`` for ``content/layout.py``."""
    return name.split("/")[0]


def _floor(name: str) -> int:
    return next(i for i, (_, units) in enumerate(FLOORS) if _unit(name) in units)


def _project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module path) of each import of the project's own modules, resolved to files."""
    return _resolved_imports(path)


@functools.cache
def _resolved_imports(path: Path) -> list[tuple[int, str]]:
    return list(_each_project_import(path))


def _each_project_import(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "provider_helper":
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.split(".")[0] == "provider_helper"]
        else:
            continue
        for dotted in names:
            parts = dotted.split(".")[1:]
            for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"), PACKAGE.joinpath(*parts, "__init__.py")):
                if parts and candidate.is_file():
                    yield node.lineno, _relative(candidate)
            if not parts:
                yield node.lineno, "__init__.py"


def test_every_module_stands_on_a_floor() -> None:
    units = {unit for _, floor_units in FLOORS for unit in floor_units}
    assert {_relative(path) for path in _modules() if _unit(_relative(path)) not in units} == set(), (
        "add them to FLOORS"
    )


@pytest.mark.parametrize("floor", [name for name, _ in FLOORS])
def test_nothing_imports_a_floor_above_its_own(floor: str) -> None:
    level = [name for name, _ in FLOORS].index(floor)
    upward = [
        f"{_relative(path)}:{line}: imports {target} ({FLOORS[_floor(target)][0]})"
        for path in _modules()
        if _floor(_relative(path)) == level
        for line, target in _project_imports(path)
        if _floor(target) > level
    ]
    assert upward == [], upward


def test_the_model_package_imports_nothing_of_the_projects_but_the_vocabulary() -> None:
    outside = [
        f"{_relative(path)}:{line}: imports {target}"
        for path in _modules(MODEL_PACKAGE)
        for line, target in _project_imports(path)
        if _unit(target) != MODEL_PACKAGE and target not in MODEL_MAY_IMPORT
    ]
    assert outside == [], outside


def test_no_two_packages_import_each_other_even_through_others() -> None:
    """Between packages and top-level modules (``registry/``, ``content/``, ``http.py``), the imports
    form no loop: each can be read, tested and moved with only what is below it."""
    edges: dict[str, set[str]] = {}
    for path in _modules():
        source = _unit(_relative(path))
        edges.setdefault(source, set()).update(_unit(t) for _, t in _project_imports(path) if _unit(t) != source)

    def reachable(start: str) -> set[str]:
        seen, todo = set(), list(edges.get(start, ()))
        while todo:
            unit = todo.pop()
            if unit not in seen:
                seen.add(unit)
                todo += edges.get(unit, ())
        return seen

    loops = sorted(unit for unit in edges if unit in reachable(unit))
    assert loops == [], f"packages in an import loop: {loops}"


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
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("status_code", "code", "status")
                and isinstance(node.value, ast.Name)
                and (node.value.id in caught or node.attr == "status_code")
            ):
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
    assert _calls("MAX_PAGES") <= {"http.py"} and _calls("MAX_LISTING_BYTES") <= {"http.py"}, (
        "listings are bounded by http.pages alone"
    )
    expiring = {_relative(path) for path in _modules() if "expires_at" in path.read_text()}
    assert expiring <= {"tokens.py"}, f"token lifetimes are kept by tokens.TokenCache alone: {sorted(expiring)}"


# Where the tool connects, writes files and reads local files from places another user may write to
# (issue 36). Each call of that kind is allowed in the modules named, for the reason given; a new one
# anywhere else fails here, so it goes through the transport's address check (transport.py), the
# private-file helpers or the bounded readers (fsutil.py).
_CONNECTS = {
    "HTTPTransport": {"transport.py"},
    "Client": {"http.py"},
    "create_connection": {"transport.py"},
    "getaddrinfo": {"transport.py"},
    "socket": set(),
    "urlopen": set(),
}
_WRITES_OR_READS = {
    "open": {
        "archives.py": (
            "a hard link's source, a file this extraction wrote; safe_extract's archive, downloaded by this run"
        ),
        "registry/oci.py": "file_digest of a resource file this run downloaded, checked a regular file first",
    },
    "write_text": {},
    "write_bytes": {},
    "touch": {},
    "read_text": {
        "manifest.py": "the user's manifest and the packaged schema",
        "registry/credentials.py": "the user's auth files",
        "aws/ecr.py": "the user's lifecycle policy file",
        "cli/manifest.py": "the file the user imports",
    },
    "read_bytes": {},
    "mkstemp": {"fsutil.py": "private_temp"},
    "mkdtemp": {},
    "TemporaryDirectory": {
        "mirror/layout.py": "the private folder a bundle is read into",
        "usecases/wiring.py": "the private scratch folder of NGC resources",
    },
    "symlink": {"archives.py": "a checked link of an archive, made last"},
    "connect": {
        "mirror/locations.py": "the blob-location database, in the private cache (cachedir.private_cache_file)"
    },
}
_OS_OPEN = {"fsutil.py", "archives.py", "cachedir.py", "mirror/saving.py"}  # O_EXCL|O_NOFOLLOW or O_NOFOLLOW, each


def test_connections_file_writes_and_local_reads_go_through_the_transport_and_the_private_file_helpers() -> None:
    problems = []
    for path in _modules():
        name = _relative(path)
        if name.startswith("sandbox/"):
            continue  # the demo's stand-in servers, not the tool
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if called in _CONNECTS and (
                owner in ("httpx", "socket", "urllib", "request") or called in ("create_connection", "getaddrinfo")
            ):
                if name not in _CONNECTS[called]:
                    problems.append(f"{name}:{node.lineno}: connects ({owner}.{called}) outside the transport")
            elif called == "open" and owner == "os":
                if name not in _OS_OPEN:
                    problems.append(f"{name}:{node.lineno}: os.open outside the private-file helpers")
            elif called == "open" and owner == "tarfile":
                if not any(k.arg == "fileobj" for k in node.keywords) and name != "archives.py":
                    problems.append(f"{name}:{node.lineno}: tarfile.open of a path, not of a file the helpers opened")
            elif called == "connect" and owner != "sqlite3":
                continue
            elif (
                called in _WRITES_OR_READS
                and (owner != "os" or called == "symlink")
                and name not in _WRITES_OR_READS[called]
            ):
                problems.append(
                    f"{name}:{node.lineno}: {called}() outside the private-file helpers and bounded readers"
                )
    assert not problems, problems


def test_every_client_sends_through_the_guarded_transport() -> None:
    """http.client is the only place an httpx client is built, and it always wraps the transport."""
    source = (PACKAGE / "http.py").read_text()
    assert source.count("httpx.Client(") == 1 and "transport=guarded" in source
