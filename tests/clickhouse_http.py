"""A ClickHouse HTTP endpoint backed by chDB: it stands in for a ClickHouse server in the tests.

No modern ClickHouse server installs on these machines (Debian ships 18.16, too old for this
SQL), so the tests start this endpoint in a process of its own (chDB allows one data directory
per process, and the test process has its embedded store). The SQL is executed by the real
ClickHouse engine, chDB; this module adds exactly the part of ClickHouse's HTTP interface that
`rawexport.store.clickhouse` uses, and nothing more:

- `POST /` with the query as the body, or in the `query` URL parameter (a body then follows the
  query; for `INSERT ... FORMAT F` it is the data, streamed into chDB as it arrives);
- `database`; `param_<name>` for `{name:Type}` placeholders; any other URL parameter is a setting;
- the `X-ClickHouse-User` / `X-ClickHouse-Key` headers, checked on every request;
- results sent as chDB produces them (chunked), never held whole;
- errors as ClickHouse answers them: a non-200 status, the exception text as the body and its
  code in `X-ClickHouse-Exception-Code`; once an answer has begun, the exception text is written
  into the body and the connection is broken off before the body's end.

The fixtures `clickhouse_server` and `clickhouse_url` hand it out to the tests; with
RAWEXPORT_TEST_CLICKHOUSE_URL set (a real server, whose user may create databases) they hand out
that server instead.

Run alone from the repository's root: `python -m tests.clickhouse_http DATA_DIR USER KEY` prints
the port it listens on. (As a module, not a file: run as a file, tests/ would come first on the
path, and tests/http would stand in for the standard library's `http`.)
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb
import pytest

from rawexport.store.chdb_stream import FifoStream
from rawexport.store.clickhouse import ClickHouseStore
from rawexport.store.sql import quote_identifier, quote_string

__all__ = ["StandIn", "clickhouse_server", "clickhouse_url"]

_RESULT = re.compile(r"\s*((?:SELECT|WITH)\b.*?)\s+FORMAT\s+(\w+)\s*;?\s*", re.I | re.S)
_INSERT = re.compile(r"\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*", re.I | re.S)
_CODE = re.compile(r"Code: (\d+)\.")
_STATUS = {60: 404, 62: 400, 81: 404, 516: 403}
"""HTTP status of some exception codes, as ClickHouse sends them; the others get 500."""
_AUTHENTICATION_FAILED = 516
_BLOCK = 1 << 20


class _Sessions:
    """Idle chDB connections by database and settings.

    The current database, settings and query parameters are connection state in chDB, so a
    connection serves one request at a time and is kept for requests that want the same state.
    """

    def __init__(self, data_dir: str) -> None:
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = {}

    @contextmanager
    def connection(self, database: str, settings: dict[str, str]) -> Iterator[Any]:
        key = (database, tuple(sorted(settings.items())))
        with self._lock:
            idle = self._idle.setdefault(key, [])
            conn = idle.pop() if idle else None
        if conn is None:
            conn = chdb.connect(self._data_dir)  # type: ignore[no-untyped-call]
            try:
                for name, value in settings.items():
                    conn.query(f"SET {quote_identifier(name)} = {quote_string(value)}", "Null")
                conn.query(f"USE {quote_identifier(database)}", "Null")
            except BaseException:
                conn.close()
                raise
        try:
            yield conn
        finally:
            with self._lock:
                self._idle[key].append(conn)


class _Body:
    """The request body, read as it is consumed (Content-Length or chunked)."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._rfile = handler.rfile
        self._chunked = handler.headers.get("Transfer-Encoding", "").lower() == "chunked"
        self._left = int(handler.headers.get("Content-Length") or 0)
        self.drained = not self._chunked and self._left == 0

    def __iter__(self) -> Iterator[bytes]:
        if self._chunked:
            while size := int(self._rfile.readline().split(b";")[0], 16):
                yield self._rfile.read(size)
                self._rfile.readline()  # the CRLF after the chunk
            while self._rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
        while self._left:
            block = self._rfile.read(min(self._left, _BLOCK))
            if not block:
                raise ConnectionError("the body ended early")
            self._left -= len(block)
            yield block
        self.drained = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = _Body(self)
        try:
            self._handle(body)
        except RuntimeError as error:  # chDB raises ClickHouse's exception text
            self._refuse(str(error))
        finally:
            if not body.drained:
                self.close_connection = True  # what is left of the body is not a request

    def _handle(self, body: _Body) -> None:
        url = urlsplit(self.path)
        if url.path != "/":
            raise RuntimeError(f"Code: 1. DB::Exception: no handler for {url.path}")
        if not self._authorised():
            raise RuntimeError(
                f"Code: {_AUTHENTICATION_FAILED}. DB::Exception: Authentication failed:"
                " password is incorrect, or there is no user with such name."
            )
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        query = args.pop("query", None)
        database = args.pop("database", "default")
        params = {k.removeprefix("param_"): v for k, v in args.items() if k.startswith("param_")}
        # A query's mark is not session state: connections are not kept per mark.
        mark = args.pop("log_comment", None) or uuid.uuid4().hex
        settings = {k: v for k, v in args.items() if not k.startswith("param_")}
        insert = _INSERT.fullmatch(query) if query is not None else None
        with self.server.sessions.connection(database, settings) as conn:
            if insert is not None:
                self._insert(conn, insert[1], insert[2], body)
                return
            text = b"".join(body).decode()  # a query: small
            self._query(conn, f"{query}\n{text}" if query else text, params, mark)

    def _insert(self, conn: Any, into: str, fmt: str, body: _Body) -> None:
        with conn.send_insert(into, fmt) as inserter:
            for chunk in body:
                inserter.append(chunk)
            inserter.finish()
        self._send(b"")

    def _query(self, conn: Any, sql: str, params: dict[str, str], mark: str) -> None:
        result = _RESULT.fullmatch(sql)
        if result is None:  # not a SELECT: a statement, or a small answer (DESCRIBE, SHOW)
            self._send(conn.query(sql, "TabSeparated", params=params).bytes())
            return

        def produce(path: str) -> int:
            into = (
                f"{result[1]} INTO OUTFILE {quote_string(path)} APPEND FORMAT {result[2]}"
                f" SETTINGS log_comment = {quote_string(mark)}"
            )
            rows: int = conn.query(into, "Null", params=params).rows_read()
            return rows

        with FifoStream(produce, partial(self._cancel, mark)) as stream:
            self._stream(iter(stream))

    def _cancel(self, mark: str) -> None:
        with self.server.sessions.connection("default", {}) as conn:
            kill = "KILL QUERY WHERE Settings['log_comment'] = {mark:String} ASYNC"
            conn.query(kill, "Null", params={"mark": mark})

    def _authorised(self) -> bool:
        user = self.headers.get("X-ClickHouse-User", "")
        key = self.headers.get("X-ClickHouse-Key", "")
        return hmac.compare_digest(user, self.server.user) & hmac.compare_digest(
            key, self.server.key
        )

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, chunks: Iterator[bytes]) -> None:
        """Send `chunks` as they come; until the first, a failure is still an error status."""
        first = next(chunks, b"")
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self._chunk(first)
            for chunk in chunks:
                self._chunk(chunk)
        except OSError:  # the client left; closing the stream stops the query
            self.close_connection = True
            return
        except RuntimeError as error:
            self._chunk(f"{error}\n".encode())
            self.close_connection = True  # no final chunk: the client sees the body broken off
            return
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:  # an empty chunk would end the body
            self.wfile.write(b"%x\r\n" % len(data))
            self.wfile.write(data)
            self.wfile.write(b"\r\n")

    def _refuse(self, text: str) -> None:
        found = _CODE.search(text)
        code = int(found[1]) if found else 1
        data = f"{text}\n".encode()
        self.send_response(_STATUS.get(code, 500))
        self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every request would be a line on stderr


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data_dir: str, user: str, key: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sessions = _Sessions(data_dir)
        self.user = user
        self.key = key


ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "tests.clickhouse_http"]
"""Starts the endpoint in a process of its own, with ROOT as the working directory."""


class StandIn:
    """The endpoint running in a child process over a fresh data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.user = "rawexport_test"
        key = secrets.token_hex(8)
        self._log = data_dir / "stand-in.log"
        with self._log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self._process = subprocess.Popen(
                [*COMMAND, str(data_dir / "chdb"), self.user, key],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self.pid = self._process.pid
        assert self._process.stdout is not None
        port = self._process.stdout.readline().strip()  # printed once it listens
        if not port:
            self.stop()
            raise RuntimeError(f"the ClickHouse stand-in did not start: {self._log.read_text()}")
        self.url = f"clickhouse://{self.user}:{key}@127.0.0.1:{int(port)}"
        """The server's URL, without a database."""

    def stop(self) -> None:
        self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`clickhouse://USER:KEY@HOST:PORT` of a ClickHouse server for this session (see above)."""
    configured = os.environ.get("RAWEXPORT_TEST_CLICKHOUSE_URL")
    if configured:
        parts = urlsplit(configured)
        yield f"{parts.scheme}://{parts.netloc}"
        return
    stand_in = StandIn(tmp_path_factory.mktemp("clickhouse"))
    yield stand_in.url
    stand_in.stop()


@pytest.fixture(scope="session")
def clickhouse_url(clickhouse_server: str) -> Iterator[str]:
    """The URL of a database of its own on the session's ClickHouse server, made by the first
    store that opens it and dropped at the end."""
    database = f"rawexport_test_{uuid.uuid4().hex[:12]}"
    yield f"{clickhouse_server}/{database}"
    store = ClickHouseStore(f"{clickhouse_server}/{database}")
    store.execute(f"DROP DATABASE IF EXISTS {quote_identifier(database)}")
    store.close()


def _serve(data_dir: str, user: str, key: str) -> None:
    server = _Server(data_dir, user, key)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
