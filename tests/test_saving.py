"""What ``save --to DIR`` checks before it adds to DIR (provider_helper/mirror/saving.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider_helper.errors import InputError
from provider_helper.mirror.saving import layout_for_saving


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777])
@pytest.mark.parametrize("which", ["", "blobs", "blobs/sha256"])
def test_save_refuses_a_folder_its_group_or_anyone_may_write_to(tmp_path: Path, mode: int, which: str) -> None:
    """README Security: "save --to DIR adds to a DIR only when no other user can write into it (yours, not group-
    or world-writable)"."""
    root = tmp_path / "bundle"
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / which).chmod(mode)
    with pytest.raises(InputError) as refused:
        layout_for_saving(root)
    assert str(refused.value).startswith(f"{root / which}: a folder another user could have written")
    assert not (root / "index.json").exists(), "nothing was written"


def test_save_adds_to_a_folder_only_its_owner_may_write_to(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    root.chmod(0o755)
    layout_for_saving(root)
    assert (root / "index.json").is_file() and (root / "oci-layout").is_file()
