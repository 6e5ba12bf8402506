"""benchmarks/distinct.py: signed requests, the wrk script, the judged targets, a half-second fallback load."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs

from bot.core import Core

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import distinct  # noqa: E402

from bot.channels.security import SlackVerifier  # noqa: E402


def test_every_line_is_a_validly_signed_slash_command_with_its_own_question() -> None:
    questions = ["when is World Day?", "who sponsors it", "Hi, who coordinates ICAT?"]
    lines = distinct.signed_lines(questions, now=1_700_000_000)
    verifier = SlackVerifier(distinct.SECRET, clock=lambda: 1_700_000_000.0)
    for index, (line, question) in enumerate(zip(lines, questions, strict=True)):
        ts, signature, body = line.split("\t")
        assert verifier.verify(ts, signature, body.encode())
        form = parse_qs(body)
        assert form["text"] == [question] and form["user_id"] == [f"U{index:04d}"]
        assert "response_url" not in form


def test_wrk_script_shares_the_file_between_threads_and_reports_wrap_arounds(tmp_path: Path) -> None:
    script = distinct.lua_script(tmp_path / "requests.tsv", 2)
    assert "i % nthreads == id - 1" in script and 'io.write(string.format("wrapped: %d' in script
    assert distinct.wrapped("Requests/sec: 1.0\nwrapped: 3\n") == 3
    assert distinct.wrapped("Requests/sec: 1.0\n") == 0


def test_targets_are_judged_from_the_medians() -> None:
    run, measured = distinct.Run, distinct.Measured
    results = {}
    for connections in distinct.CONNECTIONS:
        results[("ceiling", connections)] = [measured(run(9_000, 1, 3, 0, 90_000, 100))] * 3
        results[(distinct.MEMORY, connections)] = [measured(run(1_300, 9, 20, 0, 13_000, 700))] * 3
        results[(distinct.REDIS, connections)] = [measured(run(1_000, 12, 30, 0, 10_000, 900), 40, 0, 500)] * 3
    text = distinct.table(results, [390.0, 400.0, 430.0], "wrk", distinct.Placement((), (), 1, "unpinned"))
    assert "before each round: 390, 400, 430 µs (median 400 µs)" in text
    assert ("| Redis | `/slack/commands`, distinct | 16 | 1,000 | 12.0 ms | 30.0 ms | 900 µs | 500 µs | 40 µs | 0 | 0 |"
            in text)
    assert "| 700 µs ≤ 700 µs? | met |" in text
    assert "| 77% (lower of the two) | **not met** |" in text
    assert "| 0 of 678,000 requests | met |" in text


def test_core_time_per_answer_comes_from_two_metrics_readings() -> None:
    assert distinct.per_answer_us((1.0, 100), (1.5, 1_100)) == 500.0
    assert distinct.per_answer_us((1.0, 100), (1.0, 100)) == 0.0


def test_latency_totals_are_read_from_the_servers_own_exposition() -> None:
    from bot.channels.metrics import Metrics

    metrics = Metrics()
    metrics.answer("slack", 0.25, True, True, "fact")
    metrics.answer("slack", 0.5, False, True, "none")
    body, _ = metrics.exposition(None)
    assert distinct.latency_totals(body.decode()) == (0.75, 2)


def test_the_servers_config_is_the_projects_with_the_memo_off(tmp_path: Path) -> None:
    from bot.config import load_config

    config = load_config(distinct.unmemoised_config(tmp_path), environ={})
    project = load_config(environ={})
    assert config.get("answer", "cache_size") == 0
    assert config.path("resolution") == project.path("resolution")  # content found from the copy
    assert {k: v for k, v in config.section("retrieval").items()} == dict(project.section("retrieval"))


def test_the_reference_runs_in_its_own_process_on_the_servers_cpu() -> None:
    where = distinct.Placement(("nice", "-n", "0"), (), 1, "test")  # stands in for taskset: runs the command
    p50 = distinct.reference_p50(where)
    assert 0 < p50 < 1_000_000


def test_the_in_process_reference_asks_the_first_runs_questions_in_order(core: Core) -> None:
    supply = distinct.distinct_questions(distinct.WARMUP_QUESTIONS + 3_000)
    questions = distinct.reference_questions(supply, 2_000)
    assert questions == supply[distinct.WARMUP_QUESTIONS: distinct.WARMUP_QUESTIONS + 2_000]
    asked = [core.asked(q) for q in questions]
    assert all(asked[i] not in asked[max(0, i - 256): i] for i in range(len(asked)))  # no recent repeat
    assert distinct.supply_size() == distinct.WARMUP_QUESTIONS + distinct.REPEATS * len(distinct.CONNECTIONS) * \
        distinct.PER_RUN


async def test_the_python_fallback_sends_each_signed_request_in_turn(core: Core, tmp_path: Path) -> None:
    from bot.channels.web import create_app
    from tests.fakes.web_harness import LiveServer, make_config

    requests_file = tmp_path / "requests.tsv"
    requests_file.write_text("\n".join(distinct.signed_lines(["when is World Day?", "who coordinates ICAT?"])) + "\n")
    app = create_app(make_config({"SLACK_SIGNING_SECRET": distinct.SECRET}), core)
    async with LiveServer(app) as server:
        result = await distinct._httpx_load({"url": server.url + "/slack/commands", "file": str(requests_file),
                                             "connections": 2, "seconds": 0.5})
    run = result["run"]
    assert isinstance(run, dict) and run["requests"] > 2 and run["errors"] == 0
    assert result["repeats"] == run["requests"] - 2  # two distinct lines, then wrap-arounds
