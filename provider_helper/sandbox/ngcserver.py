"""Stands in for NGC's REST API (api.ngc.nvidia.com), its token service (authn.nvidia.com) and the
pre-signed storage URLs, with the shapes NVIDIA's own client (``ngcsdk``) reads; a test runs
``ngcsdk`` against it, so the stand-in cannot drift from the real API unnoticed.

Endpoints (``…`` is ``/v2/org/{org}[/team/{team}]``):

- ``…/resources/{name}``: ``recipe.latestVersionIdStr``
- ``…/resources/{name}/versions``: ``recipeVersions`` (for "latest" and ``outdated``)
- ``…/resources/{name}/versions/{version}``: ``recipeVersion`` with ``status``, ``totalSizeInBytes``
- ``…/resources/{name}/versions/{version}/files``: ``recipeFiles`` (path, size), paged 0-based by
  ``page-number`` with ``totalPages``; no URLs
- ``…/resources/{name}/{version}/files``: ``filepath[]`` and ``urls[]`` pages (``totalResults``,
  ``size``), or ``{"urls": [url]}`` for one ``?path=``
- ``/v3/keys/get-caller-info`` (POST): what ngcsdk asks of a personal key
- ``/token``: a legacy key exchanged for a token with ``expires_in``

Storage refuses any request that carries an Authorization header and honours ``Range``. Pages
are deliberately small. Served over TLS when given a context (ngcsdk insists on https).
"""

from __future__ import annotations

import base64
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

from provider_helper.sandbox.httpserver import JsonHandler
from provider_helper.sandbox.ngcstorage import serve_storage

PAGE_SIZE = 2
_RESOURCE = re.compile(r"^/v2/org/(?P<org>[^/]+)(?:/team/(?P<team>[^/]+))?/resources/(?P<name>[^/]+)(?P<rest>/.*)?$")


@dataclass
class NgcStandIn:
    personal_key: str
    legacy_key: str
    resources: dict[str, dict[str, bytes]] = field(default_factory=dict)  # "org/team/name:version" -> {path: bytes}
    # "org/team/name:version" -> upload status (default UPLOAD_COMPLETE)
    status: dict[str, str] = field(default_factory=dict)
    licence_required: set[str] = field(default_factory=set)  # "org/team/name": answered 412 until accepted
    token_lifetime: int = 600
    tls: ssl.SSLContext | None = None
    storage_requests: list[str] = field(default_factory=list)
    token_requests: int = 0
    user_agents: set[str] = field(default_factory=set)
    # path -> bytes sent before the connection drops (once)
    fail_storage_after: dict[str, int] = field(default_factory=dict)
    unlisted_urls: set[str] = field(default_factory=set)  # paths whose URL the pages leave out: asked for with ?path=
    api_delay: float = 0.0  # seconds each API answer takes (token renewal tests)
    storage_status: int = 200  # anything else: storage answers with it (error-text tests)
    unauthorized: int = 0  # API requests answered 401 (an expired or wrong token)
    path_queries: list[str] = field(default_factory=list)
    range_requests: list[str] = field(default_factory=list)
    ignore_range: bool = False  # storage answers 200 with the whole file to a Range request, as some hosts do
    # organisations whose resources answer anonymous requests (the public catalog)
    public_orgs: set[str] = field(default_factory=set)
    anonymous_requests: int = 0  # API requests that came without Authorization and were answered

    def __post_init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def versions(self, org: str, team: str | None, name: str) -> list[str]:
        prefix = f"{org}/{team}/{name}:" if team else f"{org}/{name}:"
        return [key.split(":", 1)[1] for key in self.resources if key.startswith(prefix)]

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(16)
        self._tokens[token] = time.monotonic() + self.token_lifetime
        return token

    def token_valid(self, token: str) -> bool:
        return self._tokens.get(token, 0) > time.monotonic()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ngc = self

        class Handler(JsonHandler):
            protocol_version = "HTTP/1.1"

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization", "")
                value = header.removeprefix("Bearer ")
                return value == ngc.personal_key or ngc.token_valid(value)

            def do_POST(self) -> None:
                ngc.user_agents.add(self.headers.get("User-Agent", ""))
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                if urlparse(self.path).path == "/v3/keys/get-caller-info":  # an open endpoint: the key is in the form
                    if form.get("credentials") != [ngc.personal_key]:
                        return self.reply_json(401, {"requestStatus": {"statusCode": "UNAUTHORIZED"}})
                    org = next(iter(ngc.resources), "org/x").split("/")[0]
                    return self.reply_json(
                        200,
                        {
                            "orgName": org,
                            "type": "PERSONAL_KEY",
                            "user": {"name": "stand-in"},
                            "requestStatus": {"statusCode": "SUCCESS"},
                        },
                    )
                self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})

            def do_GET(self) -> None:
                ngc.user_agents.add(self.headers.get("User-Agent", ""))
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path in ("/token", "/token/token"):  # ngcsdk appends /token to NGC_CLI_AUTH_URL
                    return self._token(query)
                if url.path.startswith("/storage/"):
                    return self._storage(url.path)
                public = (match := _RESOURCE.match(url.path)) is not None and match["org"] in ngc.public_orgs
                if public and "Authorization" not in self.headers:
                    ngc.anonymous_requests += 1
                elif not self._authorized():  # checked as the request arrives, before any delay
                    ngc.unauthorized += 1
                    return self.reply_json(401, {"requestStatus": {"statusCode": "UNAUTHORIZED"}})
                if ngc.api_delay:
                    time.sleep(ngc.api_delay)
                if url.path.rstrip("/") == "/v2/orgs":  # ngcsdk checks the configured org with a legacy key
                    orgs = sorted({key.split("/")[0] for key in ngc.resources})
                    return self.reply_json(
                        200,
                        {
                            "organizations": [{"name": o, "displayName": o} for o in orgs],
                            "paginationInfo": {"index": 0, "size": 500, "totalPages": 1, "totalResults": len(orgs)},
                            "requestStatus": {"statusCode": "SUCCESS"},
                        },
                    )
                match = _RESOURCE.match(url.path)
                if not match:
                    return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                org, team, name, rest = match["org"], match["team"], match["name"], match["rest"] or ""
                base = f"{org}/{team}/{name}" if team else f"{org}/{name}"
                if base in ngc.licence_required:
                    return self.reply_json(
                        412,
                        {
                            "requestStatus": {
                                "statusCode": "PRECONDITION_FAILED",
                                "statusDescription": "License terms must be accepted",
                            }
                        },
                    )
                versions = ngc.versions(org, team, name)
                if not versions:
                    return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                if rest == "":
                    latest = max(versions, key=_version_key)
                    return self.reply_json(
                        200,
                        {
                            "recipe": {"name": name, "orgName": org, "teamName": team, "latestVersionIdStr": latest},
                            "requestStatus": {"statusCode": "SUCCESS"},
                        },
                    )
                if rest == "/versions":
                    return self.reply_json(
                        200,
                        {
                            "recipeVersions": [
                                {"versionId": v, "status": self._status(f"{base}:{v}")} for v in versions
                            ],
                            "paginationInfo": {"index": 0, "size": 100, "totalPages": 1, "totalResults": len(versions)},
                            "requestStatus": {"statusCode": "SUCCESS"},
                        },
                    )
                parts = rest.strip("/").split("/")
                if parts[0] == "versions" and len(parts) >= 2:
                    key = f"{base}:{parts[1]}"
                    if key not in ngc.resources:
                        return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                    if len(parts) == 2:
                        files = ngc.resources[key]
                        return self.reply_json(
                            200,
                            {
                                "recipeVersion": {
                                    "versionId": parts[1],
                                    "status": self._status(key),
                                    "totalSizeInBytes": sum(map(len, files.values())),
                                },
                                "requestStatus": {"statusCode": "SUCCESS"},
                            },
                        )
                    if parts[2:] == ["files"]:
                        return self._file_list(key, query)
                if len(parts) == 2 and parts[1] == "files" and f"{base}:{parts[0]}" in ngc.resources:
                    return self._signed_urls(f"{base}:{parts[0]}", query)
                self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})

            def _status(self, key: str) -> str:
                return ngc.status.get(key, "UPLOAD_COMPLETE")

            def _page(self, query: dict[str, list[str]]) -> tuple[int, int]:
                return int(query.get("page-number", ["0"])[0]), int(query.get("page-size", [str(PAGE_SIZE)])[0])

            def _file_list(self, key: str, query: dict[str, list[str]]) -> None:
                page, size = self._page(query)
                size = min(size, PAGE_SIZE)
                paths = sorted(ngc.resources[key])
                chosen = paths[page * size : (page + 1) * size]
                self.reply_json(
                    200,
                    {
                        "recipeFiles": [{"path": p, "sizeInBytes": len(ngc.resources[key][p])} for p in chosen],
                        "paginationInfo": {
                            "index": page,
                            "size": size,
                            "totalPages": -(-len(paths) // size),
                            "totalResults": len(paths),
                        },
                        "requestStatus": {"statusCode": "SUCCESS"},
                    },
                )

            def _signed_urls(self, key: str, query: dict[str, list[str]]) -> None:
                if "path" in query:
                    path = query["path"][0]
                    if path not in ngc.resources[key]:
                        return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                    ngc.path_queries.append(path)
                    return self.reply_json(
                        200, {"urls": [self._signed(key, path)], "requestStatus": {"statusCode": "SUCCESS"}}
                    )
                page, _ = self._page(query)
                paths = sorted(ngc.resources[key])
                chosen = paths[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
                self.reply_json(
                    200,
                    {
                        "filepath": chosen,
                        "urls": ["" if p in ngc.unlisted_urls else self._signed(key, p) for p in chosen],
                        "paginationInfo": {
                            "index": page,
                            "size": PAGE_SIZE,
                            "totalPages": -(-len(paths) // PAGE_SIZE),
                            "totalResults": len(paths),
                        },
                        "requestStatus": {"statusCode": "SUCCESS"},
                    },
                )

            def _signed(self, key: str, path: str) -> str:
                return f"{ngc.url}/storage/{quote(key, safe='')}/{quote(path)}?X-Amz-Signature={secrets.token_hex(8)}"

            def _token(self, query: dict[str, list[str]]) -> None:
                ngc.token_requests += 1
                header = self.headers.get("Authorization", "")
                user, _, password = (
                    base64.b64decode(header[6:]).decode().partition(":")
                    if header.startswith("Basic ")
                    else ("", "", "")
                )
                if query.get("service") != ["ngc"] or user != "$oauthtoken" or password != ngc.legacy_key:
                    return self.reply_json(401, {"requestStatus": {"statusCode": "UNAUTHORIZED"}})
                self.reply_json(200, {"token": ngc.issue_token(), "expires_in": ngc.token_lifetime})

            def _storage(self, path: str) -> None:
                serve_storage(self, ngc, path)

        return Handler


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))
