"""Stands in for NGC's REST API (api.ngc.nvidia.com), its token service (authn.nvidia.com) and the
pre-signed storage URLs, with the endpoints and shapes ../shared/reference/facts.md records.

Storage refuses any request that carries an Authorization header, so a client that leaks its
token to a signed URL fails loudly. Pages are 0-based and deliberately small.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlparse

from provider_helper.sandbox.httpserver import JsonHandler

PAGE_SIZE = 2


@dataclass
class NgcStandIn:
    personal_key: str
    legacy_key: str
    resources: dict[str, dict[str, bytes]] = field(default_factory=dict)  # "org/team/name:version" -> {path: bytes}
    path_only: set[str] = field(default_factory=set)  # paths listed without a signed URL
    storage_requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.token = secrets.token_urlsafe(16)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ngc = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == "/token":
                    return self._token(query)
                if url.path.startswith("/storage/"):
                    return self._storage(url.path)
                if self.headers.get("Authorization") not in (f"Bearer {ngc.personal_key}", f"Bearer {ngc.token}"):
                    return self.reply_json(401, {"requestStatus": {"statusCode": "UNAUTHORIZED"}})
                parts = url.path.split("/")  # /v2/org/O/team/T/resources/N/versions/V[/files[/path]]
                if len(parts) < 10 or parts[1:3] != ["v2", "org"] or parts[6] != "resources":
                    return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                key = f"{parts[3]}/{parts[5]}/{parts[7]}:{parts[9]}"
                files = ngc.resources.get(key)
                if files is None:
                    return self.reply_json(404, {"requestStatus": {"statusCode": "NOT_FOUND"}})
                if len(parts) == 10:
                    return self.reply_json(200, {"recipeVersion": {"versionId": parts[9], "totalSizeInBytes": sum(map(len, files.values()))},
                                            "requestStatus": {"statusCode": "SUCCESS"}})
                if len(parts) == 11 and parts[10] == "files":
                    page = int(query.get("page-number", ["0"])[0])
                    paths = sorted(files)
                    chosen = paths[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
                    return self.reply_json(200, {
                        "filepath": chosen,
                        "urls": ["" if p in ngc.path_only else f"{ngc.url}/storage/{quote(key, safe='')}/{quote(p)}?sig=x" for p in chosen],
                        "paginationInfo": {"index": page, "size": PAGE_SIZE, "totalPages": -(-len(paths) // PAGE_SIZE)},
                        "requestStatus": {"statusCode": "SUCCESS"},
                    })
                path = unquote("/".join(parts[11:]))
                self.send_response(302)
                self.send_header("Location", f"/storage/{quote(key, safe='')}/{quote(path)}?sig=y")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _token(self, query: dict) -> None:
                header = self.headers.get("Authorization", "")
                user, _, password = base64.b64decode(header[6:]).decode().partition(":") if header.startswith("Basic ") else ("", "", "")
                if query.get("service") != ["ngc"] or user != "$oauthtoken" or password != ngc.legacy_key:
                    return self.reply_json(401, {"requestStatus": {"statusCode": "UNAUTHORIZED"}})
                self.reply_json(200, {"token": ngc.token, "expires_in": 600})

            def _storage(self, path: str) -> None:
                ngc.storage_requests.append(path)
                if self.headers.get("Authorization"):
                    return self.reply_json(400, {"error": "signed URLs take no Authorization header"})
                _, _, key, rest = path.split("/", 3)
                data = ngc.resources[unquote(key)][unquote(rest)]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
