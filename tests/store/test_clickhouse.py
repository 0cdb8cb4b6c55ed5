"""The ClickHouse HTTP backend's own behaviour: its URL, the server's errors, streaming in
bounded memory, pooled connections, reads tried again, the database made when missing."""

from __future__ import annotations

import contextlib
import socket
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from rawexport.store import ClickHouseStore, EventStore, StoreError, ensure_schema
from rawexport.store.clickhouse_url import ServerAddress
from rawexport.store.schema import EVENT_TABLES


class _Relay:
    """A TCP relay to the server that counts connections and can drop requests: it closes a
    connection as a request arrives on it, as a server that goes away does."""

    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        self._target = (parts.hostname or "", parts.port or 8123)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        self.url = f"{parts.scheme}://{parts.username}:{parts.password}@127.0.0.1:{port}"
        self.connections = 0
        self.dropped = 0
        self._to_drop = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_next(self, requests: int) -> None:
        with self._lock:
            self._to_drop = requests

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(self._target)
            for end in (client, server):  # relay each write at once, as a direct link would
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _dropping(self) -> bool:
        with self._lock:
            if self._to_drop == 0:
                return False
            self._to_drop -= 1
            self.dropped += 1
            return True

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                if from_client and self._dropping():
                    break
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def relay(clickhouse_server: str) -> Iterator[_Relay]:
    relay = _Relay(clickhouse_server)
    yield relay
    relay.close()


def test_the_url_gives_the_server_the_database_and_credentials() -> None:
    address = ServerAddress.parse("clickhouses://ana:p%40ss@ch.example:9440/events")
    assert (address.base_url, address.database) == ("https://ch.example:9440", "events")
    assert (address.user, address.password) == ("ana", "p@ss")
    assert address.shown == "clickhouses://ana@ch.example:9440/events"
    assert "p@ss" not in repr(address)
    assert ServerAddress.parse("clickhouse://h/db").base_url == "http://h:8123"
    assert ServerAddress.parse("clickhouses://h/db").base_url == "https://h:8443"


@pytest.mark.parametrize(
    "url",
    ["clickhouse://u:p@host:8123", "clickhouse://u:p@host/a/b", "clickhouse://u:p@host/db?x=1"],
)
def test_a_url_without_a_single_database_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="database") as raised:
        ServerAddress.parse(url)
    assert "u:p" not in str(raised.value)


def test_an_error_carries_the_servers_message_and_code(clickhouse_store: EventStore) -> None:
    with pytest.raises(StoreError) as raised:
        clickhouse_store.rows("SELEC 1")
    assert raised.value.code == 62
    assert str(raised.value).startswith("Code: 62. DB::Exception: Syntax error")
    assert "\n" not in str(raised.value)


def test_wrong_credentials_are_refused_when_the_store_opens(clickhouse_server: str) -> None:
    parts = urlsplit(clickhouse_server)
    url = f"clickhouse://{parts.username}:not-the-key@{parts.netloc.split('@')[1]}/db"
    with pytest.raises(StoreError) as raised:
        ClickHouseStore(url)
    assert raised.value.code == 516  # AUTHENTICATION_FAILED
    assert "not-the-key" not in str(raised.value)


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(StoreError, match="ConnectError") as raised:
        ClickHouseStore(f"clickhouse://u:secret-key@127.0.0.1:{port}/db")
    assert "secret-key" not in str(raised.value)


def test_the_database_is_created_when_missing(clickhouse_server: str) -> None:
    database = f"rawexport_new_{uuid.uuid4().hex[:12]}"
    store = ClickHouseStore(f"{clickhouse_server}/{database}")
    try:
        names = "SELECT name FROM system.databases WHERE name = {name:String}"
        assert store.rows(names, {"name": database}) == [(database,)]
        ensure_schema(store)
        tables = "SELECT count() FROM system.tables WHERE database = {name:String}"
        # the event tables, users and loaded_batches
        assert store.rows(tables, {"name": database}) == [(len(EVENT_TABLES) + 2,)]
    finally:
        store.execute(f"DROP DATABASE `{database}`")
        store.close()


def test_a_large_result_streams_through_bounded_memory(clickhouse_store: EventStore) -> None:
    rows, row_bytes = 100_000, 1003  # "x" * 1000 in quotes and a newline: 100 MB in all
    received = 0
    tracemalloc.start()
    try:
        sql = "SELECT repeat('x', 1000) FROM numbers({rows:UInt64})"
        with clickhouse_store.stream(sql, {"rows": rows}, "CSV") as result:
            for chunk in result:
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == rows * row_bytes
    assert peak < 8 << 20  # a chunk at a time, never the result


def test_statements_share_pooled_connections(relay: _Relay) -> None:
    store = ClickHouseStore(f"{relay.url}/default")
    for n in range(20):
        assert store.rows("SELECT {n:UInt8}", {"n": n}) == [(n,)]
    store.close()
    assert relay.connections == 1


def test_a_read_is_tried_again_when_its_connection_drops(relay: _Relay) -> None:
    store = ClickHouseStore(f"{relay.url}/default")
    relay.drop_next(2)
    assert store.rows("SELECT 1") == [(1,)]
    relay.drop_next(1)
    with store.stream("SELECT 2", None, "CSV") as result:
        assert b"".join(result) == b"2\n"
    assert relay.dropped == 3
    store.close()


def test_a_statement_is_not_sent_again_when_its_connection_drops(relay: _Relay) -> None:
    # It may have run before the connection dropped: running it twice could store rows twice.
    store = ClickHouseStore(f"{relay.url}/default")
    relay.drop_next(1)
    with pytest.raises(StoreError, match="Error"):
        store.execute("SELECT 1")
    assert relay.dropped == 1
    store.close()
