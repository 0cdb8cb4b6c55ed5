"""Loading through the API: POST /api/v1/events with an app's ingest key, and
`rawexport load` whether or not a server owns the data directory."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.api.conftest import Api, OverHttp, Service
from tests.api.jobs import NOW, submit, wait_done
from tests.conftest import RAWEXPORT, Account, LiveServer

NOW_MS = NOW * 1000  # the jobs export [NOW - 1 h, NOW)
LINES = b"".join(
    json.dumps({"event": "tr", "devtodev ID": i, "time": NOW_MS - 1000, "step": 2}).encode() + b"\n"
    for i in range(1, 4)
)


def post(server: Api, app_id: str, key: str, body: bytes, **params: str) -> httpx.Response:
    return server.client.post(
        "/api/v1/events",
        params={"app_id": app_id, **params},
        headers={"X-Ingest-Key": key},
        content=body,
    )


def test_events_posted_with_the_ingest_key_are_exported(shared_service: Service) -> None:
    server = shared_service
    acc = server.account()
    key = server.cli("app", "create", "--space", acc.space_id, "other")["ingest_key"]
    assert post(server, acc.app_id, key, LINES).status_code == 401  # another app's key
    own = server.cli("token", "reset", acc.user_id)["user_token"]
    assert post(server, acc.app_id, own, LINES).status_code == 401  # a user token is not a key
    third = server.cli("app", "create", "--space", acc.space_id, "third")
    server.cli("app", "grant", acc.user_id, third["app_id"])
    answer = post(server, third["app_id"], third["ingest_key"], LINES)
    assert answer.json() == {"status_code": 200, "data": {"rows": {"tr": 3}, "total": 3}}
    job = submit(server, Account(acc.space_id, acc.user_id, own, third["app_id"]))
    assert wait_done(server, own, job).status_code == 201


def test_a_bad_line_is_named_and_nothing_is_stored(shared_service: Service) -> None:
    server = shared_service
    acc = server.account()
    bad = LINES + b'{"event": "tr", "devtodev ID": "seven", "time": 1}\n'
    answer = post(server, acc.app_id, server.cli("token", "reset", acc.user_id)["user_token"], bad)
    assert answer.status_code == 401
    created = server.cli("app", "create", "--space", acc.space_id, "k2")
    answer = post(server, created["app_id"], created["ingest_key"], bad)
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["msg"].startswith("upload.jsonl:4: ")
    server.cli("app", "grant", acc.user_id, created["app_id"])
    fresh = server.cli("token", "reset", acc.user_id)["user_token"]
    job = submit(server, Account(acc.space_id, acc.user_id, fresh, created["app_id"]))
    assert wait_done(server, fresh, job).status_code == 200  # empty: nothing was stored


def test_an_upload_of_many_blocks_arrives_whole_and_leaves_no_file(shared_service: Service) -> None:
    server = shared_service
    acc = server.account()
    created = server.cli("app", "create", "--space", acc.space_id, "big")
    count = 40_000  # about 3 MB: several of the blocks an upload is written in
    body = b"".join(
        json.dumps({"event": "tr", "devtodev ID": i, "time": NOW_MS - i, "step": i % 9}).encode()
        + b"\n"
        for i in range(1, count + 1)
    )
    assert len(body) > 2 * (1 << 20)
    answer = post(server, created["app_id"], created["ingest_key"], body)
    assert answer.json() == {"status_code": 200, "data": {"rows": {"tr": count}, "total": count}}
    uploads = f"rawexport-upload-{os.getpid()}-"  # the service runs in this process
    assert not [p for p in Path(tempfile.gettempdir()).iterdir() if p.name.startswith(uploads)]


def test_csv_upload_and_size_limit(start_service: Callable[..., Service]) -> None:
    server = start_service(max_ingest_bytes=200)
    acc = server.account()
    created = server.cli("app", "create", "--space", acc.space_id, "csv")
    csv = f"event,devtodev ID,time,step\ntr,1,{NOW_MS - 5},3\n".encode()
    ok = post(server, created["app_id"], created["ingest_key"], csv, format="csv")
    assert ok.json()["data"]["total"] == 1
    big = post(server, created["app_id"], created["ingest_key"], LINES * 5)
    assert big.status_code == 400 and big.json()["status_code"] == 400
    (error,) = big.json()["errors"]
    assert error["code"] == 3 and "200 bytes" in error["msg"]


def test_load_without_a_server_opens_the_store_itself(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    acc = server.account()
    server.stop()
    events = server.data_dir / "events.jsonl"
    events.write_bytes(LINES)
    loaded = server.cli("load", "--app", acc.app_id, str(events))
    assert loaded == {"rows": {"tr": 3}, "total": 3}
    bad = server.data_dir / "bad.jsonl"
    bad.write_bytes(b'{"event": "tr"}\n')
    failed = subprocess.run(
        [*RAWEXPORT, "load", "--app", acc.app_id, str(bad), "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        env=server.env,
    )
    assert failed.returncode == 1
    assert "bad.jsonl:1:" in failed.stderr and "Traceback" not in failed.stderr
    server.start()
    with OverHttp.of(server) as live:
        assert wait_done(live, acc.token, submit(live, acc)).status_code == 201


def test_times_in_seconds_are_refused_saying_so(shared_service: Service) -> None:
    acc = shared_service.account()
    created = shared_service.cli("app", "create", "--space", acc.space_id, "seconds")
    in_seconds = {"event": "tr", "devtodev ID": 1, "time": 1796000001, "step": 1}
    answer = post(
        shared_service,
        created["app_id"],
        created["ingest_key"],
        LINES + json.dumps(in_seconds).encode(),
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["code"] == 5
    assert error["msg"].startswith("upload.jsonl:4: 'time' is 1796000001, UNIX seconds")
    assert "UNIX milliseconds expected" in error["msg"]


def test_an_app_id_with_a_nul_is_unauthorised(
    metadata_url: str, start_service: Callable[..., Service]
) -> None:
    service = start_service(database_url=metadata_url)
    answer = post(service, "app\x00", "admin", LINES)  # the admin key: the app is looked up
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (401, 11)
