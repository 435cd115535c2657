"""Content stores, side by side behind one protocol (``store``: ``Reader``, ``Store``, and the
``Retrying`` capability a store may offer): a registry (``registry.RegistryClient``, one per host in
``pool``), an OCI layout (``layout.Layout``), content the tool built itself (``built.BuiltArtifact``:
a classic chart), an NGC resource version (``ngc.ResourceVersion``); the tests' in-memory store is
``tests/test_engine.py``'s ``MemoryStore``. Every byte they hand over passes the one digest-verifying
reader, ``oci.digests``; each module states the protocol it meets where mypy checks it."""
