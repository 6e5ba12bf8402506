"""benchmarks/webhook.py: reading wrk's output, placing the processes, judging the targets (no load runs)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.channels.security import SlackVerifier

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/slack/commands
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.12ms    1.01ms  25.07ms   97.81%
    Req/Sec     6.31k   201.10     6.70k    71.00%
  Latency Distribution
     50%    9.88ms
     75%   10.41ms
     90%   11.02ms
     99%  812.00us
  62843 requests in 10.01s, 47.11MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   6278.43
Transfer/sec:      4.71MB
"""


@pytest.fixture(scope="module")
def webhook() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "webhook.py"
    spec = importlib.util.spec_from_file_location("bench_webhook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_webhook"] = module
    spec.loader.exec_module(module)
    return module


def test_wrk_output_is_read_with_units_and_every_error_kind(webhook: ModuleType) -> None:
    run = webhook.parse_wrk(WRK_OUTPUT)
    assert run.rps == pytest.approx(6278.43)
    assert run.p50 == pytest.approx(9.88) and run.p99 == pytest.approx(0.812)
    assert run.requests == 62843
    assert run.errors == 4 + 2 + 3


def test_the_request_is_a_valid_signed_slash_command(webhook: ModuleType) -> None:
    body, headers = webhook.request_for(webhook.ANSWERS)
    verifier = SlackVerifier(webhook.SECRET, clock=lambda: float(headers["X-Slack-Request-Timestamp"]))
    assert verifier.verify(headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], body)
    assert b"text=when+is+World+Day%3F" in body and b"response_url" not in body
    assert webhook.request_for(webhook.CEILING) == (b"", {})


def test_lua_script_sends_the_fixed_request(webhook: ModuleType) -> None:
    script = webhook.lua_script(webhook.ANSWERS)
    assert 'wrk.method = "POST"' in script and "X-Slack-Signature" in script


def test_server_and_generator_get_separate_cpus(webhook: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    monkeypatch.setattr(webhook.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("RESBOT_BENCH_PIN", raising=False)
    where = webhook.placement()
    assert where.server == ("taskset", "-c", "0") and where.generator == ("taskset", "-c", "1,2")
    assert where.generator_cpus == 2 and webhook.wrk_threads(16, where.generator_cpus) == 2
    monkeypatch.setenv("RESBOT_BENCH_PIN", "0")
    assert webhook.placement().server == ()
    monkeypatch.delenv("RESBOT_BENCH_PIN")
    monkeypatch.setattr(webhook.os, "sched_getaffinity", lambda pid: {0})
    assert webhook.placement() == webhook.Placement((), (), 1, "unpinned")


def test_table_takes_medians_and_judges_each_target(webhook: ModuleType) -> None:
    run = webhook.Run
    results = {
        (webhook.CEILING.name, 16): [run(10_000, 1.0, 4.0, 0, 100_000, 100), run(9_000, 1.0, 5.0, 0, 90_000, 110),
                                     run(11_000, 1.0, 3.0, 0, 110_000, 90)],
        (webhook.ANSWERS.name, 16): [run(7_000, 2.0, 6.0, 0, 70_000, 140)] * 3,
        (webhook.CEILING.name, 64): [run(10_000, 6.0, 12.0, 0, 100_000, 100)] * 3,
        (webhook.ANSWERS.name, 64): [run(5_000, 12.0, 30.0, 1, 50_000, 200)] * 3,
    }
    where = webhook.Placement((), (), 2, "unpinned")
    text = webhook.table(results, "wrk", where, {"VmRSS": 122 * 1024, "VmHWM": 122 * 1024}, {})
    assert "| `/slack/commands (answers)` | 16 | 7,000 | 2.0 ms | 6.0 ms | 140 µs | 0 | 70% | 1.5x |" in text
    assert "| 50% (lower of the two) | **not met** |" in text
    assert "| 2.5x | **not met** |" in text
    assert "| 3 of 960,000 requests | **not met** |" in text
    assert "122 MiB after start" in text
