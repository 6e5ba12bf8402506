"""In-process Prometheus metrics: requests by route and status, answer latency, unanswered count."""

from __future__ import annotations

import bisect
from collections import Counter

LATENCY_BUCKETS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)


def _label(value: str) -> str:
    """Escape a Prometheus label value."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and one histogram, rendered in the Prometheus text exposition format."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self._requests: Counter[tuple[str, int]] = Counter()
        self._buckets = buckets
        self._bucket_counts = [0] * len(buckets)
        self._latency_sum = 0.0
        self._latency_count = 0
        self._unanswered: Counter[str] = Counter()
        self._answers: Counter[str] = Counter()
        self._store_errors: Counter[str] = Counter()

    def request(self, route: str, status: int) -> None:
        """Count one finished HTTP request."""
        self._requests[(route, status)] += 1

    def answer(self, platform: str, seconds: float, found: bool, usable: bool) -> None:
        """Record one answered question and how long the core took."""
        index = bisect.bisect_left(self._buckets, seconds)
        if index < len(self._bucket_counts):
            self._bucket_counts[index] += 1
        self._latency_sum += seconds
        self._latency_count += 1
        self._answers[platform] += 1
        if usable and not found:
            self._unanswered[platform] += 1

    def store_error(self, operation: str) -> None:
        """Count one state-store operation that fell back (Redis failed or was marked down)."""
        self._store_errors[operation] += 1

    def render(self) -> str:
        """The Prometheus text format for everything recorded so far."""
        lines = [
            "# HELP resbot_http_requests_total HTTP requests by route and status.",
            "# TYPE resbot_http_requests_total counter",
        ]
        for (route, status), count in sorted(self._requests.items()):
            lines.append(
                f'resbot_http_requests_total{{route="{_label(route)}",status="{status}"}} {count}')
        lines += self._render_histogram()
        lines += [
            "# HELP resbot_answers_total Questions answered, by platform.",
            "# TYPE resbot_answers_total counter",
        ]
        for platform, count in sorted(self._answers.items()):
            lines.append(f'resbot_answers_total{{platform="{_label(platform)}"}} {count}')
        lines += [
            "# HELP resbot_unanswered_questions_total Questions the resolution does not answer.",
            "# TYPE resbot_unanswered_questions_total counter",
            f"resbot_unanswered_questions_total {sum(self._unanswered.values())}",
            "# HELP resbot_store_errors_total State-store operations that fell back, by operation.",
            "# TYPE resbot_store_errors_total counter",
        ]
        for operation, count in sorted(self._store_errors.items()):
            lines.append(f'resbot_store_errors_total{{operation="{_label(operation)}"}} {count}')
        return "\n".join(lines) + "\n"

    def _render_histogram(self) -> list[str]:
        """The answer latency histogram lines, with cumulative buckets."""
        name = "resbot_answer_latency_seconds"
        lines = [f"# HELP {name} Time the answer core took per question.",
                 f"# TYPE {name} histogram"]
        running = 0
        for bound, count in zip(self._buckets, self._bucket_counts, strict=True):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {self._latency_count}')
        lines.append(f"{name}_sum {self._latency_sum:.6f}")
        lines.append(f"{name}_count {self._latency_count}")
        return lines
