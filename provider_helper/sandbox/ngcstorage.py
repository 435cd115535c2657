"""The pre-signed storage URLs of the NGC stand-in: no Authorization header, ``Range`` honoured (unless the
stand-in is told to ignore it), and a connection cut after so many bytes when a test asks for one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from provider_helper.sandbox.httpserver import JsonHandler

if TYPE_CHECKING:
    from provider_helper.sandbox.ngcserver import NgcStandIn


def serve_storage(handler: JsonHandler, ngc: NgcStandIn, path: str) -> None:
    """Answer one storage request for ``path`` (``/storage/{key}/{file}``) on ``handler``'s connection."""
    ngc.storage_requests.append(path)
    if ngc.storage_status != 200:
        return handler.reply_json(ngc.storage_status, {"error": "storage unavailable"})
    if handler.headers.get("Authorization"):
        return handler.reply_json(400, {"error": "signed URLs take no Authorization header"})
    _, _, key, rest = path.split("/", 3)
    data = ngc.resources[unquote(key)][unquote(rest)]
    start, end = 0, len(data)
    ranged = re.match(r"bytes=(\d+)-(\d*)", handler.headers.get("Range", ""))
    if ranged:
        ngc.range_requests.append(f"{unquote(rest)} {ranged[0]}")
    if ranged and ngc.ignore_range:
        ranged = None
    if ranged:
        start = int(ranged[1])
        end = int(ranged[2]) + 1 if ranged[2] else len(data)
    body = data[start:end]
    handler.send_response(206 if ranged else 200)
    if ranged:
        handler.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    cut = ngc.fail_storage_after.pop(unquote(rest), None)
    if cut is not None:
        handler.wfile.write(body[:cut])
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(2)
        return
    handler.wfile.write(body)
