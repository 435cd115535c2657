"""What the sandbox attaches to an image: in-toto attestations, cosign signatures, referrers."""

from __future__ import annotations

import base64
import json
import os

from provider_helper.sandbox.mediatypes import (
    COSIGN_SIGNATURE,
    COSIGN_SIMPLESIGNING,
    DSSE_ENVELOPE,
    IN_TOTO,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    SPDX,
    Pushed,
)
from provider_helper.sandbox.pushing import Pusher, digest_of_body


class Attaching(Pusher):
    """Pushes what is attached to an image already pushed (its ``subject``)."""

    def attestation(self, repo: str, subject: Pushed) -> Pushed:
        """A buildx-style provenance manifest for ``subject`` (pushed by digest)."""
        statement = self.blob(
            repo,
            json.dumps(
                {"_type": "https://in-toto.io/Statement/v0.1", "subject": [{"digest": {"sha256": subject.digest[7:]}}]}
            ).encode(),
            IN_TOTO,
        )
        config = self.blob(
            repo,
            json.dumps(
                {
                    "architecture": "unknown",
                    "os": "unknown",
                    "rootfs": {"type": "layers", "diff_ids": [statement.digest]},
                }
            ).encode(),
            OCI_CONFIG,
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [
                statement.descriptor(annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"})
            ],
        }
        return self.manifest(repo, digest_of_body(body), body, OCI_MANIFEST)

    def cosign(self, repo: str, subject: Pushed, suffix: str = ".sig") -> Pushed:
        """What ``cosign sign|attest|attach sbom`` stores for ``subject``: a manifest under the tag
        ``sha256-<hex><suffix>`` whose layer is the signed payload, the signature in an annotation."""
        payload, media_type, annotations = {
            ".sig": (
                json.dumps(
                    {
                        "critical": {
                            "identity": {"docker-reference": repo},
                            "image": {"docker-manifest-digest": subject.digest},
                            "type": "cosign container image signature",
                        },
                        "optional": None,
                    }
                ).encode(),
                COSIGN_SIMPLESIGNING,
                {COSIGN_SIGNATURE: base64.b64encode(os.urandom(64)).decode()},
            ),
            ".att": (
                json.dumps(
                    {
                        "payloadType": "application/vnd.in-toto+json",
                        "payload": base64.b64encode(subject.digest.encode()).decode(),
                        "signatures": [{"sig": base64.b64encode(os.urandom(64)).decode()}],
                    }
                ).encode(),
                DSSE_ENVELOPE,
                {"predicateType": "https://slsa.dev/provenance/v1"},
            ),
            ".sbom": (json.dumps({"spdxVersion": "SPDX-2.3", "name": repo, "packages": []}).encode(), SPDX, {}),
        }[suffix]
        layer = self.blob(repo, payload, media_type)
        config = self.blob(
            repo,
            json.dumps(
                {"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": [layer.digest]}}
            ).encode(),
            OCI_CONFIG,
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layer.descriptor(annotations=annotations)],
        }
        return self.manifest(repo, subject.digest.replace(":", "-") + suffix, body, OCI_MANIFEST)

    def referrer(self, repo: str, subject: Pushed, artifact_type: str = SPDX) -> Pushed:
        """An OCI 1.1 referrer of ``subject``, pushed by digest and listed (as oras does on a registry
        without the referrers API) in the index under the fallback tag ``sha256-<hex>``."""
        empty = self.blob(repo, b"{}", OCI_EMPTY)
        layer = self.blob(
            repo, json.dumps({"spdxVersion": "SPDX-2.3", "subject": subject.digest}).encode(), artifact_type
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty.descriptor(),
            "layers": [layer.descriptor()],
            "subject": subject.descriptor(),
        }
        pushed = self.manifest(repo, digest_of_body(body), body, OCI_MANIFEST)
        tag = subject.digest.replace(":", "-")
        listed = self.http.get(f"/v2/{repo}/manifests/{tag}", headers=self._headers(repo, Accept=OCI_INDEX))
        entries = listed.json()["manifests"] if listed.status_code == 200 else []
        entries.append(pushed.descriptor(artifactType=artifact_type))
        self.manifest(repo, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX)
        return pushed
