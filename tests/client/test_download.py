"""The I/O-free parts of a download: ranges, totals, names and the final ZIP check."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest

from rawexport.client.download import (
    PartFile,
    archive_name,
    body_start,
    expected_total,
    request_headers,
)
from rawexport.client.errors import CorruptReport, NotFound, ProtocolError


def test_request_headers_ask_for_the_rest_without_compression() -> None:
    assert request_headers(0) == {"Accept-Encoding": "identity"}
    assert request_headers(0, '"e1"') == {"Accept-Encoding": "identity"}
    assert request_headers(500) == {"Accept-Encoding": "identity", "Range": "bytes=500-"}
    assert request_headers(500, '"e1"') == {
        "Accept-Encoding": "identity",
        "Range": "bytes=500-",
        "If-Range": '"e1"',
    }


def test_a_206_continues_where_asked() -> None:
    response = httpx.Response(206, headers={"Content-Range": "bytes 500-999/1000"})
    assert body_start(response, 500) == 500
    assert expected_total(response, 500) == 1000


def test_a_206_elsewhere_is_refused() -> None:
    response = httpx.Response(206, headers={"Content-Range": "bytes 0-999/1000"})
    with pytest.raises(ProtocolError):
        body_start(response, 500)


def test_a_200_to_a_range_request_starts_over() -> None:
    response = httpx.Response(200, headers={"Content-Length": "1000"})
    assert body_start(response, 500) == 0
    assert expected_total(response, 0) == 1000


def test_an_expired_report_raises_not_found() -> None:
    body = b'{"status_code":404,"errors":[{"code":21,"msg":"File not found."}]}'
    with pytest.raises(NotFound):
        body_start(httpx.Response(404, content=body), 0)


def test_archive_name_keeps_a_job_id_inside_the_directory() -> None:
    assert archive_name("3f2a-77") == "rawexport-3f2a-77.zip"
    assert archive_name("../../etc/passwd") == "rawexport-______etc_passwd.zip"


def test_publish_renames_a_good_archive(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "r.zip")
    with zipfile.ZipFile(part.path, "w") as zf:
        zf.writestr("tr.csv", "devtodev ID,time\n1,2\n")
    assert part.publish() == tmp_path / "r.zip"
    assert not part.path.exists()
    assert zipfile.ZipFile(tmp_path / "r.zip").read("tr.csv") == b"devtodev ID,time\n1,2\n"


def test_publish_refuses_and_removes_a_corrupt_archive(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "r.zip")
    with zipfile.ZipFile(part.path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("tr.csv", "devtodev ID,time\n1,2\n")
    data = bytearray(part.path.read_bytes())
    data[data.index(b"1,2")] = ord("7")  # payload no longer matches its CRC
    part.path.write_bytes(bytes(data))
    with pytest.raises(CorruptReport, match=r"tr\.csv"):
        part.publish()
    assert not part.path.exists() and not (tmp_path / "r.zip").exists()


def test_publish_refuses_a_truncated_file(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "r.zip")
    part.path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CorruptReport, match="not a ZIP"):
        part.publish()


def test_open_at_keeps_the_bytes_before_the_offset(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "r.zip")
    part.path.write_bytes(b"abcdefgh")
    with part.open_at(3, '"e1"') as out:
        out.write(b"XY")
    assert part.path.read_bytes() == b"abcXY"


def test_a_part_is_resumable_only_with_the_etag_of_its_file(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "r.zip")
    assert (part.resume_point(), part.etag()) == (0, None)
    with part.open_at(0, '"e1"') as out:
        out.write(b"abcdefgh")
    assert (part.resume_point(), part.etag()) == (8, '"e1"')
    with part.open_at(0, None) as out:  # a server without ETags: no resume in a later run
        out.write(b"abc")
    assert (part.resume_point(), part.etag()) == (0, None)
