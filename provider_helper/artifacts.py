"""What a manifest entry becomes: an artifact (an image, an OCI or classic chart, an NGC resource), its
group, and the NGC resource it may name. Loading and checking a manifest is ``manifest``'s; choosing
from a loaded one is ``selection``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from provider_helper.errors import SettingError
from provider_helper.oci.reference import Platform, Reference, chart_tag, is_tag
from provider_helper.redact import redact_url


@dataclass(frozen=True)
class Group:
    name: str
    default: bool
    description: str = ""


@dataclass(frozen=True)
class ResourceRef:
    """An NGC resource: ``org/[team/]name:version``."""

    org: str
    team: str | None
    name: str
    version: str | None

    def __str__(self) -> str:
        path = "/".join(p for p in (self.org, self.team, self.name) if p)
        return f"{path}:{self.version}" if self.version else path


# What kind of artifact a manifest entry is (its ``type``): mypy checks every value set or compared.
ArtifactType = Literal["image", "chart", "resource"]


@dataclass(frozen=True)
class Artifact:
    """One manifest entry. Exactly one of ``image`` (image, OCI chart), ``classic`` fields, ``resource`` is set."""

    type: ArtifactType
    group: str
    name: str
    where: str  # "file:line", for messages
    image: Reference | None = None
    repo: str | None = None
    chart: str | None = None
    version: str | None = None
    resource: ResourceRef | None = None
    platforms: tuple[Platform, ...] | None = None
    needs_version: bool = False
    note: str = ""
    resolved_from: str | None = None  # "latest": the version was chosen by resolving --set-version NAME=latest

    @property
    def is_classic_chart(self) -> bool:
        return self.type == "chart" and self.repo is not None

    @property
    def tag(self) -> str | None:
        """Target tag; None while the artifact still needs a version."""
        if self.image is not None:
            return self.image.tag or (self.image.digest.replace(":", "-")[:128] if self.image.digest else None)
        if self.resource is not None:
            return self.resource.version
        return chart_tag(self.version) if self.version else None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}:{self.tag or '<unpinned>'}"

    @property
    def source_text(self) -> str:
        """How the result document writes the source."""
        if self.image is not None:
            return str(self.image)
        if self.resource is not None:
            return str(self.resource)
        repo = redact_url(self.repo or "")
        return f"{repo}/{self.chart}:{self.version}" if self.version else f"{repo}/{self.chart}"

    def entry(self) -> dict[str, Any]:
        """This artifact as a manifest entry again (what a lock file records)."""
        entry: dict[str, Any] = {"type": self.type, "group": self.group, "name": self.name}
        if self.image is not None or self.resource is not None:
            entry["source"] = str(self.image if self.image is not None else self.resource)
        else:
            entry.update(
                {
                    "repo": redact_url(self.repo or ""),
                    "chart": self.chart,
                    **({"version": self.version} if self.version else {}),
                }
            )
        if self.platforms:
            entry["platforms"] = [str(p) for p in self.platforms]
        if self.needs_version:
            entry["needs_version"] = True
        return entry

    def pinned(self, version: str, resolved_from: str | None = None) -> Artifact:
        """This artifact with the version a user supplied (``--set-version``) or a resolution chose."""
        if not is_tag(chart_tag(version) if self.chart else version) or ".." in version:
            raise SettingError("set_versions", self.name, "not a valid version", value=version)
        if self.image is not None:
            return replace(
                self, image=replace(self.image, tag=version), needs_version=False, resolved_from=resolved_from
            )
        if self.resource is not None:
            return replace(
                self, resource=replace(self.resource, version=version), needs_version=False, resolved_from=resolved_from
            )
        return replace(self, version=version, needs_version=False, resolved_from=resolved_from)

    @property
    def version_text(self) -> str | None:
        """The version as pinned, whatever the kind: image tag, chart version or resource version."""
        if self.image is not None:
            return self.image.tag
        if self.resource is not None:
            return self.resource.version
        return self.version
