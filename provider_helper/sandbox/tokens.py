"""A token server that behaves like nvcr.io's ``proxy_auth`` (distribution token spec), or, with
``path``, ``service`` and ``users`` set, like Docker Hub's (``/token``, ``service=registry.docker.io``),
quay.io's (``/v2/auth``) or ghcr.io's (``/token``).

``$oauthtoken`` with the right key (or a user of ``users``) gets every action it asks for; anonymous
callers get ``pull`` on public repositories only, or, with ``anonymous = "refused"``, a 401 for every
request (nvcr.io for a private organisation without a key); a wrong key gets 401. Tokens are ES256 JWTs
carrying the signing certificate in ``x5c``, which is what Distribution verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlparse

from provider_helper.sandbox.extra import require
from provider_helper.sandbox.httpserver import JsonHandler

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "nvcf-mirror-sandbox"
USERNAME = "$oauthtoken"


@dataclass
class SigningKey:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def generate(cls) -> SigningKey:
        require("cryptography")
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def write_cert(self, path: Path) -> Path:
        from cryptography.hazmat.primitives import serialization

        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def token(self, access: list[dict[str, Any]], subject: str, lifetime: int, audience: str = "") -> str:
        jwt = require("jwt")
        from cryptography.hazmat.primitives import serialization

        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": audience,
            "exp": now + lifetime,
            "nbf": now - 5,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        x5c = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()
        encoded: str = jwt.encode(claims, self.key, algorithm="ES256", headers={"x5c": [x5c]})
        return encoded


@dataclass
class TokenServer:
    """Serve ``/proxy_auth`` (or ``path``) on a loopback port in a background thread."""

    api_key: str
    public_prefixes: tuple[str, ...] = ("nvidia/",)  # ("",): every repository is public (Docker Hub, quay.io, ghcr.io)
    path: str = "/proxy_auth"
    service: str = ""  # the ``service`` the registry names in its challenge and the tokens' audience
    users: dict[str, str] = field(default_factory=dict)  # more user -> password logins (a Docker Hub account)
    anonymous: Literal["public", "refused"] = "public"
    lifetime: int = 600
    signing: SigningKey = field(default_factory=SigningKey.generate)
    requests: list[tuple[str, ...]] = field(default_factory=list)  # the scopes of each token request, for tests
    # repositories answered 412, as nvcr.io does before the terms are accepted
    licence_required: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def mint(self, repositories: Iterable[str], actions: tuple[str, ...] = ("pull", "push")) -> str:
        """A token for the sandbox's own seeding, bypassing the HTTP flow."""
        access = [{"type": "repository", "name": r, "actions": list(actions)} for r in repositories]
        return self.signing.token(access, "sandbox", self.lifetime, self.service)

    def grant(self, username: str | None, password: str | None, scopes: list[str]) -> list[dict[str, Any]] | None:
        """The access a caller gets, or None when its credentials are wrong."""
        if username is None and self.anonymous == "refused":
            return None
        logins = {USERNAME: self.api_key, **self.users}
        if username is not None and not (
            username in logins and secrets.compare_digest(password or "", logins[username])
        ):
            return None
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            wanted = [a for a in actions.split(",") if a]
            if username is None:
                wanted = [a for a in wanted if a == "pull"] if name.startswith(self.public_prefixes) else []
            if wanted:
                access.append({"type": "repository", "name": name, "actions": wanted})
        return access

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != server.path:
                    self.reply_json(404, {"errors": [{"code": "NOT_FOUND"}]})
                    return
                query = parse_qs(url.query)
                scopes = query.get("scope", [])
                server.requests.append(tuple(scopes))
                if server.service and query.get("service") != [server.service]:
                    self.reply_json(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]})
                    return
                username = password = None
                header = self.headers.get("Authorization", "")
                if header.lower().startswith("basic "):
                    username, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if any(scope.split(":")[1] in server.licence_required for scope in scopes if scope.count(":") == 2):
                    self.reply_json(412, {"errors": [{"code": "DENIED", "message": "license terms not accepted"}]})
                    return
                access = server.grant(username, password, scopes)
                if access is None:
                    self.reply_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]})
                    return
                token = server.signing.token(access, username or "anonymous", server.lifetime, server.service)
                self.reply_json(200, {"token": token, "access_token": token, "expires_in": server.lifetime})

        return Handler
