"""bot/channels/metrics.py: prometheus_client metrics, checked with prometheus_client's own parsers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from bot.channels.metrics import LATENCY_BUCKETS, Metrics
from tests.fakes.web_harness import sample, scraped

ROOT = Path(__file__).resolve().parent.parent


def test_requests_are_counted_by_route_and_status() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.request("/slack/commands", 200)
    metrics.request("/slack/commands", 401)
    metrics.request("other", 404)
    text = metrics.render()
    assert sample(text, "resbot_http_requests_total", route="/slack/commands", status="200") == 3
    assert sample(text, "resbot_http_requests_total", route="/slack/commands", status="401") == 1
    assert sample(text, "resbot_http_requests_total", route="other", status="404") == 1


def test_answers_by_platform_shape_and_outcome_and_unanswered() -> None:
    metrics = Metrics()
    metrics.answer("slack", 0.0002, True, True, "who")
    metrics.answer("slack", 0.0002, True, True, "who")
    metrics.answer("telegram", 0.003, False, True, "when")
    metrics.answer("mattermost", 0.00001, False, False, "invalid")  # empty input: not "unanswered"
    metrics.answer("rocketchat", 0.0004, True, True)  # no kind given
    text = metrics.render()
    assert sample(text, "resbot_answers_total", platform="slack", kind="who", found="true") == 2
    assert sample(text, "resbot_answers_total", platform="telegram", kind="when", found="false") == 1
    assert sample(text, "resbot_answers_total", platform="mattermost", kind="invalid", found="false") == 1
    assert sample(text, "resbot_answers_total", platform="rocketchat", kind="unknown", found="true") == 1
    assert sample(text, "resbot_unanswered_questions_total") == 1


def test_latency_histogram_has_cumulative_buckets_sum_and_count() -> None:
    metrics = Metrics()
    for seconds in (0.00005, 0.0002, 0.0002, 0.004, 30.0):
        metrics.answer("slack", seconds, True, True, "who")
    families = {f.name: f for f in text_string_to_metric_families(metrics.render())}
    histogram = families["resbot_answer_latency_seconds"]
    assert histogram.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in histogram.samples if s.name.endswith("_bucket")}
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    assert buckets["0.0001"] == 1 and buckets["0.00025"] == 3 and buckets["0.005"] == 4
    assert buckets["2.5"] == 4 and buckets["+Inf"] == 5
    values = list(buckets.values())
    assert values == sorted(values)
    text = metrics.render()
    assert sample(text, "resbot_answer_latency_seconds_count") == 5
    assert abs((sample(text, "resbot_answer_latency_seconds_sum") or 0) - 30.00445) < 1e-9


def test_label_values_with_quotes_backslashes_and_newlines_round_trip() -> None:
    metrics = Metrics()
    route = 'a"b\\c\nd'
    metrics.request(route, 200)
    assert sample(metrics.render(), "resbot_http_requests_total", route=route, status="200") == 1


def test_store_fallbacks_are_counted_by_operation() -> None:
    metrics = Metrics()
    metrics.store_error("dedupe")
    metrics.store_error("dedupe")
    metrics.store_error("context_get")
    text = metrics.render()
    assert sample(text, "resbot_store_errors_total", operation="dedupe") == 2
    assert sample(text, "resbot_store_errors_total", operation="context_get") == 1


def test_two_instances_in_one_process_keep_their_own_counts() -> None:
    first, second = Metrics(), Metrics()
    first.request("/healthz", 200)
    first.request("/healthz", 200)
    second.request("/healthz", 200)
    assert sample(first.render(), "resbot_http_requests_total", route="/healthz", status="200") == 2
    assert sample(second.render(), "resbot_http_requests_total", route="/healthz", status="200") == 1


def test_an_empty_registry_still_declares_every_family() -> None:
    names = {f.name for f in text_string_to_metric_families(Metrics().render())}
    assert {"resbot_http_requests", "resbot_answer_latency_seconds", "resbot_answers",
            "resbot_unanswered_questions", "resbot_store_errors"} <= names


def test_openmetrics_is_served_when_asked_for() -> None:
    metrics = Metrics()
    metrics.answer("slack", 0.0002, False, True, "where")
    body, content_type = metrics.exposition("application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    families = {f.name: f for f in openmetrics_families(body.decode())}
    answers = families["resbot_answers"]
    assert [(s.labels, s.value) for s in answers.samples if s.name == "resbot_answers_total"] == [
        ({"platform": "slack", "kind": "where", "found": "false"}, 1.0)]
    plain, plain_type = metrics.exposition("text/html")
    assert plain_type == "text/plain; version=0.0.4; charset=utf-8"
    assert plain.decode() == metrics.render()


def record(metrics: Metrics) -> None:
    """One request, three answers (found, not found, unusable) and a store fallback."""
    metrics.request("/slack/commands", 200)
    metrics.store_error("dedupe")
    metrics.answer("slack", 0.0003, True, True, "who")
    metrics.answer("slack", 0.002, False, True, "when")
    metrics.answer("mattermost", 0.00001, False, False, "invalid")


RECORD = """
import json, sys
from bot.channels.metrics import Metrics
from tests.test_metrics import record
metrics = Metrics()
for _ in range(int(sys.argv[1])):
    record(metrics)
print(json.dumps(metrics.render()))
"""


def test_multiprocess_mode_sums_over_processes_with_the_same_series(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(count: int) -> str:
        done = subprocess.run([sys.executable, "-c", RECORD, str(count)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=True)
        return str(json.loads(done.stdout))

    run(2)
    shared = run(3)  # the second process serves both processes' counts
    assert len(list(tmp_path.glob("*.db"))) >= 2
    assert sample(shared, "resbot_http_requests_total", route="/slack/commands", status="200") == 5
    assert sample(shared, "resbot_answers_total", platform="slack", kind="when", found="false") == 5
    assert sample(shared, "resbot_unanswered_questions_total") == 5
    assert sample(shared, "resbot_store_errors_total", operation="dedupe") == 5
    assert sample(shared, "resbot_answer_latency_seconds_count") == 15
    assert sample(shared, "resbot_answer_latency_seconds_bucket", le="0.0005") == 10
    local = Metrics()
    for _ in range(5):
        record(local)
    assert scraped(shared).keys() == scraped(local.render()).keys()
    assert scraped(shared) == pytest.approx(scraped(local.render()))
