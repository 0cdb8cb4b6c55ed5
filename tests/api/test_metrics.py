"""`/metrics`: scraped from an in-process service while a job waits and once it is done, the
values move as the job, the requests, the download, the uploads and a quota refusal happen; no
token or id ever becomes a label."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from rawexport.export.engine import run_export
from rawexport.observability.exposition import start_metrics_server
from rawexport.workers.pool import WorkerPool
from tests.api.conftest import LENIENT, Service
from tests.api.jobs import API, post_setjob, rows, submit, wait_done

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(service: Service) -> tuple[str, Samples]:
    answer = service.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text, parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def upload(service: Service, app_id: str, lines: list[dict[str, object]]) -> httpx.Response:
    return service.client.post(
        "/api/v1/events",
        params={"app_id": app_id},
        headers={"X-Ingest-Key": "admin"},
        content="".join(json.dumps(line) + "\n" for line in lines),
    )


def test_metrics_move_during_and_after_a_job(start_service: Callable[..., Service]) -> None:
    # No workers at first: the job waits, so the queue is seen with it in it.
    service = start_service(**{**LENIENT, "workers": 0, "min_job_interval_s": 3600})
    acc, decoy = service.account(), service.account()
    service.load(decoy.app_id, rows() * 3)  # another app's rows: never exported
    _, before = scrape(service)

    assert upload(service, acc.app_id, rows()).status_code == 200
    bad = upload(service, acc.app_id, [{"event": "tr", "devtodev ID": 1, "time": "soon"}])
    assert bad.status_code == 400
    job_id = submit(service, acc)
    assert post_setjob(service, acc).json()["errors"][0]["code"] == 20  # too soon
    _, waiting = scrape(service)
    assert value(waiting, "rawexport_queue_depth") == 1
    assert value(waiting, "rawexport_jobs", state="pending") == 1
    assert value(waiting, "rawexport_jobs", state="complete") == 0
    assert value(waiting, "rawexport_oldest_pending_job_age_seconds") >= 0
    loaded = value(waiting, "rawexport_loaded_rows_total") - value(
        before, "rawexport_loaded_rows_total"
    )
    assert loaded == len(rows())
    rejected = "rawexport_rejected_files_total"
    assert value(waiting, rejected) - value(before, rejected) == 1
    refusals = "rawexport_quota_refusals_total"
    assert value(waiting, refusals, code="20") - value(before, refusals, code="20") == 1

    settings = dataclasses.replace(service.runtime.settings, workers=1)
    runtime = service.runtime
    pool = WorkerPool(runtime.jobs, runtime.store, runtime.reports, settings, run_export)
    pool.start()
    try:
        done = wait_done(service, acc.token, job_id)
    finally:
        pool.stop()
    assert done.status_code == 201
    url = done.json()["data"]["result"]["url"]
    assert service.client.get(url).status_code == 200
    text, after = scrape(service)

    assert value(after, "rawexport_queue_depth") == 0
    assert value(after, "rawexport_jobs", state="complete") == 1
    assert value(after, "rawexport_oldest_pending_job_age_seconds") == 0
    for name in ("rawexport_export_rows", "rawexport_export_bytes", "rawexport_export_seconds"):
        assert value(after, f"{name}_count") - value(before, f"{name}_count") == 1
    exported = value(after, "rawexport_export_rows_sum") - value(
        before, "rawexport_export_rows_sum"
    )
    assert exported == len(rows())  # the decoy app's rows are not counted
    assert value(after, "rawexport_export_bytes_sum") > value(before, "rawexport_export_bytes_sum")
    downloads = "rawexport_downloads_total"
    assert value(after, downloads) - value(before, downloads) == 1

    requests, latency = "rawexport_http_requests_total", "rawexport_http_request_seconds_count"
    progress = {"route": f"{API}/getprogress", "method": "GET"}
    assert value(after, requests, **progress, code="201") > value(
        before, requests, **progress, code="201"
    )
    assert value(after, latency, **progress) > value(before, latency, **progress)
    setjob = {"route": f"{API}/setjob", "method": "POST"}
    assert (
        value(after, requests, **setjob, code="429") - value(before, requests, **setjob, code="429")
        == 1
    )
    for secret in (acc.token, job_id, acc.app_id):
        assert secret not in text


def test_an_unknown_path_is_one_label_whatever_it_holds(
    start_service: Callable[..., Service],
) -> None:
    service = start_service(workers=0)
    for n in range(3):
        service.client.get(f"/nowhere/{n}", params={"user_token": f"secret-{n}"})
    text, samples = scrape(service)
    assert (
        value(samples, "rawexport_http_requests_total", route="unmatched", method="GET", code="404")
        >= 3
    )
    assert "secret-" not in text and "/nowhere/" not in text


def test_metrics_path_moves_or_turns_off(start_service: Callable[..., Service]) -> None:
    moved = start_service(workers=0, metrics_path="/internal/prometheus")
    assert moved.client.get("/metrics").status_code == 404
    assert "rawexport_queue_depth" in moved.client.get("/internal/prometheus").text
    off = start_service(workers=0, metrics_path="")
    assert off.client.get("/metrics").status_code == 404


def test_a_worker_process_serves_metrics_on_its_port(start_service: Callable[..., Service]) -> None:
    service = start_service(workers=0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = start_metrics_server(port, lambda: service.runtime.engine)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        stop()
    samples = parse(answer.text)
    assert value(samples, "rawexport_queue_depth") == 0
    assert ("rawexport_jobs", frozenset({("state", "running")})) in samples
