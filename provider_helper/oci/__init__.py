"""The model: what the rest of the tool reasons about, with no transport and no store under it.
References, platforms and target naming (``reference``), descriptors, manifests and media types
(``manifest``), digests and the one digest-verifying reader (``digests``), the byte bounds on content
read whole (``limits``). Nothing here imports the project's code outside this package, but for the
error kinds and the front doors' wording of a setting (``tests/test_architecture.py`` holds it)."""
