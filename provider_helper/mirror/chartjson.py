"""The bytes ``helm push`` writes for a chart's config and manifest, reproduced from Chart.yaml.

Helm loads Chart.yaml into its metadata structs, cleans some strings (``Validate``), and writes them with
Go's ``encoding/json``: fields in the structs' order, empty optional fields left out, map keys sorted,
``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e``, ``\\u0026``, other text as raw UTF-8. Helm 3.17 and 4.1
write the same bytes (measured with both, see tests/test_real_clients.py).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

# Helm's chart Metadata, Maintainer and Dependency structs: (JSON name, omitted when empty) in field order.
METADATA_FIELDS = tuple(
    (name, True)
    for name in (
        "name",
        "home",
        "sources",
        "version",
        "description",
        "keywords",
        "maintainers",
        "icon",
        "apiVersion",
        "condition",
        "tags",
        "appVersion",
        "deprecated",
        "annotations",
        "kubeVersion",
        "dependencies",
        "type",
    )
)
MAINTAINER_FIELDS = (("name", True), ("email", True), ("url", True))
DEPENDENCY_FIELDS = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
)
# The strings Helm's Validate cleans (whitespace to a space, unprintable characters dropped) before writing.
CLEANED_METADATA = ("name", "description", "home", "icon", "condition", "tags", "appVersion", "kubeVersion")
CLEANED_LISTS = ("sources", "keywords")
CLEANED_DEPENDENCY = ("name", "version", "repository", "condition")
LIST_FIELDS = {"sources", "keywords", "maintainers", "dependencies", "import-values"}
BOOL_FIELDS = {"deprecated", "enabled"}
# ``org.opencontainers.image.created`` when the repository index gives no usable ``created``: Helm writes the
# push time, which would give every mirror run a new digest; a fixed value keeps one chart one digest.
FIXED_CREATED = "1970-01-01T00:00:00Z"
# Go's unicode.IsSpace outside ASCII's tab, newline, vertical tab, form feed, return and space.
_GO_SPACES = frozenset(
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_json(value: Any) -> bytes:
    """``value`` as Go's ``json.Marshal`` writes it (dicts keep their order: sort generic maps first)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # These characters only ever occur inside strings in JSON text, so replacing them everywhere is exact.
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text.encode()


def chart_config(metadata: dict[str, Any]) -> bytes:
    """The config blob: Chart.yaml's metadata as Helm's structs hold it."""
    cleaned = dict(metadata)
    for key in CLEANED_METADATA:
        if isinstance(cleaned.get(key), str):
            cleaned[key] = go_clean(cleaned[key])
    for key in CLEANED_LISTS:
        if isinstance(cleaned.get(key), list):
            cleaned[key] = [go_clean(v) if isinstance(v, str) else v for v in cleaned[key]]
    cleaned["apiVersion"] = cleaned.get("apiVersion") or "v1"  # Helm's loader reads a chart without one as v1
    body = _struct(cleaned, METADATA_FIELDS)
    if isinstance(metadata.get("maintainers"), list):
        maintainers = [
            _struct({k: go_clean(v) if isinstance(v, str) else v for k, v in m.items()}, MAINTAINER_FIELDS)
            for m in metadata["maintainers"]
            if isinstance(m, dict)
        ]
        _set(body, "maintainers", maintainers)
    if isinstance(metadata.get("dependencies"), list):
        dependencies = [
            _struct(_clean_dependency(d), DEPENDENCY_FIELDS) for d in metadata["dependencies"] if isinstance(d, dict)
        ]
        _set(body, "dependencies", dependencies)
    return go_json(_reorder(body, METADATA_FIELDS))


def with_requirements(metadata: Any, requirements: Any) -> Any:
    """Chart.yaml as Helm's loader holds it: a ``requirements.yaml`` (apiVersion v1 charts keep their
    dependencies there) is read into the same metadata, so its ``dependencies`` replace Chart.yaml's."""
    if not isinstance(metadata, dict) or not isinstance(requirements, dict):
        return metadata
    fields = {name for name, _ in METADATA_FIELDS}
    return {**metadata, **{k: v for k, v in requirements.items() if k in fields}}


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata as Helm holds it after loading: what its manifest annotations are made from."""
    cleaned = json.loads(chart_config(metadata))
    return cleaned if isinstance(cleaned, dict) else {}


def go_clean(text: str) -> str:
    """Helm's sanitizeString: every whitespace character becomes a space, unprintable ones are dropped."""
    kept = (" " if c in "\t\n\v\f\r " or c in _GO_SPACES else c if c.isprintable() else "" for c in text)
    return "".join(kept)


def created_annotation(value: Any) -> str:
    """``created`` for the manifest: the index entry's time in whole seconds UTC (``…Z``), as Helm writes a
    time, else ``FIXED_CREATED``. YAML may give a datetime (an unquoted timestamp) or a string."""
    moment: datetime.datetime | None = value if isinstance(value, datetime.datetime) else None
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("z", "Z")
        head, dot, rest = text.partition(".")
        if dot:  # Python reads at most microseconds: drop the fraction, keep the zone
            zone = next((i for i, c in enumerate(rest) if c in "Z+-"), len(rest))
            text = head + rest[zone:]
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        return FIXED_CREATED
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean_dependency(dependency: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: go_clean(v) if k in CLEANED_DEPENDENCY and isinstance(v, str) else v for k, v in dependency.items()}
    if isinstance(cleaned.get("tags"), list):
        cleaned["tags"] = [go_clean(t) if isinstance(t, str) else t for t in cleaned["tags"]]
    return cleaned


def _struct(values: dict[str, Any], fields: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    """The fields of one Go struct, in its order; an empty optional field is left out (``omitempty``)."""
    out: dict[str, Any] = {}
    for name, optional in fields:
        value = values.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and name not in BOOL_FIELDS:
            value = str(value)  # a number where Helm has a string (appVersion: 1.10 is "1.1")
        if value is None or (optional and value in ("", [], {}, False)):
            if optional:
                continue
            value = [] if name in LIST_FIELDS else False if name in BOOL_FIELDS else ""
        out[name] = _generic(value)
    return out


def _set(body: dict[str, Any], key: str, value: list[Any]) -> None:
    if value:
        body[key] = value
    else:
        body.pop(key, None)


def _reorder(body: dict[str, Any], fields: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    return {name: body[name] for name, _ in fields if name in body}


def _generic(value: Any) -> Any:
    """A value of no struct type (annotations, import-values): Go writes a map's keys sorted."""
    if isinstance(value, dict):
        keys = {_key(k): k for k in value}
        return {key: _generic(value[keys[key]]) for key in sorted(keys)}
    if isinstance(value, list):
        return [_generic(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _key(key: Any) -> str:
    """A map key as text, as Go's YAML reader gives it (a boolean key is ``true`` or ``false``)."""
    return ("true" if key else "false") if isinstance(key, bool) else str(key)
