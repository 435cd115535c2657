"""One registry host spoken to over the OCI distribution API: the registry store.

This module holds its manifest, tag and referrer calls; the blob calls are ``registry_blobs``', the
connection they share (requests retried on transient failures, answers as error kinds) is
``registry_connection``'s. Small requests are retried; a blob upload streams from the source, so the
copy engine retries it as a whole.
"""

from __future__ import annotations

from provider_helper.content.registry_blobs import RegistryBlobs
from provider_helper.content.store import Retrying, Store
from provider_helper.errors import DigestMismatchError, RegistryError, UnsupportedError
from provider_helper.http import Page, pages, same_registry_link
from provider_helper.oci.limits import MAX_MANIFEST_BYTES
from provider_helper.oci.manifest import ACCEPT, OCI_INDEX, Descriptor, Manifest
from provider_helper.oci.reference import is_tag


class RegistryClient(RegistryBlobs):
    """Typed calls for one registry; thread-safe, one connection pool shared by all callers. The
    connection and its answers are ``RegistryConnection``'s, the blob calls ``RegistryBlobs``'."""

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        response = self._send(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            expect={200},
            headers={"Accept": ACCEPT},
            what=f"get manifest {repo}:{reference}",
            max_bytes=MAX_MANIFEST_BYTES,
        )
        data = response.content
        expected = reference if reference.startswith("sha") and ":" in reference else None
        manifest = Manifest.from_bytes(data, response.headers.get("content-type"), expected)
        served = response.headers.get("docker-content-digest")
        if served and served.startswith(manifest.digest.split(":")[0] + ":") and served != manifest.digest:
            raise DigestMismatchError(
                f"manifest {repo}:{reference}: content hashes to {manifest.digest}, registry says {served}"
            )
        return manifest

    def tags(self, repo: str) -> list[str]:
        """Every tag of ``repo``, following the ``Link`` header from page to page."""
        what = f"list tags of {repo}"

        def fetch(url: str) -> Page[str, list[str]]:
            response = self._send("GET", url, expect={200}, what=what, max_bytes=MAX_MANIFEST_BYTES)
            try:
                # a 4 MiB "tag" is none
                tags = [t for t in response.json().get("tags") or [] if isinstance(t, str) and is_tag(t)]
            except (ValueError, AttributeError):
                raise RegistryError(
                    f"{self.host} answered the tag list of {repo} with something other than a tag list"
                ) from None
            return Page(tags, len(response.content), len(tags), same_registry_link(response))

        return [tag for page in pages(fetch, f"/v2/{repo}/tags/list?n=1000", what) for tag in page]

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        """The manifests whose ``subject`` is ``digest`` (OCI 1.1 referrers API), or None where the
        registry has no such API. The first answer that is not a listing marks the registry as
        lacking it, so a registry without the API costs one request per run."""
        if self._referrers_api is None:
            with self._referrers_probe:  # the first request tells; concurrent callers wait for it
                if self._referrers_api is None:
                    return self._list_referrers(repo, digest)
        return self._list_referrers(repo, digest) if self._referrers_api else None

    def _list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        what = f"list referrers of {repo}@{digest[:19]}"

        def fetch(url: str) -> Page[str, list[Descriptor] | None]:
            response = self._send(
                "GET",
                url,
                expect={200, 400, 404, 405},
                headers={"Accept": OCI_INDEX},
                what=what,
                max_bytes=MAX_MANIFEST_BYTES,
            )
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith(OCI_INDEX):
                return Page(None, 0, 0, None)  # not a listing: the registry lacks the API
            children = list(Manifest.from_bytes(response.content, OCI_INDEX).children)
            return Page(children, len(response.content), len(children), same_registry_link(response))

        found: list[Descriptor] = []
        for page in pages(fetch, f"/v2/{repo}/referrers/{digest}", what):
            self._referrers_api = page is not None
            if page is None:
                return None
            found += page
        return found

    def head_manifest(self, repo: str, reference: str) -> str | None:
        """Digest the tag points at, or None where there is no such manifest."""
        response = self._send(
            "HEAD",
            f"/v2/{repo}/manifests/{reference}",
            expect={200, 404},
            headers={"Accept": ACCEPT},
            what=f"head manifest {repo}:{reference}",
        )
        if response.status_code == 404:
            return None
        digest = response.headers.get("docker-content-digest")
        return digest or self.get_manifest(repo, reference).digest

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None:
        if self._before_manifest_put:
            self._before_manifest_put()
        response = self._send(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            expect={200, 201, 202},
            content=manifest.data,
            headers={"Content-Type": manifest.media_type},
            what=f"put manifest {repo}:{reference}",
        )
        stored = response.headers.get("docker-content-digest")
        if stored and stored != manifest.digest:
            raise DigestMismatchError(f"{self.host} stored {repo}:{reference} as {stored}, expected {manifest.digest}")

    def delete_manifest(self, repo: str, digest: str) -> None:
        """DELETE a manifest by digest (Distribution removes every tag naming it); gone already is done.
        A registry that does not delete (Distribution without ``storage.delete.enabled``: 405
        UNSUPPORTED) raises UnsupportedError."""
        what = f"delete manifest {repo}@{digest[:19]}"
        try:
            self._send("DELETE", f"/v2/{repo}/manifests/{digest}", expect={200, 202, 404}, what=what)
        except RegistryError as exc:
            if exc.code == "UNSUPPORTED" and not isinstance(exc, UnsupportedError):
                raise UnsupportedError(str(exc), status=exc.status, code=exc.code) from None
            raise


_CHECKED: tuple[type[Store], type[Retrying]] = (RegistryClient, RegistryClient)  # mypy checks the class against both
