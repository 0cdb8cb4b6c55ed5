"""What a metrics endpoint serves: the process's metrics and the job table's, read at scrape time.

The API serves it on its own port at `metrics_path`; a `rawexport worker` process, which has no
HTTP server, on `metrics_port` with prometheus_client's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from rawexport.observability.queue_metrics import QueueCollector

__all__ = ["exposition_registry", "start_metrics_server"]


class _Process(Collector):
    """The process-wide metrics of the default registry, inside another registry."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition_registry(engine: Callable[[], Engine]) -> CollectorRegistry:
    """A registry per endpoint: the default one is the process's, and one process may serve
    several apps (the tests do), each with its own database."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    registry.register(QueueCollector(engine))
    return registry


def start_metrics_server(port: int, engine: Callable[[], Engine]) -> Callable[[], None]:
    """Serve the metrics on `port` (all interfaces) from a daemon thread; returns its stop."""
    server, thread = start_http_server(port, registry=exposition_registry(engine))

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop
