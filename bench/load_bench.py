"""Loading speed: `load_file` on JSON lines against a straightforward baseline, same run.

    .venv/bin/python bench/load_bench.py [--events N]

The events are the demo game's (all thirteen standard tables and custom events with
parameters). Loading the demo first also starts the fork server of the parallel path (files of
16 MB and more, about 130,000 events), so the load measured is that of a running process.
The baseline parses with the standard `json` module, checks nothing, and inserts
each table's rows as one `INSERT ... VALUES` statement built in Python: the obvious way to get
JSON into ClickHouse from Python without staging.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rawexport.demo.generator import generate_demo
from rawexport.domain import catalog
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.store import EventStore, ensure_schema, load_file, open_store, table_name
from rawexport.store.sql import quote_identifier, quote_string

__all__: list[str] = []


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, dict):
        return (
            "map(" + ", ".join(f"{quote_string(k)}, {_literal(v)}" for k, v in value.items()) + ")"
        )
    return repr(value)


def baseline_load(store: EventStore, app_id: str, path: Path) -> int:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open() as lines:
        for line in lines:
            event = json.loads(line)
            if event["event"] not in catalog.STANDARD_EVENTS:
                event["params"] = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in event.get("params", {}).items()
                }
            rows[event["event"]].append(event)
    for event_id, events in rows.items():
        table = catalog.STANDARD_EVENTS.get(event_id, catalog.CUSTOM_TABLE)
        for event in events:
            event["time"] = (
                event.pop("date", None)
                or event.get("time")
                or (event.get("install_date", 0) * 1000)
            )
            if table is catalog.CUSTOM_TABLE:
                continue
            event.pop("event")
        names = sorted({k for e in events for k in e})
        values = ", ".join(
            "(" + ", ".join([quote_string(app_id)] + [_literal(e.get(n)) for n in names]) + ")"
            for e in events
        )
        columns = ", ".join(map(quote_identifier, ["app_id", *names]))
        store.execute(f"INSERT INTO {table_name(table)} ({columns}) VALUES {values}")
    return sum(len(v) for v in rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        store = open_store(f"chdb://{work / 'store'}")
        ensure_schema(store)
        users = max(10, args.events // 35)  # the demo makes about 35 events per player
        ledger = BatchLedger(connect(f"sqlite:///{work / 'meta.sqlite3'}"), lease_s=60)
        stats = generate_demo(store, "setup", ledger=ledger, users=users, days=30, workdir=work)
        events = work / "demo-events.jsonl"  # left behind by the demo: load it again, twice
        started = time.perf_counter()
        report = load_file(store, "bench", events, ledger=ledger)
        ours = report.total / (time.perf_counter() - started)
        started = time.perf_counter()
        count = baseline_load(store, "baseline", events)
        base = count / (time.perf_counter() - started)
        store.close()
    print(f"events: {stats.events:,} in {events.name}")
    print(f"load_file (orjson, validated, staged): {ours:,.0f} events/s")
    print(f"baseline (json, unchecked, INSERT VALUES): {base:,.0f} events/s")
    verdict = "met" if ours >= 200_000 else "NOT met"
    print(f"ratio: {ours / base:.1f}x; target >= 200,000 events/s: {verdict}")


if __name__ == "__main__":
    main()
