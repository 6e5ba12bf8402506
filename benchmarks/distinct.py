"""`resbot serve` under load that looks like traffic: every request a different question, in memory and on Redis.

Two servers run side by side, one keeping state in memory and one on Redis (a private
``redis-server`` without persistence, pinned beside the load generator), both pinned to the first
CPU when ``taskset`` and two CPUs allow. wrk sends signed slash commands whose questions come from
benchmarks/traffic.py: the evaluation questions, varied so none repeats within a run (and runs on
one server never share a question). The core answers a question without its greeting and thanks, so
the wordings of one question are one question to its memo: the servers run with the memo off
(``answer.cache_size: 0``, a copy of config.yaml), and every request is computed. Requests spread over 500
users in 50 channels, so each answer is stored as that conversation's context. Runs are interleaved
(the ceiling, /healthz on the memory server, then each server's distinct-question run), REPEATS
times at each connection count; figures are medians. The in-process reference (the core's p50 per
distinct answer) is measured before each round, on the server's CPU, so it sees the same core and
the same drift of the machine's speed as the runs beside it. Results go to stdout and
benchmarks/results/distinct.md.

    python benchmarks/distinct.py        # about 4 minutes
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from traffic import distinct_questions  # noqa: E402
from webhook import (  # noqa: E402
    CEILING,
    HOST,
    SECRET,
    Load,
    Placement,
    Run,
    cpu_seconds,
    free_port,
    generator,
    generator_label,
    httpx_run,
    parse_wrk,
    placement,
    serving,
    wrk_threads,
)

from bot.channels.security import slack_signature  # noqa: E402

if TYPE_CHECKING:
    from bot.core import Core

CONNECTIONS = (16, 64)
DURATION = 10
REPEATS = 3
WARMUP = 2
PER_RUN = 30_000  # questions signed for one run: more than a run can send at the speeds seen here
WARMUP_QUESTIONS = 4_000
USERS, CHANNELS = 500, 50
INPROCESS_QUESTIONS = 2_000
TARGET_SERVER_TIME = 1.5  # server time per distinct answer <= this x in-process p50 + the ceiling's time
TARGET_REDIS_RATIO = 0.80  # distinct answers on Redis >= this share of the in-memory rate


@dataclass(frozen=True, slots=True)
class Measured:
    """One run's wrk figures plus the CPU the server (and Redis) spent per request, and repeats sent."""

    run: Run
    redis_cpu_us: float = 0.0
    repeats: int = 0
    core_us: float = 0.0  # the core's own time per computed answer inside the server (its /metrics)


# -- requests ---------------------------------------------------------------------------------------

def slash_body(question: str, index: int) -> str:
    """A slash command form body from one of USERS users in one of CHANNELS channels."""
    return urlencode({"token": "bench", "team_id": "T0001", "channel_id": f"C{index % CHANNELS:04d}",
                      "user_id": f"U{index % USERS:04d}", "command": "/resbot", "text": question})


def signed_lines(questions: list[str], now: float | None = None) -> list[str]:
    """One ``timestamp TAB signature TAB body`` line per question, signed at ``now``."""
    ts = str(int(time.time() if now is None else now))
    lines = []
    for index, question in enumerate(questions):
        body = slash_body(question, index)
        lines.append(f"{ts}\t{slack_signature(SECRET, ts, body.encode('ascii'))}\t{body}")
    return lines


def lua_script(requests_file: Path, threads: int) -> str:
    """A wrk script: each thread sends its share of the signed requests in order, counting wrap-arounds."""
    return f"""
local file, nthreads, counter, threads = {json.dumps(str(requests_file))}, {threads}, 1, {{}}
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
local lines, index = {{}}, 0
wrapped = 0
function init(args)
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id - 1 then
      local ts, sig, body = line:match("^([^\\t]*)\\t([^\\t]*)\\t(.*)$")
      lines[#lines + 1] = {{ts, sig, body}}
    end
    i = i + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
function request()
  index = index + 1
  if index > #lines then index = 1; wrapped = wrapped + 1 end
  local r = lines[index]
  wrk.headers["X-Slack-Request-Timestamp"] = r[1]
  wrk.headers["X-Slack-Signature"] = r[2]
  return wrk.format(nil, nil, nil, r[3])
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get("wrapped")) or 0) end
  io.write(string.format("wrapped: %d\\n", total))
end
"""


def wrapped(output: str) -> int:
    """How often a wrk thread ran out of questions and started again (0 when none repeated)."""
    for line in output.splitlines():
        if line.startswith("wrapped:"):
            return int(line.split(":")[1])
    return 0


# -- load -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DistinctLoad:
    """Runs distinct-question loads with wrk (or the httpx fallback) from a file of signed requests."""

    generator: str
    where: Placement
    workdir: Path

    def run(self, url: str, questions: list[str], connections: int, seconds: int) -> tuple[Run, int]:
        """One run; (figures, questions repeated because the supply ran out)."""
        requests_file = self.workdir / "requests.tsv"
        requests_file.write_text("\n".join(signed_lines(questions)) + "\n", encoding="ascii")
        if self.generator != "wrk":
            spec = json.dumps({"url": url, "file": str(requests_file), "connections": connections,
                               "seconds": seconds})
            done = subprocess.run([*self.where.generator, sys.executable, __file__, "--load", spec],
                                  capture_output=True, text=True, timeout=seconds + 60, check=True, cwd=ROOT)
            data = json.loads(done.stdout)
            return Run(**data["run"]), int(data["repeats"])
        threads = wrk_threads(connections, self.where.generator_cpus)
        script = self.workdir / "distinct.lua"
        script.write_text(lua_script(requests_file, threads), encoding="utf-8")
        cmd = [*self.where.generator, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--timeout", "5s", "--latency", "-s", str(script), url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
        return parse_wrk(done.stdout), wrapped(done.stdout)


async def _httpx_load(spec: dict[str, object]) -> dict[str, object]:
    """The fallback generator: ``connections`` workers taking the next signed request until the deadline."""
    lines = [line.split("\t", 2) for line in Path(str(spec["file"])).read_text(encoding="ascii").splitlines()]

    def request(sent: int) -> tuple[str, dict[str, str]]:
        ts, sig, body = lines[sent % len(lines)]
        return body, {"Content-Type": "application/x-www-form-urlencoded",
                      "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}

    run = await httpx_run("POST", str(spec["url"]), int(str(spec["connections"])), float(str(spec["seconds"])),
                          request)
    return {"run": asdict(run), "repeats": max(0, run.requests - len(lines))}


# -- Redis and the servers --------------------------------------------------------------------------

@contextmanager
def private_redis(where: Placement, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str] | None]:
    """A redis-server without persistence on a free port, pinned beside the load generator; None without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    with (workdir / "redis.log").open("wb") as log:
        proc = subprocess.Popen([*where.generator, binary, "--port", str(port), "--bind", HOST, "--save", "",
                                 "--appendonly", "no", "--dir", str(workdir)], stdout=log, stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(host=HOST, port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield proc, f"redis://{HOST}:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def supply_size() -> int:
    """How many distinct questions the runs draw: the warm-up's, then PER_RUN for each run."""
    return WARMUP_QUESTIONS + REPEATS * len(CONNECTIONS) * PER_RUN


def reference_questions(supply: list[str], count: int) -> list[str]:
    """The first ``count`` questions of the first run: the supply after its warm-up questions."""
    return supply[WARMUP_QUESTIONS: WARMUP_QUESTIONS + count]


def unmemoised_core() -> Core:
    """The core as `resbot serve` loads it, but memoising nothing: every answer is computed."""
    from bot.config import Config, load_config
    from bot.core import Core

    base = load_config(environ={})
    data = {**dict(base.data), "answer": {**dict(base.section("answer")), "cache_size": 0}}
    return Core(Config(data=data, root=base.root, environ={}))


def inprocess_p50(count: int = INPROCESS_QUESTIONS) -> float:
    """Median microseconds the core takes per distinct question, in this process, nothing memoised.

    The questions are the first run's, in the order it sends them. The core answers every wording of
    a question as the bare question (bot/courtesy.py), and a question comes back only after every
    other one has been asked, so its caches of recent analyses (256 entries) never answer here, as
    they never answer in the runs; questions picked across the supply would repeat within 256.
    """
    core = unmemoised_core()
    supply = distinct_questions(supply_size())
    questions = reference_questions(supply, count)
    for question in supply[:200]:
        core.answer(question)
    samples = []
    for question in questions:
        start = time.perf_counter()
        core.answer(question)
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def unmemoised_config(workdir: Path) -> Path:
    """A copy of config.yaml with the answer memo off, written to ``workdir`` (content is found from there)."""
    import yaml

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data.setdefault("answer", {})["cache_size"] = 0
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def reference_p50(where: Placement) -> float:
    """``inprocess_p50`` in a fresh process on the server's CPU (pinned like the servers when they are)."""
    done = subprocess.run([*where.server, sys.executable, __file__, "--inprocess"], capture_output=True,
                          text=True, timeout=600, check=True, cwd=ROOT)
    return float(done.stdout.strip().splitlines()[-1])


Results = dict[tuple[str, int], list[Measured]]
MEMORY, REDIS = "memory", "Redis"


def measure(servers: dict[str, tuple[int, int]], redis_pid: int | None, where: Placement, workdir: Path,
            name: str) -> tuple[Results, list[float]]:
    """Interleaved rounds: the in-process reference, then at each connection count the ceiling on the
    memory server and each server's distinct-question run. Returns the runs and each round's reference."""
    ceiling = Load(name, where, workdir)
    distinct = DistinctLoad(name, where, workdir)
    supply = distinct_questions(supply_size())
    offsets = dict.fromkeys(servers, WARMUP_QUESTIONS)
    for _, port in servers.values():
        distinct.run(f"http://{HOST}:{port}/slack/commands", supply[:WARMUP_QUESTIONS], CONNECTIONS[0], WARMUP)
    results: Results = {}
    references: list[float] = []
    for _ in range(REPEATS):
        references.append(reference_p50(where))
        for connections in CONNECTIONS:
            pid, port = servers[MEMORY]
            before = cpu_seconds(pid)
            run = ceiling.run(f"http://{HOST}:{port}{CEILING.path}", CEILING, connections, DURATION)
            cpu = (cpu_seconds(pid) - before) / max(run.requests, 1) * 1e6
            results.setdefault(("ceiling", connections), []).append(Measured(replace(run, server_cpu_us=cpu)))
            for store, (pid, port) in servers.items():
                questions = supply[offsets[store]: offsets[store] + PER_RUN]
                offsets[store] += PER_RUN
                core_before = core_totals(port)
                before, redis_before = cpu_seconds(pid), cpu_seconds(redis_pid) if redis_pid else 0.0
                run, repeats = distinct.run(f"http://{HOST}:{port}/slack/commands", questions, connections, DURATION)
                cpu = (cpu_seconds(pid) - before) / max(run.requests, 1) * 1e6
                core_us = per_answer_us(core_before, core_totals(port))
                redis_cpu = ((cpu_seconds(redis_pid) - redis_before) / max(run.requests, 1) * 1e6
                             if redis_pid and store == REDIS else 0.0)
                results.setdefault((store, connections), []).append(
                    Measured(replace(run, server_cpu_us=cpu), redis_cpu, repeats, core_us))
    return results, references


# -- reporting ---------------------------------------------------------------------------------------

def core_totals(port: int) -> tuple[float, int]:
    """Seconds the server's core spent answering, and answers computed, from its /metrics (0, 0 if unreadable)."""
    import httpx

    try:
        return latency_totals(httpx.get(f"http://{HOST}:{port}/metrics", timeout=10).text)
    except httpx.HTTPError:
        return 0.0, 0


def latency_totals(text: str) -> tuple[float, int]:
    """The answer-latency histogram's sum and count in a Prometheus exposition."""
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("resbot_answer_latency_seconds_sum", "resbot_answer_latency_seconds_count"):
            values[name] = float(value)
    return (values.get("resbot_answer_latency_seconds_sum", 0.0),
            int(values.get("resbot_answer_latency_seconds_count", 0)))


def per_answer_us(before: tuple[float, int], after: tuple[float, int]) -> float:
    """Microseconds per answer between two /metrics readings (0 when none was answered)."""
    answers = after[1] - before[1]
    return (after[0] - before[0]) / answers * 1e6 if answers > 0 else 0.0


def median(runs: list[Measured]) -> Measured:
    """Medians of the figures; errors, requests and repeats summed."""
    return Measured(
        Run(statistics.median(m.run.rps for m in runs), statistics.median(m.run.p50 for m in runs),
            statistics.median(m.run.p99 for m in runs), sum(m.run.errors for m in runs),
            sum(m.run.requests for m in runs), statistics.median(m.run.server_cpu_us for m in runs)),
        statistics.median(m.redis_cpu_us for m in runs), sum(m.repeats for m in runs),
        statistics.median(m.core_us for m in runs))


def table(results: Results, references: list[float], label: str, where: Placement) -> str:
    """The results as markdown, with the issue's targets judged against the median reference."""
    med = {key: median(runs) for key, runs in results.items()}
    p50_us = statistics.median(references)
    each = ", ".join(f"{r:.0f}" for r in references)
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}; load generator: "
        f"{label}; {where.label}; {DURATION} s a run, median of {REPEATS} runs, interleaved.",
        f"Requests: signed slash commands, every one a different question (evaluation questions varied, "
        f"{USERS} users in {CHANNELS} channels), answered inline. In-process p50 per distinct answer, "
        f"measured on the server's CPU before each round: {each} µs (median {p50_us:.0f} µs).",
        "",
        "| state | route | connections | req/s | p50 | p99 | server CPU / request | of which the core "
        "| Redis CPU / request | errors | repeated questions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for connections in CONNECTIONS:
        for key, state, route in (("ceiling", "memory", "`/healthz` (ceiling)"),
                                  (MEMORY, "memory", "`/slack/commands`, distinct"),
                                  (REDIS, "Redis", "`/slack/commands`, distinct")):
            if (key, connections) not in med:
                continue
            m = med[(key, connections)]
            redis_cpu = f"{m.redis_cpu_us:.0f} µs" if key == REDIS else ""
            core = f"{m.core_us:.0f} µs" if m.core_us else ""
            repeats = "" if key == "ceiling" else str(m.repeats)
            lines.append(f"| {state} | {route} | {connections} | {m.run.rps:,.0f} | {m.run.p50:.1f} ms | "
                         f"{m.run.p99:.1f} ms | {m.run.server_cpu_us:.0f} µs | {core} | {redis_cpu} | "
                         f"{m.run.errors} | {repeats} |")
    if "httpx" in label:
        lines += ["", "The Python fallback generator limits these runs; install wrk for server figures."]
    return "\n".join([*lines, "", *targets(med, p50_us)])


def targets(med: dict[tuple[str, int], Measured], p50_us: float) -> list[str]:
    """The issue's targets, each measured and judged."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rows = ["| target | measured | |", "|---|---|---|"]
    for connections in CONNECTIONS:
        allowed = TARGET_SERVER_TIME * p50_us + med[("ceiling", connections)].run.server_cpu_us
        spent = med[(MEMORY, connections)].run.server_cpu_us
        rows.append(f"| server time per distinct answer ≤ {TARGET_SERVER_TIME}x in-process p50 + ceiling's, "
                    f"{connections} connections | {spent:.0f} µs ≤ {allowed:.0f} µs? | {verdict(spent <= allowed)} |")
    if any(key[0] == REDIS for key in med):
        ratio = min(med[(REDIS, c)].run.rps / med[(MEMORY, c)].run.rps for c in CONNECTIONS)
        rows.append(f"| distinct answers on Redis ≥ {TARGET_REDIS_RATIO:.0%} of in-memory req/s (both loads) "
                    f"| {ratio:.0%} (lower of the two) | {verdict(ratio >= TARGET_REDIS_RATIO)} |")
    else:
        rows.append("| distinct answers on Redis ≥ 80% of in-memory req/s | not measured: no redis-server | |")
    errors = sum(m.run.errors for m in med.values())
    requests = sum(m.run.requests for m in med.values())
    repeats = sum(m.repeats for k, m in med.items() if k[0] != "ceiling")
    rows.append(f"| zero errors | {errors} of {requests:,} requests | {verdict(errors == 0)} |")
    rows.append(f"| no question repeated within a run | {repeats} repeated | {verdict(repeats == 0)} |")
    return rows


def main() -> str:
    """Run the distinct-question benchmark; print and save the table, and return it."""
    name, where = generator(), placement()
    label = generator_label(name, where)
    print(f"distinct-question benchmark: load generator {name}, {where.label}; about "
          f"{(REPEATS * len(CONNECTIONS) * 3 * DURATION + 4 * WARMUP) // 60 + 1} minutes", flush=True)
    with tempfile.TemporaryDirectory(prefix="resbot-distinct-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        redis = stack.enter_context(private_redis(where, workdir))
        servers: dict[str, tuple[int, int]] = {}
        unmemoised = {"RESBOT_CONFIG": str(unmemoised_config(workdir))}
        proc, port = stack.enter_context(serving(workdir / "memory.log", where.server, unmemoised))
        servers[MEMORY] = (proc.pid, port)
        if redis is not None:
            env = {**unmemoised, "REDIS_URL": redis[1], "REDIS_KEY_PREFIX": "bench:"}
            proc, port = stack.enter_context(serving(workdir / "redis.log", where.server, env))
            servers[REDIS] = (proc.pid, port)
        results, references = measure(servers, redis[0].pid if redis else None, where, workdir, name)
    result = table(results, references, label, where)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "distinct.md").write_text(result + "\n", encoding="utf-8")
    print(result)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        print(json.dumps(asyncio.run(_httpx_load(json.loads(sys.argv[2])))))
    elif sys.argv[1:] == ["--inprocess"]:
        print(f"{inprocess_p50():.1f}")
    else:
        main()
