"""A saved layout packed for travel: one ``.tar`` (written aside, then renamed into place), or its parts
and their checksum list (``splitarchive``).
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from pathlib import Path

from provider_helper.fsutil import private_temp
from provider_helper.splitarchive import PartsWriter


def pack(staging: Path, archive: Path, part_size: int | None = None) -> None:
    """A single .tar of the layout (written aside, then renamed into place), or with ``part_size`` its
    parts ``archive.000``, ``.001``, … and the checksum list ``archive.sha256`` (``splitarchive``)."""
    files = [
        path
        for path in sorted(staging.rglob("*"))
        if stat.S_ISREG(path.lstat().st_mode) and not path.name.startswith(".")
    ]
    if part_size is None:
        temp, out = private_temp(archive)
        try:
            with out, tarfile.open(fileobj=out, mode="w") as tar:
                for path in files:
                    tar.add(path, arcname=str(path.relative_to(staging)))
            os.replace(temp, archive)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    else:
        parts = PartsWriter(archive, part_size)
        with tarfile.open(fileobj=parts, mode="w|") as tar:
            for path in files:
                tar.add(path, arcname=str(path.relative_to(staging)))
        parts.commit()
    shutil.rmtree(staging)
