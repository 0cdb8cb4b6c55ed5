"""`rawexport pull` against the real server, through click's test runner."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from click.testing import CliRunner, Result

from rawexport.cli.pull import pull
from rawexport.client import Client
from rawexport.client.download import archive_name

from .conftest import Loaded, load_tutorial

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def run_pull(
    loaded: Loaded, output: Path, *args: str, token: str | None = None, url: str | None = None
) -> Result:
    window = ["--from", str(loaded.start), "--to", str(loaded.end)]
    return CliRunner().invoke(
        pull,
        [
            "--url",
            url or loaded.server.url,
            "--app",
            loaded.account.app_id,
            "-o",
            str(output),
            *window,
            *args,
        ],
        env={"RAWEXPORT_TOKEN": token or loaded.account.token},
    )


def test_pull_extracts_the_report_and_prints_its_files(tutorial: Loaded, tmp_path: Path) -> None:
    result = run_pull(tutorial, tmp_path / "out", "--event", "tr")
    assert result.exit_code == 0, result.stderr
    extracted = {p.name for p in (tmp_path / "out").iterdir()} - {"manifest.json"}
    assert extracted == {"tr.csv", "users.csv"}
    tr_lines = (tmp_path / "out" / "tr.csv").read_text().splitlines()
    assert len(tr_lines) == 1 + len(tutorial.rows)
    assert "tr.csv" in result.stdout and "2,000" in result.stdout
    assert "users.csv" in result.stdout and "50" in result.stdout
    assert "job " in result.stderr


def test_pull_in_another_format(tutorial: Loaded, tmp_path: Path) -> None:
    result = run_pull(tutorial, tmp_path, "--event", "tr", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert len((tmp_path / "tr.jsonl").read_text().splitlines()) == len(tutorial.rows)


def test_an_empty_window_exits_0_and_writes_nothing(tutorial: Loaded, tmp_path: Path) -> None:
    before = dataclasses.replace(tutorial, start=tutorial.start - 3600, end=tutorial.start)
    result = run_pull(before, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "Unfortunately" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_wrong_token_exits_3(tutorial: Loaded, tmp_path: Path) -> None:
    result = run_pull(tutorial, tmp_path, token="wrong-token")
    assert result.exit_code == 3
    assert "[11]" in result.stderr


def test_a_used_daily_quota_exits_5_with_the_time_to_retry(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server(RAWEXPORT_MIN_JOB_INTERVAL_S="0", RAWEXPORT_JOBS_PER_DAY_USER="1")
    loaded = load_tutorial(server, server.account(), 10)
    assert run_pull(loaded, tmp_path / "first").exit_code == 0
    result = run_pull(loaded, tmp_path / "second")
    assert result.exit_code == 5
    assert "[18]" in result.stderr and "Retry at" in result.stderr


def test_an_unreachable_server_exits_6(tutorial: Loaded, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = run_pull(tutorial, tmp_path / "out", url=f"http://127.0.0.1:{port}")
    assert result.exit_code == 6
    assert "network error" in result.stderr


def test_a_when_without_offset_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        pull,
        [
            "--url",
            "http://127.0.0.1:9",
            "--token",
            "t",
            "--app",
            "a",
            "-o",
            str(tmp_path),
            "--from",
            "2026-11-01T10:00",
            "--to",
            "2026-11-02",
        ],
    )
    assert result.exit_code == 2
    assert "no UTC offset" in result.stderr


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(pull, ["--help"])
    assert result.exit_code == 0
    for code in range(7):
        if code == 1:
            continue
        assert f"  {code}  " in result.stdout
    assert "RAWEXPORT_TOKEN" in result.stdout


def test_job_finishes_a_stopped_pull_without_a_new_job(tutorial: Loaded, tmp_path: Path) -> None:
    server, account = tutorial.server, tutorial.account
    with Client(server.url, account.token) as client:
        job = client.set_job(account.app_id, tutorial.start, tutorial.end, ["tr"])
        link = client.wait(job).link
    assert link is not None
    whole = httpx.get(link.url)  # the one whole download; resumes are not counted
    # What a pull killed half-way through its download leaves in -o DIR.
    output = tmp_path / "out"
    output.mkdir()
    part = output / f"{archive_name(job)}.part"
    part.write_bytes(whole.content[: len(whole.content) // 2])
    (output / f"{archive_name(job)}.part.etag").write_text(whole.headers["etag"])

    result = CliRunner().invoke(
        pull,
        ["--url", server.url, "--job", job, "-o", str(output)],
        env={"RAWEXPORT_TOKEN": account.token},
    )

    assert result.exit_code == 0, result.stderr
    assert {p.name for p in output.iterdir()} == {"tr.csv", "users.csv"}  # no .part left
    assert len((output / "tr.csv").read_text().splitlines()) == 1 + len(tutorial.rows)
    shown = server.cli("job", "show", job)
    assert shown["downloads"] == 1  # the download resumed: the server sent only the rest
    assert [j["id"] for j in server.cli("job", "list")["jobs"]].count(job) == 1


def test_without_job_the_window_is_required(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        pull, ["--url", "http://127.0.0.1:9", "--token", "t", "--app", "a", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--app, --from and --to are needed unless --job" in result.stderr


def test_the_apis_own_url_works_as_the_server_root(tutorial: Loaded, tmp_path: Path) -> None:
    api = f"{tutorial.server.url}/api/v1/rawexport/"
    result = run_pull(tutorial, tmp_path / "out", "--event", "tr", url=api)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "tr.csv").exists()


def test_a_url_without_the_api_says_what_url_is_expected(tutorial: Loaded, tmp_path: Path) -> None:
    result = run_pull(tutorial, tmp_path / "out", url=f"{tutorial.server.url}/somewhere/else")
    assert result.exit_code == 4
    assert "HTTP 404" in result.stderr and "server root" in result.stderr


def test_relative_times_select_the_last_hours(tutorial: Loaded, tmp_path: Path) -> None:
    args = ["--url", tutorial.server.url, "--app", tutorial.account.app_id, "--event", "tr"]
    args += ["--from", "2h", "--to", "now", "-o", str(tmp_path)]
    result = CliRunner().invoke(pull, args, env={"RAWEXPORT_TOKEN": tutorial.account.token})
    assert result.exit_code == 0, result.stderr
    assert len((tmp_path / "tr.csv").read_text().splitlines()) == 1 + len(tutorial.rows)
