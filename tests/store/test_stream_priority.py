"""Streamed queries, the exports', run nicer than the others when the store is opened so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rawexport.store import EventStore, open_store

_PRIORITY = "SELECT getSetting('os_thread_priority')"


@pytest.fixture(params=["chdb", "clickhouse"])
def nicer_store(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    """The session's store of each backend, opened again with streams 7 steps nicer."""
    if request.param == "chdb":
        url = request.getfixturevalue("chdb_store").url  # one embedded directory a process
    else:
        url = request.getfixturevalue("clickhouse_url")
    store = open_store(url, stream_nice=7)
    yield store
    store.close()


def test_streamed_queries_carry_the_priority_and_others_do_not(nicer_store: EventStore) -> None:
    with nicer_store.stream(_PRIORITY, None, "CSV") as streamed:
        assert b"".join(streamed) == b"7\n"
    assert nicer_store.rows(_PRIORITY) == [(0,)]


def test_without_a_priority_streams_run_as_the_rest(event_store: EventStore) -> None:
    with event_store.stream(_PRIORITY, None, "CSV") as streamed:
        assert b"".join(streamed) == b"0\n"
