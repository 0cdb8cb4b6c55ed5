"""Loading a large JSON-lines file on every core: the same result as reading it in one piece."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rawexport.domain import catalog
from rawexport.meta.batches import BatchLedger
from rawexport.store import EventStore, LoadError, load_file, table_name
from rawexport.store.loading import load as load_module
from rawexport.store.loading.parallel import line_ranges

T0 = 1_700_000_000_000
_EVENTS = 60_000  # about 9 MB: each worker's range spans several read blocks


def _event(i: int) -> dict[str, Any]:
    if i % 3 == 0:
        params = {"stars": i % 4, "mode": "hard", "won": i % 2 == 0, "ratio": i / 8}
        return {"event": "levelComplete", "devtodev ID": i, "time": T0 + i, "params": params}
    if i % 3 == 1:
        spent = {"Coins": i, "Gems": i / 4}
        return {"event": "lu", "devtodev ID": i, "time": T0 + i, "level": i % 50, "spent": spent}
    return {"event": "gs", "devtodev ID": i, "time": T0 + i, "count": 1, "isTester": False}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture
def big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for i in range(_EVENTS):
            out.write(json.dumps(_event(i)) + ("\n\n" if i == 100 else "\n"))  # a blank line
    # The file is over a few read blocks; let it take the parallel path without being larger.
    monkeypatch.setattr(load_module, "PARALLEL_BYTES", path.stat().st_size // 2)
    assert len(line_ranges(path, 2)) == 2
    return path


def _stored(store: EventStore, app_id: str, table: catalog.Table, columns: str) -> list[Any]:
    return store.rows(
        f"SELECT {columns} FROM {table_name(table)} WHERE app_id = {{a:String}} ORDER BY time",
        {"a": app_id},
    )


def test_a_valid_file_round_trips(
    ledger: BatchLedger, event_store: EventStore, app_id: str, big_file: Path
) -> None:
    report = load_file(event_store, app_id, big_file, ledger=ledger)
    assert report.rows == {"levelComplete": 20_000, "lu": 20_000, "gs": 20_000}
    events = [_event(i) for i in range(_EVENTS)]
    custom = _stored(event_store, app_id, catalog.CUSTOM_TABLE, "`devtodev ID`, time, params")
    assert custom == [
        (e["devtodev ID"], e["time"], {k: _text(v) for k, v in e["params"].items()})
        for e in events
        if e["event"] == "levelComplete"
    ]
    lu = _stored(event_store, app_id, catalog.STANDARD_EVENTS["lu"], "time, level, spent")
    assert lu == [(e["time"], e["level"], e["spent"]) for e in events if e["event"] == "lu"]
    gs = _stored(event_store, app_id, catalog.STANDARD_EVENTS["gs"], "time, count, isTester")
    assert gs == [(e["time"], 1, False) for e in events if e["event"] == "gs"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"event": "gs", "devtodev ID": 1, "time": 1, "count": 1, "isTester": 0}', "'isTester'"),
        (
            '{"event": "gs", "devtodev ID": 9223372036854775808, "time": 1, "count": 1, '
            '"isTester": false}',
            "'devtodev ID' must be an integer",
        ),
        (
            '{"event": "lu", "devtodev ID": 1, "time": 1, "level": 1, "spent": {"Coins": "5"}}',
            "'spent' must be an object of {currency: number}",
        ),
        ("{nope", "not valid JSON"),
    ],
)
def test_a_bad_line_near_the_end_is_named_and_nothing_is_stored(
    ledger: BatchLedger,
    event_store: EventStore,
    app_id: str,
    big_file: Path,
    bad: str,
    message: str,
) -> None:
    lines = big_file.read_text().splitlines()
    lines[-3] = bad  # events of the same shape came before: the check must still see it
    big_file.write_text("\n".join(lines))  # and the last line has no line end
    with pytest.raises(LoadError) as caught:
        load_file(event_store, app_id, big_file, source_name="big.jsonl", ledger=ledger)
    assert (caught.value.line, caught.value.more) == (len(lines) - 2, ())
    assert str(caught.value).startswith(f"big.jsonl:{len(lines) - 2}: ")
    assert message in str(caught.value)
    for table in (catalog.CUSTOM_TABLE, *catalog.STANDARD_EVENTS.values()):
        assert _stored(event_store, app_id, table, "time") == []


def test_ranges_start_at_line_starts(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"a\n" * 10 + b"a very long line\nlast")
    ranges = line_ranges(path, 4)
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert len(ranges) > 1
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    data = path.read_bytes()
    assert all(data[start - 1 : start] == b"\n" for start, _ in ranges[1:])


_DEEP_TMPDIR_LOAD = """
import sys
from pathlib import Path
from rawexport.store.loading.parallel import validate_in_parallel

if __name__ == "__main__":
    path = Path(sys.argv[1])
    print(validate_in_parallel(path, path.parent, lambda table, chunk: None).counts)
"""


def test_a_tmpdir_too_deep_for_worker_processes_validates_in_one(tmp_path: Path) -> None:
    # The fork server's socket lives in TMPDIR and its path may have at most 107 bytes.
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(_event(i)) + "\n" for i in range(300)))
    script = tmp_path / "deep_load.py"
    script.write_text(_DEEP_TMPDIR_LOAD)

    done = subprocess.run(
        [sys.executable, str(script), str(events)],
        env={**os.environ, "TMPDIR": str(deep)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "validating events.jsonl in one process: AF_UNIX path too long" in done.stderr
    assert done.stdout.strip() == str({"levelComplete": 100, "lu": 100, "gs": 100})
