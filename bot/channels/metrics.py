"""Prometheus metrics of the web app, exposed by prometheus_client from a registry of the app's own.

Requests by route and status, the answer core's latency, answers by platform, question shape
(``Answer.kind``) and found / not found, unanswered questions, and state-store fallbacks. Each ``Metrics`` has its own
``CollectorRegistry``, so several apps in one process (tests, for one) never collide.

One process (the default): the request path only adds to plain integers (as cheap as the
hand-written exposition this replaced; prometheus_client's own Counter and Histogram cost about
2 µs more per answer), and a collector hands them to prometheus_client at scrape time.

Several processes: start every process with ``PROMETHEUS_MULTIPROC_DIR`` naming one empty
folder they can all write. Then the values go to prometheus_client's Counter and Histogram,
which keep them in files there, and ``/metrics`` on any process serves the sum over all
(prometheus_client's multiprocess mode). Both modes expose the same families and labels.
"""

from __future__ import annotations

import bisect
import os
from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = ("resbot_http_requests", "HTTP requests by route and status.", ("route", "status"))
LATENCY = ("resbot_answer_latency_seconds", "Time the answer core took per question.")
ANSWERS = ("resbot_answers", "Questions answered, by platform, question shape (kind) and whether "
           "the resolution answers them (found).", ("platform", "kind", "found"))
UNANSWERED = ("resbot_unanswered_questions", "Questions the resolution does not answer.")
STORE_ERRORS = ("resbot_store_errors", "State-store operations that fell back, by operation.", ("operation",))


def _answer_labels(platform: str, kind: str, found: bool) -> tuple[str, str, str]:
    """The label values of one answer."""
    return platform, kind or "unknown", "true" if found else "false"


class _Shared:
    """prometheus_client's Counter and Histogram, which keep their values in the multiprocess folder."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        # Not registered anywhere: in multiprocess mode the values are read back from the files.
        self._requests = Counter(*REQUESTS, registry=None)
        self._latency = Histogram(*LATENCY, buckets=buckets, registry=None)
        self._answers = Counter(*ANSWERS, registry=None)
        self._unanswered = Counter(*UNANSWERED, registry=None)
        self._store_errors = Counter(*STORE_ERRORS, registry=None)

    def request(self, route: str, status: int) -> None:
        """Count one finished HTTP request."""
        self._requests.labels(route, str(status)).inc()

    def answer(self, platform: str, seconds: float, found: bool, usable: bool, kind: str) -> None:
        """Count one answer and its latency."""
        self._latency.observe(seconds)
        self._answers.labels(*_answer_labels(platform, kind, found)).inc()
        if usable and not found:
            self._unanswered.inc()

    def store_error(self, operation: str) -> None:
        """Count one state-store operation that fell back."""
        self._store_errors.labels(operation).inc()


class Metrics:
    """The app's counters and latency histogram, and their exposition for ``GET /metrics``.

    In one process the counts are plain integers, updated and scraped on the event loop's
    thread only (like everything else in the app); this object is also the collector that
    turns them into metric families when scraped.
    """

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.registry = CollectorRegistry()
        self._buckets = buckets
        self._requests: Tally[tuple[str, int]] = Tally()
        self._answers: Tally[tuple[str, str, bool]] = Tally()
        self._bucket_counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self._latency_sum = 0.0
        self._unanswered = 0
        self._store_errors: Tally[str] = Tally()
        # prometheus_client reads the same variable once, at import, to choose file-backed values.
        folder = os.environ.get(MULTIPROCESS_VARIABLE)
        self._shared = _Shared(buckets) if folder else None
        if folder:
            MultiProcessCollector(self.registry, path=folder)  # type: ignore[no-untyped-call]
        else:
            self.registry.register(self)

    def request(self, route: str, status: int) -> None:
        """Count one finished HTTP request."""
        if self._shared is not None:
            self._shared.request(route, status)
            return
        self._requests[(route, status)] += 1

    def answer(self, platform: str, seconds: float, found: bool, usable: bool, kind: str = "") -> None:
        """Record one answered question: how long the core took, its platform, shape and outcome."""
        if self._shared is not None:
            self._shared.answer(platform, seconds, found, usable, kind)
            return
        self._bucket_counts[bisect.bisect_left(self._buckets, seconds)] += 1
        self._latency_sum += seconds
        self._answers[(platform, kind, found)] += 1
        if usable and not found:
            self._unanswered += 1

    def store_error(self, operation: str) -> None:
        """Count one state-store operation that fell back (Redis failed or was marked down)."""
        if self._shared is not None:
            self._shared.store_error(operation)
            return
        self._store_errors[operation] += 1

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """Everything recorded so far and its content type, in the format the ``Accept`` header asks for.

        Prometheus text format 0.0.4 by default, OpenMetrics when asked for; in multiprocess
        mode the sum over every process.
        """
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type

    def render(self) -> str:
        """The Prometheus text format (0.0.4) as a string."""
        return self.exposition()[0].decode("utf-8")

    def describe(self) -> Iterator[Metric]:
        """The families this collector yields (for the registry's duplicate check)."""
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        """Every family with this process's current values (the registry calls this when scraped)."""
        requests = CounterMetricFamily(*REQUESTS[:2], labels=REQUESTS[2])
        for (route, status), count in sorted(self._requests.items()):
            requests.add_metric((route, str(status)), count)
        yield requests
        yield self._histogram()
        answers = CounterMetricFamily(*ANSWERS[:2], labels=ANSWERS[2])
        for (platform, kind, found), count in sorted(self._answers.items()):
            answers.add_metric(_answer_labels(platform, kind, found), count)
        yield answers
        yield CounterMetricFamily(*UNANSWERED, value=self._unanswered)
        store_errors = CounterMetricFamily(*STORE_ERRORS[:2], labels=STORE_ERRORS[2])
        for operation, count in sorted(self._store_errors.items()):
            store_errors.add_metric((operation,), count)
        yield store_errors

    def _histogram(self) -> HistogramMetricFamily:
        """The latency histogram with cumulative buckets."""
        bounds = [floatToGoString(b) for b in self._buckets] + ["+Inf"]  # type: ignore[no-untyped-call]
        cumulative, running = [], 0
        for bound, count in zip(bounds, self._bucket_counts, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        return HistogramMetricFamily(*LATENCY, buckets=cumulative, sum_value=self._latency_sum)
