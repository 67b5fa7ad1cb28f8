"""Prometheus metrics: request counts and latency per route, business counters, `/metrics`.

Counting from any domain is one line:

    from consent_service import metrics
    metrics.count("events_dropped", len(dropped), reason="no_consent")

The names and their labels are declared once, in `COUNTERS` below.

gunicorn runs several worker processes, and each one keeps its own counters. With
`PROMETHEUS_MULTIPROC_DIR` set (deploy/gunicorn.conf.py sets it), prometheus_client keeps
every worker's values in a small memory-mapped file there and a scrape adds them all up, so
`/metrics` answers the same whichever worker serves it. When a worker exits (recycled by
`max_requests`, or killed), the master folds its files into one archive file
(`fold_dead_worker`), so the directory does not grow with every recycled worker. Values that
only the database knows (the chain head) are read at scrape time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from consent_service.web.errors import json_error

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
NAMESPACE = "consent"

# The process registry: in multiprocess mode its values live in the mmap files; a single
# process (the Flask development server, tests) reads them from here directly.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

# Upper bounds in seconds. The consent write budget is p99 ≤ 25 ms, so the buckets are dense
# below 50 ms; the slow end catches database lock waits and timeouts.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    registry=PROCESS_REGISTRY,
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching the app to the response leaving it, by route pattern.",
    ["route", "method"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
    registry=PROCESS_REGISTRY,
)


@dataclass(frozen=True)
class _Declared:
    counter: Counter
    labels: tuple[str, ...]


def _counter(name: str, documentation: str, *labels: str) -> _Declared:
    counter = Counter(
        name, documentation, list(labels), namespace=NAMESPACE, registry=PROCESS_REGISTRY
    )
    return _Declared(counter, labels)


# Business counters, by the short name `count()` takes. Another domain that needs a new one
# adds a line here (a counter's name and labels are part of what dashboards depend on).
COUNTERS: dict[str, _Declared] = {
    "decisions": _counter(
        "decisions", "Consent decisions appended to the log, by action.", "action"
    ),
    "decision_replays": _counter(
        "decision_replays",
        "Retries with a known request_id, answered from the log without a new entry.",
    ),
    "events_stored": _counter("analytics_events_stored", "Analytics events stored."),
    "events_dropped": _counter(
        "analytics_events_dropped", "Analytics events not stored, by reason.", "reason"
    ),
    "ideas_received": _counter("ideas_received", "Ideas submitted by citizens."),
}


def count(name: str, amount: int = 1, **labels: str) -> None:
    """Add `amount` to the business counter `name` (see `COUNTERS`) with these labels."""
    declared = COUNTERS[name]
    if set(labels) != set(declared.labels):
        raise ValueError(
            f"counter {name!r} takes the labels {declared.labels}, not {tuple(labels)}"
        )
    if amount <= 0:
        return
    counter = declared.counter.labels(**labels) if labels else declared.counter
    counter.inc(amount)


# ---------------------------------------------------------------- values read at scrape time

DatabaseGauge = Callable[[], float | None]


def register_database_gauge(app: Flask, name: str, documentation: str, read: DatabaseGauge) -> None:
    """Publish `consent_<name>` read from the database at every scrape (None: leave it out)."""
    gauges: dict[str, tuple[str, DatabaseGauge]] = app.extensions.setdefault(
        "metrics_database_gauges", {}
    )
    gauges[name] = (documentation, read)


class _DatabaseCollector(Collector):
    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        gauges: dict[str, tuple[str, DatabaseGauge]] = self.app.extensions.get(
            "metrics_database_gauges", {}
        )
        up = 1.0
        values: list[tuple[str, str, float]] = []
        with self.app.app_context():
            for name, (documentation, read) in gauges.items():
                try:
                    value = read()
                except SQLAlchemyError:
                    # An unreachable database must not hide the request metrics.
                    up = 0.0
                    break
                if value is not None:
                    values.append((name, documentation, value))
        for name, documentation, value in values:
            yield GaugeMetricFamily(f"{NAMESPACE}_{name}", documentation, value=value)
        yield GaugeMetricFamily(
            f"{NAMESPACE}_database_up", "1 when the scrape could read the database.", value=up
        )


# ---------------------------------------------------------------- multiprocess bookkeeping

ARCHIVE_PID = "archive"


@contextlib.contextmanager
def _directory_lock(directory: str, exclusive: bool) -> Iterator[None]:
    """Scrapes read while holding a shared lock; folding a dead worker takes it exclusively.

    Without it a scrape could count a dead worker twice (its own file and the archive
    already holding its values) or miss a file removed under it.
    """
    fd = os.open(os.path.join(directory, "metrics.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fold_dead_worker(directory: str, pid: int) -> None:
    """Add a dead worker's counters and histograms to the archive files and remove its own.

    Called by the gunicorn master when a worker exits (`child_exit`). Counters only grow:
    a worker recycled by `max_requests` must not take its counts with it.
    """
    with _directory_lock(directory, exclusive=True):
        for kind in ("counter", "histogram"):
            dead = Path(directory, f"{kind}_{pid}.db")
            if not dead.exists():
                continue
            archive = Path(directory, f"{kind}_{ARCHIVE_PID}.db")
            sources = [str(dead)] + ([str(archive)] if archive.exists() else [])
            merged = MultiProcessCollector.merge(sources, accumulate=False)
            # Not *.db: a scrape never reads a half-written archive.
            staging = Path(directory, f"{kind}_{ARCHIVE_PID}.staging")
            staging.unlink(missing_ok=True)
            out = MmapedDict(str(staging))
            try:
                for metric in merged:
                    for sample in metric.samples:
                        names = list(sample.labels)
                        key = mmap_key(
                            metric.name,
                            sample.name,
                            names,
                            [sample.labels[n] for n in names],
                            metric.documentation,
                        )
                        out.write_value(key, sample.value, 0.0)
            finally:
                out.close()
            os.replace(staging, archive)
            dead.unlink()


def clear_directory(directory: str) -> None:
    """Remove the files of a previous run (at master start, before any worker exists)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for leftover in [*path.glob("*.db"), *path.glob("*.staging")]:
        leftover.unlink(missing_ok=True)


# ---------------------------------------------------------------- exposition and the view


def exposition(app: Flask) -> bytes:
    """The Prometheus text exposition of every metric, summed over all workers."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(app))
    directory = os.environ.get(MULTIPROCESS_ENV)
    if not directory:
        return generate_latest(PROCESS_REGISTRY) + generate_latest(registry)
    MultiProcessCollector(registry, directory)
    with _directory_lock(directory, exclusive=False):
        return generate_latest(registry)


bp = Blueprint("metrics", __name__)


def _authorised() -> bool:
    token: str | None = current_app.config.get("METRICS_TOKEN")
    if token is None:
        # Without a token only development serves metrics; production hides the route.
        return bool(current_app.config["CONSENT_MODE"] != "production")
    offered = request.headers.get("Authorization", "")
    scheme, _, credentials = offered.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    )


@bp.get("/metrics")
def metrics_page() -> Response:
    if not _authorised():
        if current_app.config.get("METRICS_TOKEN") is None:
            return json_error(404, "not_found", "The requested URL was not found on the server.")
        response = json_error(401, "unauthorised", "Send the metrics token as a bearer token.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    response = Response(body, mimetype="text/plain")
    response.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- request instrumentation


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started: float | None = g.get("metrics_started")
    if started is None:
        return response
    # The rule pattern, never the concrete path: one series per route, not per visitor.
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method if request.method in _METHODS else "other"
    requests, latency = _series(route, method, response.status_code)
    requests.inc()
    latency.observe(time.perf_counter() - started)
    return response


@cache
def _series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The labelled series of one route, method and status (prometheus_client's `labels`
    locks and validates on every call; the set of routes is fixed, so is this cache)."""
    return (
        HTTP_REQUESTS.labels(route=route, method=method, status=str(status)),
        HTTP_LATENCY.labels(route=route, method=method),
    )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
