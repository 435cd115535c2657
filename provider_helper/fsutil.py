"""Files written whole or not at all."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path


def atomic_write(path: Path, content: str | Iterable[bytes], *, temp: Path | None = None) -> None:
    """Write ``content`` (text, or chunks of bytes) beside ``path``, then rename it into place: a reader
    sees the old file or the new one, never half of it. ``temp`` names the file written first."""
    temp = temp or path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if isinstance(content, str):
            temp.write_text(content)
        else:
            with open(temp, "wb") as out:
                for chunk in content:
                    out.write(chunk)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
