"""Content stores: one protocol for reading and writing manifests and blobs (``store``), implemented
by a registry (``registry.client.RegistryClient``), an OCI layout (``mirror.layout.Layout``) and content
the tool built itself (``built.BuiltArtifact``: a classic chart, an NGC resource version). Every byte
they hand over passes the one digest-verifying reader, ``oci.digests``."""
