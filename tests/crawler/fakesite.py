"""A local stand-in for the music sites: an HTTP server on 127.0.0.1 answering from a route table.

    site.route("/api/playlist/list", Reply(json=...), cat="快乐")   # matches ?cat=快乐
    site.route("/api/song/detail/", Reply(status=500), Reply(json=...))  # 500 first, then success

A route matches a GET on its path whose query holds the given parameters; the most specific match
wins. A route's replies are used in turn, the last one over and over. Unrouted paths answer 404,
and /robots.txt allows everything unless routed.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int = 200
    json: object = None
    body: str | bytes | None = None
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0

    def encode(self) -> tuple[bytes, str]:
        if self.json is not None:
            return json.dumps(self.json, ensure_ascii=False).encode("utf-8"), "application/json;charset=UTF-8"
        body = self.body if self.body is not None else ""
        data = body.encode("utf-8") if isinstance(body, str) else body
        guess = "text/html; charset=utf-8" if data.lstrip()[:1] == b"<" else "application/json;charset=UTF-8"
        return data, self.content_type or guess


@dataclass
class Route:
    path: str
    params: dict
    replies: list
    served: int = 0

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class FakeSite:
    def __init__(self):
        self.routes: list[Route] = []
        self.hits: list[tuple[str, dict]] = []
        self.requests: list[dict] = []  # every request: path, params, headers, monotonic time
        self.in_flight = self.max_in_flight = 0  # requests being answered at once (robots.txt aside)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.routes.clear()
            self.hits.clear()
            self.requests.clear()
            self.in_flight = self.max_in_flight = 0

    def route(self, path: str, *replies: Reply, **params) -> Route:
        route = Route(path, {k: str(v) for k, v in params.items()}, list(replies) or [Reply()])
        with self.lock:
            self.routes.append(route)
        return route

    def hits_on(self, path: str) -> list[dict]:
        with self.lock:
            return [params for hit_path, params in self.hits if hit_path == path]

    def times_on(self, path: str) -> list[float]:
        with self.lock:
            return [r["time"] for r in self.requests if r["path"] == path]

    def _match(self, path: str, params: dict, headers: dict) -> Route | None:
        with self.lock:
            self.hits.append((path, params))
            self.requests.append({"path": path, "params": params, "headers": headers, "time": time.monotonic()})
            candidates = [r for r in self.routes if r.path == path
                          and all(params.get(k) == v for k, v in r.params.items())]
            if not candidates:
                return None
            return max(candidates, key=lambda r: len(r.params))

    def _handler(site):  # noqa: N805 - the handler class closes over the site
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                route = site._match(parts.path, params, dict(self.headers.items()))
                counted = parts.path != "/robots.txt"
                if counted:
                    with site.lock:
                        site.in_flight += 1
                        site.max_in_flight = max(site.max_in_flight, site.in_flight)
                try:
                    self._answer(parts, route)
                finally:
                    if counted:
                        with site.lock:
                            site.in_flight -= 1

            def _answer(self, parts, route):
                if route is None:
                    reply = Reply(body="User-agent: *\nDisallow:\n", content_type="text/plain") \
                        if parts.path == "/robots.txt" else Reply(status=404, json={"code": 404, "msg": "not found"})
                else:
                    reply = route.next_reply()
                if reply.delay:
                    time.sleep(reply.delay)
                data, content_type = reply.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):  # quiet
                pass

        return Handler
