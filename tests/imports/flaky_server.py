"""A local threaded HTTP server on 127.0.0.1 that plays a flaky data source and a fake CKAN catalog."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/csv; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the answer
    drip: float | None = None  # seconds between single bytes of the body
    redirect_to: str | None = None
    stream_bytes: int | None = None  # a body of this many bytes, sent without Content-Length
    send_length: bool = True


@dataclass
class FlakyServer:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ckan: dict[str, Any] = field(default_factory=dict)  # dataset id -> package_show result
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)


def _handler(state: FlakyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path, _, query = self.path.partition("?")
            state.hits.append((path, {k.lower(): v for k, v in self.headers.items()}))
            if path == "/api/3/action/package_show":
                ident = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("id", "")
                if ident in state.ckan:
                    self._send(
                        200, json.dumps({"success": True, "result": state.ckan[ident]}).encode(), "application/json"
                    )
                else:
                    body = {"success": False, "error": {"message": "Not found", "__type": "Not Found Error"}}
                    self._send(404, json.dumps(body).encode(), "application/json")
                return
            route = state.routes.get(path)
            if route is None:
                self._send(404, b"not found", "text/plain")
                return
            if route.delay:
                time.sleep(route.delay)
            if route.redirect_to:
                self.send_response(302)
                self.send_header("Location", route.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.status != 200:
                self._send(route.status, b"<html><body>Interner Fehler</body></html>", "text/html")
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self._send(304, b"", None)
                return
            if route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified:
                self._send(304, b"", None)
                return
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            if route.stream_bytes is not None:
                self.end_headers()
                line = b"a;b\n" + b"1;2\n" * 16383
                sent = 0
                try:
                    while sent < route.stream_bytes:
                        self.wfile.write(line)
                        sent += len(line)
                except OSError:
                    pass  # the client stopped reading
                return
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.drip is not None:
                    for i in range(len(route.body)):
                        self.wfile.write(route.body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(route.drip)
                else:
                    self.wfile.write(route.body)
            except OSError:
                pass

        def _send(self, status: int, body: bytes, content_type: str | None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler


@contextmanager
def flaky_server() -> Iterator[FlakyServer]:
    state = FlakyServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)
