"""One RegistryClient per host, created on first use with that host's credential and TLS settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from provider_helper.content.registry import RegistryClient
from provider_helper.oci.reference import DOCKER_HUB, DOCKER_HUB_API
from provider_helper.registry.credentials import CredentialStore
from provider_helper.retry import RetryPolicy


@dataclass
class RegistryPool:
    credentials: CredentialStore
    insecure: frozenset[str] = frozenset()
    ca_file: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 32
    manifest_put_limits: dict[str, Callable[[], None]] = field(default_factory=dict)  # host -> limiter (ECR PutImage)
    _clients: dict[str, RegistryClient] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def get(self, host: str) -> RegistryClient:
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                client = RegistryClient(
                    host,
                    credentials=self.credentials.for_host(host),
                    insecure=host in self.insecure,
                    ca_file=self.ca_file,
                    retry=self.retry,
                    max_connections=self.max_connections,
                    before_manifest_put=self.manifest_put_limits.get(host),
                    upstream=self.credentials.upstreams.get(host) or (DOCKER_HUB if host == DOCKER_HUB_API else None),
                )
                self._clients[host] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
