"""Local stand-ins for the real services, for the demo and the tests.

Nothing here is used by a real mirror run: a Distribution registry (Debian's docker-registry)
started on a free loopback port with nvcr.io-style token auth or ECR-style basic auth, a
token server issuing JWTs like nvcr.io's proxy_auth, and synthetic NVCF-like artifacts.
"""
