"""Prometheus metrics of one app, in their own registry, and the middleware that feeds them.

tailor_http_requests_total{method, route, status}     requests answered
tailor_http_request_duration_seconds{method, route}   latency histogram
tailor_events_ingested_total                          events accepted by POST /v1/events
tailor_model_info{version}                            1 for the model version served
Routes are labelled by template (`/v1/users/{user_id}/recommendations`); a request answered before
routing (no such path, a body over the size limit) is labelled `unmatched`, so label values stay few.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tailor.service.logs import RequestLog

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"


class _ModelVersion(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "tailor_model_info", "the model version served (1)", labels=["version"]
        )
        engine = getattr(self.app.state, "engine", None)
        if engine is not None and engine.version is not None:
            family.add_metric([engine.version], 1.0)
        yield family


class Metrics:
    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tailor_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tailor_http_request_duration_seconds",
            "time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_ingested = Counter(
            "tailor_events_ingested", "events accepted through the API", registry=self.registry
        )
        self.registry.register(_ModelVersion(app))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ObserveRequests:
    """ASGI middleware: counts, times and logs every HTTP request once it is answered."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: RequestLog) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            template = route.path if route is not None else UNMATCHED
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(seconds)
            self.log.write(
                method, template, status, seconds, state.get("key_id"), scope.get("path_params", {})
            )
