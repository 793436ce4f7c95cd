"""Plain HTTP on the relay's port: static files and the handshake gate.

``make_process_request`` builds the websockets ``process_request`` hook. Upgrade
requests to ``/relay`` pass; ``/relay/yws/<space>/<collection>/<doc_id>?token=…``
passes only when the gate admits the token for that document (403 otherwise, 401
for an expired token, 500 when the ``--auth`` hook failed: refused before any data
flows); any other upgrade is 404. Plain GETs are answered from ``static_root`` when one
is given, so ``build.py serve`` hosts the app and the relay on one port, by the rules
every server of a bundle follows (``yloft.app.runtime``: content types, headers).

Example:
    >>> parse_yws_path("/relay/yws/team/notes/n%201")
    ('team', 'notes', 'n 1')
    >>> _safe_relative("/app/index.html"), _safe_relative("/%2e%2e/etc"), _safe_relative("/%00")
    ('app/index.html', None, None)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from yloft.app.runtime import HEADERS, content_type
from yloft.sync.closecodes import CloseCode

from .auth import Gate, Grant, Refused
from .metrics import Metrics

log = logging.getLogger("yloft_relay")

SPACE_PATHS = ("/relay", "/relay/")
YWS_PREFIX = "/relay/yws/"

ProcessRequest = Callable[[ServerConnection, Request], Awaitable[Response | None]]


def parse_yws_path(path: str) -> tuple[str, str, str] | None:
    """``(space, collection, doc_id)`` of a y-websocket room path, else None."""
    url = urlsplit(path).path
    if not url.startswith(YWS_PREFIX):
        return None
    parts = url[len(YWS_PREFIX) :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    space, collection, doc_id = (unquote(p) for p in parts)
    if not all(0 < len(x.encode()) <= 256 for x in (space, collection, doc_id)):
        return None
    return space, collection, doc_id


def query_token(path: str) -> str:
    """The ``token`` query parameter of a request path ('' if absent)."""
    values = parse_qs(urlsplit(path).query).get("token", [""])
    return values[0]


MAX_PATH_BYTES = 1024
"""Longer request paths cannot name a file we serve (400)."""


def _safe_relative(path: str) -> str | None:
    """The decoded path relative to the static root, or None when it cannot name a file.

    Refused: NUL and other control characters, backslashes, empty segments (``//``),
    ``.`` and ``..`` segments (also percent-encoded), names over 255 bytes, paths over
    ``MAX_PATH_BYTES``. What is left is resolved and checked to stay inside the root.
    """
    raw = urlsplit(path).path
    if len(raw) > MAX_PATH_BYTES:
        return None
    try:
        rel = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in rel) or "\\" in rel:
        return None
    parts = rel.split("/")[1:] if rel.startswith("/") else None
    if parts is None:
        return None
    if parts and parts[-1] == "":
        parts.pop()  # a trailing slash names a directory (its index.html)
    for part in parts:
        if part in ("", ".", "..") or len(part.encode()) > 255:
            return None
    return "/".join(parts)


def _file_response(root: Path, path: str) -> Response:
    rel = _safe_relative(path)
    if rel is None:
        return _text(HTTPStatus.BAD_REQUEST, "this path cannot name a file")
    base = root.resolve()
    try:
        target = (base / rel).resolve()
        if target != base and base not in target.parents:
            return _text(HTTPStatus.NOT_FOUND, "not found")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return _text(HTTPStatus.NOT_FOUND, "not found")
        body = target.read_bytes()
    except (OSError, ValueError):  # e.g. a name the file system refuses
        return _text(HTTPStatus.NOT_FOUND, "not found")
    headers = Headers(HEADERS)
    headers["Content-Type"] = content_type(target.name)
    headers["Content-Length"] = str(len(body))
    return Response(200, "OK", headers, body)


def _text(status: HTTPStatus, text: str) -> Response:
    body = f"{text}\n".encode()
    headers = Headers()
    headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    return Response(status.value, status.phrase, headers, body)


def make_process_request(
    gate: Gate,
    static_root: Path | None,
    metrics: Metrics | None = None,
    on_room_grant: Callable[[ServerConnection, Grant], None] | None = None,
) -> ProcessRequest:
    """The ``process_request`` hook: gate for rooms, health and metrics, static files.

    A room's grant goes to ``on_room_grant`` (the session enforces it).
    """

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        url = urlsplit(request.path).path
        if metrics is not None and not upgrade and url == "/metrics":
            body = metrics.render()
            headers = Headers()
            headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
            headers["Content-Length"] = str(len(body))
            return Response(200, "OK", headers, body)
        if metrics is not None and not upgrade and url == "/healthz":
            ok, reason = metrics.health()
            return _text(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, reason)
        if upgrade:
            if url in SPACE_PATHS:
                return None
            room = parse_yws_path(request.path)
            if room is None:
                return _text(HTTPStatus.NOT_FOUND, "no such relay endpoint")
            try:
                grant = await gate.admit(room[0], query_token(request.path), room[1], room[2])
            except Refused as exc:
                log.warning("refusing room %s/%s/%s: %s", *room, exc.reason)
                expired = exc.code == CloseCode.TOKEN_EXPIRED
                return _text(HTTPStatus.UNAUTHORIZED if expired else HTTPStatus.FORBIDDEN,
                             exc.reason)  # fmt: skip
            except Exception:
                log.exception("the --auth hook failed for room %s/%s/%s", *room)
                return _text(HTTPStatus.INTERNAL_SERVER_ERROR, "the relay's auth check failed")
            if on_room_grant is not None:
                on_room_grant(connection, grant)
            return None
        if url in SPACE_PATHS or url.startswith(YWS_PREFIX):
            return _text(HTTPStatus.UPGRADE_REQUIRED, "this is a websocket endpoint")
        if static_root is None:
            return _text(HTTPStatus.NOT_FOUND, "this relay serves no static files")
        return _file_response(static_root, request.path)

    return process_request
