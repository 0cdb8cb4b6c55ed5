"""Loading again: `rawexport load` reports and skips a file loaded before, `--force` loads it;
an upload retried with the same `Idempotency-Key` is skipped whatever its bytes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.cli.conftest import Operator
from tests.conftest import RAWEXPORT, LiveServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(data_dir: Path, app_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RAWEXPORT, "load", "--app", app_id, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_file_loaded_before_is_skipped_unless_forced(operator: Operator) -> None:
    studio = operator.json("space", "create", "Studio")["space_id"]
    app_id = operator.json("app", "create", "--space", studio, "game")["app_id"]
    events = str(EXAMPLES / "events.jsonl")

    first = load(operator.data_dir, app_id, events, "--json")
    again = load(operator.data_dir, app_id, events, "--json")
    forced = load(operator.data_dir, app_id, events, "--json", "--force")

    assert first.returncode == again.returncode == forced.returncode == 0, again.stderr
    loaded = json.loads(first.stdout)["total"]
    assert loaded > 0 and json.loads(forced.stdout)["total"] == loaded
    assert json.loads(again.stdout) == {"rows": {}, "total": 0, "skipped": ["events.jsonl"]}
    printed = load(operator.data_dir, app_id, events)
    assert f"{events}: already loaded on " in " ".join(printed.stderr.split())
    assert "--force loads it again" in printed.stderr


def test_an_upload_retried_with_its_idempotency_key_is_stored_once(server: LiveServer) -> None:
    account = server.account()
    url = f"{server.url}/api/v1/events"
    key = json.loads((server.data_dir / "server.json").read_text())["admin_key"]

    def upload(body: bytes, **query: str) -> dict[str, object]:
        answer = httpx.post(
            url,
            params={"app_id": account.app_id, **query},
            headers={"X-Ingest-Key": key, "Idempotency-Key": "batch-1"},
            content=body,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        data: dict[str, object] = answer.json()["data"]
        return data

    line = b'{"event":"win","devtodev ID":1,"time":1700000000000}\n'
    assert upload(line) == {"rows": {"win": 1}, "total": 1}
    retried = upload(line + line)  # whatever the bytes, the key says it is the same batch
    assert retried["total"] == 0 and str(retried["already_loaded_on"]).endswith(" UTC")
    assert upload(line, force="1") == {"rows": {"win": 1}, "total": 1}
