"""nvcf-mirror: copy NVCF artifacts from NGC into a private registry."""

__version__ = "0.1.0"
