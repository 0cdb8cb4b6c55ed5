"""What every report store promises, checked on a local directory and on S3 (a moto server).

Publish whole or not at all, read back byte for byte by any range, delete, and leave nothing
behind from a writer that failed or died.
"""

from __future__ import annotations

import hashlib
import random
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from rawexport.reports import LocalReportStore, ReportStore, open_reports
from rawexport.reports.s3 import S3ReportStore
from rawexport.reports.s3_upload import MIN_PART_SIZE
from tests.reports.peek import age_leftovers, die_mid_write, leftovers, stored_keys

MB = 1 << 20
KEY = "0b5a3c1e-0000-4000-8000-000000000001.zip"


@pytest.fixture
def reports(report_store_url: str) -> ReportStore:
    return open_reports(report_store_url)


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def publish(reports: ReportStore, key: str, data: bytes, chunk: int = 64 * 1024) -> None:
    with reports.writer(key) as out:
        for at in range(0, len(data), chunk):
            out.write(data[at : at + chunk])
        out.commit()


def read_all(reports: ReportStore, key: str) -> bytes:
    report = reports.open(key)
    assert report is not None
    return b"".join(report.read(0, report.size - 1))


def test_a_committed_report_reads_back_whole_and_by_range(reports: ReportStore) -> None:
    data = payload(3 * MB + 12345)
    began = time.time()
    publish(reports, KEY, data)

    report = reports.open(KEY)
    assert report is not None
    assert report.size == len(data)
    assert report.etag.startswith('"') and report.etag.endswith('"')
    assert began - 5 <= report.last_modified <= time.time() + 5
    assert read_all(reports, KEY) == data
    for start, end in [(0, 0), (10, 99), (MB - 1, 2 * MB + 7), (len(data) - 1, len(data) - 1)]:
        assert b"".join(report.read(start, end)) == data[start : end + 1]
    with pytest.raises(ValueError, match="not within"):
        report.read(0, len(data))


def test_the_etag_names_the_object_not_the_reader(reports: ReportStore) -> None:
    publish(reports, KEY, b"first version")
    first = reports.open(KEY)
    again = open_reports(reports.url).open(KEY)  # as another API node would see it
    publish(reports, KEY, b"second version, longer")
    second = reports.open(KEY)

    assert first is not None and again is not None and second is not None
    assert first.etag == again.etag
    assert second.etag != first.etag


def test_nothing_is_visible_before_commit(reports: ReportStore) -> None:
    with reports.writer(KEY) as out:
        out.write(b"PK partial")
        assert reports.open(KEY) is None
        out.commit()
    assert read_all(reports, KEY) == b"PK partial"


class _DiskOnFire(Exception):
    pass


def test_an_error_mid_write_leaves_no_object_and_no_pending_upload(reports: ReportStore) -> None:
    with pytest.raises(_DiskOnFire), reports.writer(KEY) as out:
        out.write(payload(2 * MIN_PART_SIZE + 3))  # parts already uploaded on S3
        raise _DiskOnFire

    assert reports.open(KEY) is None
    assert stored_keys(reports) == [] and leftovers(reports) == []


def test_leaving_without_commit_aborts(reports: ReportStore) -> None:
    with reports.writer(KEY) as out:
        out.write(b"never published")

    assert reports.open(KEY) is None
    assert stored_keys(reports) == [] and leftovers(reports) == []


def test_delete_removes_the_report_and_tolerates_one_already_gone(reports: ReportStore) -> None:
    publish(reports, KEY, b"short-lived")
    reports.delete(KEY)
    reports.delete(KEY)

    assert reports.open(KEY) is None
    assert stored_keys(reports) == []


def test_leftovers_of_a_dead_writer_are_removed_once_old_and_unused(
    reports: ReportStore,
) -> None:
    dead_key, live_key = KEY, KEY.replace("1.zip", "2.zip")
    die_mid_write(reports, dead_key, payload(MIN_PART_SIZE + 1))
    die_mid_write(reports, live_key, payload(MIN_PART_SIZE + 1))
    publish(reports, "published.zip", b"a finished report is never a leftover")
    assert len(leftovers(reports)) == 2

    if isinstance(reports, LocalReportStore):
        # moto answers every upload's Initiated with one fixed date of 2010, so on the S3
        # stand-in no upload is young; real S3 dates them, and the same comparison applies.
        assert reports.remove_leftovers(3600, lambda key: False) == 0  # too young yet
        age_leftovers(reports, 2)
    assert reports.remove_leftovers(1, lambda key: key == live_key) == 1

    assert leftovers(reports) == [live_key]
    assert reports.open(dead_key) is None
    assert read_all(reports, "published.zip").startswith(b"a finished")


def _chunks(total: int, size: int) -> Iterator[bytes]:
    for n in range(total // size):
        yield payload(size, seed=n)


def test_a_large_report_is_written_with_bounded_memory(reports: ReportStore) -> None:
    total, chunk = 40 * MB, MB
    if isinstance(reports, S3ReportStore):
        reports = S3ReportStore(reports.url, part_size=MIN_PART_SIZE)
    written = hashlib.sha256()
    tracemalloc.start()
    try:
        with reports.writer(KEY) as out:
            for block in _chunks(total, chunk):
                written.update(block)
                out.write(block)
                del block
            out.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # One part filling, one uploading, the chunk in hand and boto3's own buffers (measured:
    # 12.2 MiB on S3, 2.1 MiB on a local directory), for a 40 MiB report.
    assert peak < 2 * MIN_PART_SIZE + 4 * MB, f"peak {peak / MB:.1f} MiB"
    report = reports.open(KEY)
    assert report is not None and report.size == total
    read = hashlib.sha256()
    for block in report.read(0, total - 1):
        read.update(block)
    assert read.hexdigest() == written.hexdigest()
    if isinstance(reports, S3ReportStore):
        # A multipart ETag ends with its number of parts: fixed 5 MiB parts make 8 of 40 MiB.
        assert report.etag.endswith(f'-{total // MIN_PART_SIZE}"')
