"""A loaded manifest and the choice a run makes from it: the groups, the pins (``--set-version``), what is
left out (``--exclude``), and the rule that no two chosen artifacts land on one target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from provider_helper.artifacts import Artifact, Group
from provider_helper.errors import InputError, SettingError
from provider_helper.wording import setting

LATEST = "latest"  # the pin ``--set-version NAME=latest``: the newest published version, resolved after selection


@dataclass(frozen=True)
class ArtifactManifest:
    origin: str
    groups: tuple[Group, ...]
    artifacts: tuple[Artifact, ...]
    description: str = ""

    @property
    def default_groups(self) -> list[str]:
        return [g.name for g in self.groups if g.default]

    def select(
        self,
        groups: Sequence[str] = (),
        *,
        all_groups: bool = False,
        versions: Mapping[str, str] | None = None,
        excludes: Sequence[str] = (),
    ) -> list[Artifact]:
        """The artifacts of the chosen groups (default groups when none are named), pinned by ``versions``,
        less those named in ``excludes`` (a name the manifest does not list is a mistake, not a no-op).

        A pin names an artifact (``NAME``) or one of its entries (``NAME:TAG``, where a name has several);
        a name that matches several selected entries, or a selection with two entries on one target, is refused
        (entries pinned to ``latest`` once resolved: ``one_per_target``)."""
        names = {a.name for a in self.artifacts}
        for name in excludes:
            if name not in names:
                raise SettingError("excludes", name, f"no artifact of {self.origin} has that name")
        known = {g.name for g in self.groups}
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise SettingError(
                "groups", unknown[0], f"no such group in {self.origin} (groups: {', '.join(sorted(known))})"
            )
        chosen = known if all_groups else set(groups or self.default_groups)
        selected = [a for a in self.artifacts if a.group in chosen and a.name not in excludes]
        pinned = dict(enumerate(selected))
        to_resolve: set[int] = set()
        for key, version in (versions or {}).items():
            for index in self._entries_for(key, version, selected, excludes):
                pinned[index] = pinned[index].pinned(version)
                if version == LATEST:
                    to_resolve.add(index)
        # an entry pinned to latest lands where its resolved version says: checked then (one_per_target)
        check_targets([a for index, a in pinned.items() if index not in to_resolve])
        return list(pinned.values())

    def _entries_for(self, key: str, version: str, selected: list[Artifact], excludes: Sequence[str] = ()) -> list[int]:
        """The indexes in ``selected`` that the pin ``key`` (``NAME`` or ``NAME:TAG``) names: exactly one per pin."""
        name, _, current = key.partition(":")
        named = [i for i, a in enumerate(selected) if a.name == name]
        found = [i for i in named if not current or selected[i].version_text == current]
        if len(found) > 1:
            selected[found[0]].pinned(version)  # a version that is not one is the first thing to say
            entries = ", ".join(
                f"{name}:{selected[i].version_text or '<unpinned>'} ({selected[i].where})" for i in found
            )
            one = f"{name}:{selected[found[0]].version_text}"
            flag = setting("set_versions")
            how = f'{flag} = {{ "{one}" = "{version}" }}' if flag == "set_versions" else f"{flag} {one}={version}"
            problem = f"{name} names {len(found)} entries: {entries}; pin one of them, e.g. {how}"
            raise SettingError("set_versions", key, problem, value=version)
        if found:
            return found
        if named:
            listed = ", ".join(f"{name}:{selected[i].version_text or '<unpinned>'}" for i in named)
            problem = f"no entry of {name} has version {current} (entries: {listed})"
            raise SettingError("set_versions", key, problem, value=version)
        if name in excludes:
            raise SettingError("set_versions", key, f"{name} is left out by {setting('excludes')}", value=version)
        elsewhere = sorted({a.group for a in self.artifacts if a.name == name})
        if elsewhere:
            problem = f"{name} is in group {', '.join(elsewhere)}, which is not selected"
            raise SettingError("set_versions", key, problem, value=version)
        raise SettingError("set_versions", key, f"no artifact of {self.origin} has that name", value=version)


def one_per_target(artifacts: Sequence[Artifact]) -> list[Artifact]:
    """``artifacts`` once ``latest`` is resolved, with no two on one target. Two entries pinned to ``latest`` that
    resolved to one copy (same type, name, source reference and platforms) are one artifact, the first entry's:
    each asked for the newest, and the newest is one image (refusing would break a pin the day two flavours
    meet). Any other two on one target are refused, naming both."""
    kept: list[Artifact] = []
    for artifact in artifacts:
        if not any(_one_copy(artifact, earlier) for earlier in kept):
            kept.append(artifact)
    check_targets(kept)
    return kept


def _one_copy(one: Artifact, other: Artifact) -> bool:
    both_latest = one.resolved_from == other.resolved_from == LATEST
    return both_latest and _what_is_copied(one) == _what_is_copied(other)


def _what_is_copied(artifact: Artifact) -> tuple[object, ...]:
    return (artifact.type, artifact.name, artifact.source_text, artifact.platforms)


def check_targets(artifacts: Sequence[Artifact]) -> None:
    """No two artifacts of a selection may land on one target: refused up front, naming both entries."""
    seen: dict[tuple[str, str], Artifact] = {}
    for artifact in artifacts:
        if not artifact.tag:
            continue
        first = seen.setdefault((artifact.name, artifact.tag), artifact)
        if first is not artifact:
            raise InputError(
                f"two artifacts land on one target {artifact.name}:{artifact.tag}: "
                f"{first.source_text} ({first.where}) and {artifact.source_text} ({artifact.where}); "
                "give one another 'name' or another version"
            )
