"""provider_helper/content/registry_blobs.py: a registry's blob calls. A blob is uploaded in two requests (POST, then
one streaming PUT); a cross-repository mount the registry answers 201 is done, one it answers 202 (ECR without blob
mounting, a source repository without the blob) opened an upload, and the next upload of that blob uses it, so a
refused mount still costs two requests; a resumed read checks the range the registry says it sent.

The mount and upload tests run against the real Distribution registry, with a transport that records each request
on its way to the network (nothing is answered by the test). The wrong-range answer is a fault a real registry
does not produce, so there a mocked transport answers."""

from __future__ import annotations

import os

import httpx
import pytest
from helpers import sha256

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RegistryError
from provider_helper.oci.manifest import Descriptor
from provider_helper.registry.credentials import Credential, StaticCredential
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.aws import ECR_USER
from provider_helper.sandbox.stack import Sandbox

LAYER = "application/vnd.oci.image.layer.v1.tar"


class Recording(httpx.BaseTransport):
    """Sends every request on to the network unchanged and notes its method, path and the status of the answer."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.seen.append(f"{request.method} {request.url.path} {response.status_code}")
        return response

    def close(self) -> None:
        self.inner.close()


def _client(sandbox: Sandbox, transport: httpx.BaseTransport) -> RegistryClient:
    credential = StaticCredential(Credential(ECR_USER, sandbox.target_password))
    return RegistryClient(sandbox.target.host, credentials=credential, transport=transport)


def _blob() -> tuple[Descriptor, bytes]:
    data = os.urandom(4096)
    return Descriptor(LAYER, sha256(data), len(data)), data


def _writes(seen: list[str]) -> list[str]:
    """The requests that did the work: the auth flow's (answered 401, then sent again with a token) left out."""
    return [s for s in seen if s.startswith(("POST", "PUT", "PATCH")) and not s.endswith(" 401")]


def test_an_upload_is_one_post_and_one_put(sandbox: Sandbox, ns: str) -> None:
    recording = Recording()
    client = _client(sandbox, recording)
    blob, data = _blob()
    try:
        client.put_blob(f"{ns}/app", blob, iter([data[:1000], data[1000:]]))
        assert client.has_blob(f"{ns}/app", blob.digest)
    finally:
        client.close()
    writes = _writes(recording.seen)
    assert [w.split()[0] for w in writes] == ["POST", "PUT"], writes


def test_a_mount_answered_201_is_done_and_one_answered_202_is_not(sandbox: Sandbox, ns: str) -> None:
    recording = Recording()
    client = _client(sandbox, recording)
    blob, data = _blob()
    try:
        client.put_blob(f"{ns}/held", blob, [data])
        assert client.mount_blob(f"{ns}/mounted", blob.digest, f"{ns}/held") is True
        assert client.has_blob(f"{ns}/mounted", blob.digest)
        recording.seen.clear()
        assert client.mount_blob(f"{ns}/other", blob.digest, f"{ns}/nowhere") is False, "a 202 is no mount"
        assert not client.has_blob(f"{ns}/other", blob.digest)
        client.put_blob(f"{ns}/other", blob, [data])
        assert client.has_blob(f"{ns}/other", blob.digest)
    finally:
        client.close()
    writes = _writes(recording.seen)
    assert [w.split()[0] for w in writes] == ["POST", "PUT"], f"the refused mount's upload was not reused: {writes}"


def _ranged(status: int, content_range: str | None) -> RegistryClient:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Range": content_range} if content_range else {}
        return httpx.Response(status, content=b"rest of the blob", headers=headers)

    return RegistryClient("127.0.0.1:1", transport=httpx.MockTransport(answer), retry=RetryPolicy(attempts=1))


def test_a_resumed_read_starts_where_the_registry_says_and_a_wrong_range_is_refused() -> None:
    digest = sha256(b"x")
    with _ranged(206, "bytes 100-115/116").open_blob_from("org/app", digest, 100) as (start, chunks):
        assert start == 100 and b"".join(chunks) == b"rest of the blob"
    with _ranged(200, None).open_blob_from("org/app", digest, 100) as (start, _):
        assert start == 0, "a registry that ignored the range sent the whole blob"
    with pytest.raises(RegistryError) as refused, _ranged(206, "bytes 0-15/116").open_blob_from("org/app", digest, 100):
        pass
    assert str(refused.value) == (
        f"get blob org/app@{digest[:19]} from byte 100 at 127.0.0.1:1: asked for bytes 100- and got the range "
        "'bytes 0-15/116'"
    )
