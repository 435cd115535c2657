"""Byte bounds on OCI content read whole, in memory: past them an answer or a file is refused rather
than read (the README's Limits table). Bounds on what is not content (error documents, token answers,
listings) belong to the HTTP layer (``http.py``)."""

from __future__ import annotations

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # a manifest or index, as Distribution
MAX_CONFIG_BYTES = 8 * 1024 * 1024  # an image config, read to learn its platform
