"""Unit tests of the bundle lock's reading in ``provider_helper/mirror/bundles.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
import readme_text

from provider_helper.errors import InputError
from provider_helper.mirror.bundles import MAX_LOCK_BYTES, read_lock_bytes


def test_a_lock_is_read_up_to_the_16_mib_the_readme_states_and_refused_one_byte_past(tmp_path: Path) -> None:
    """README Limits: "a bundle's `index.json` / lock (`load`, `verify --from`, `save --since`) / split checksum
    list, read before it is parsed | 4 MiB / 16 MiB / 1 MiB"."""
    limit = readme_text.size(readme_text.limit("a bundle's `index.json` / lock").split(" / ")[1])
    assert limit == MAX_LOCK_BYTES
    lock = tmp_path / "nvcf-mirror.lock.json"
    lock.write_bytes(b" " * limit)
    assert read_lock_bytes(lock) == (b" " * limit, str(lock))
    lock.write_bytes(b" " * (limit + 1))
    with pytest.raises(InputError, match=f"larger than {limit} bytes"):
        read_lock_bytes(lock)
