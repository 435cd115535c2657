"""Unit tests of provider_helper/ngc_api.py against the NGC stand-in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ngcserver import NgcStandIn


def test_ngc_download_errors_carry_no_signed_url_query_in_process(tmp_path: Path) -> None:
    """The error itself, before any redaction at the output: the signed URL's query is its credential."""
    from provider_helper.errors import RegistryError
    from provider_helper.manifest import ResourceRef
    from provider_helper.ngc_api import NgcClient
    from provider_helper.retry import RetryPolicy

    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    ngc.resources["org/team/res:1.0"] = {"f.bin": b"x" * 10}
    ngc.storage_status = 503
    client = NgcClient(ngc.personal_key, ngc.url, ngc.url, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(RegistryError) as raised:
            client.download(ResourceRef("org", "team", "res", "1.0"), tmp_path / "ngc")
    finally:
        client.close()
        ngc.close()
    assert "/storage/" in str(raised.value) and "X-Amz-Signature" not in str(raised.value)
