"""``/metrics`` in the Prometheus text format, from counters the server keeps anyway.

Hot paths only bump plain integers (a broadcast adds its member count); this module reads
them when Prometheus scrapes. Each server has a registry of its own, so two servers in one
process never mix their figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics", "ServerFigures"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ServerFigures:
    """Where the figures come from: each a function read at scrape time."""

    connections: Callable[[], int]
    rooms: Callable[[], int]
    deliveries: Callable[[], int]
    events_in: Callable[[], int]
    published: Callable[[], int]
    rejections: Callable[[], Counter[str]]
    extra: dict[str, Callable[[], int]] = field(default_factory=dict)


class _Figures(Collector):
    def __init__(self, figures: ServerFigures) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self._figures
        yield GaugeMetricFamily(
            "roomcast_connections", "Engine.IO sessions open now.", value=f.connections()
        )
        yield GaugeMetricFamily(
            "roomcast_rooms", "Rooms with at least one connection in them.", value=f.rooms()
        )
        yield CounterMetricFamily(
            "roomcast_events_received",
            "Socket.IO events received from clients.",
            value=f.events_in(),
        )
        yield CounterMetricFamily(
            "roomcast_messages_published",
            "Messages stored and fanned out (member sends, HTTP API, producers).",
            value=f.published(),
        )
        yield CounterMetricFamily(
            "roomcast_deliveries",
            "Broadcast packets handed to connections (one per member per broadcast).",
            value=f.deliveries(),
        )
        rejections = CounterMetricFamily(
            "roomcast_rejections",
            "Requests and connections refused, by error code.",
            labels=["code"],
        )
        for code, count in sorted(f.rejections().items()):
            rejections.add_metric([code], count)
        yield rejections


class Metrics:
    """One server's registry: its figures plus the store's write latency and the bus lag."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.store_write = Histogram(
            "roomcast_store_write_seconds",
            "Time from a message's append to its commit in the store.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.bus_lag = Histogram(
            "roomcast_bus_lag_seconds",
            "Time from a heartbeat's publish on another process to its receipt here, "
            "through the bus (Redis); empty with the local bus.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
            registry=self.registry,
        )

    def watch(self, figures: ServerFigures) -> None:
        """Report ``figures`` from now on."""
        self.registry.register(_Figures(figures))

    def render(self) -> bytes:
        """The Prometheus text of every metric."""
        return generate_latest(self.registry)
