"""A webhook receiver on loopback: a real HTTP server in a thread that records every request and
answers with the statuses it is told to, in turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Received", "Receiver", "running_receiver"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        """Answers to give, first to last; 200 once they run out."""
        self.location = ""
        """The `Location` of a redirect answer."""
        self._changed = threading.Condition()
        self.url = ""

    def record(self, request: Received) -> int:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
            return self.statuses.pop(0) if self.statuses else 200

    def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        """The first `count` requests, once they have arrived; fails at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} requests, {count} expected")
                self._changed.wait(left)
            return self.requests[:count]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        status = self.server.receiver.record(received)
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", self.server.receiver.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver()
    server.receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
