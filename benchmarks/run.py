"""`make bench`: answer latency, index build time, CLI cold start, then the web benchmarks.

After the in-process table: benchmarks/webhook.py (one repeated question against /healthz) and
benchmarks/distinct.py (every request a different question, state in memory and on Redis).

Figures are medians of repeated runs on this machine; they are measured, never asserted in tests.
Results go to stdout and benchmarks/results/core.md.
"""

from __future__ import annotations

import copy
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Config, load_config  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.evaluate import load_cases  # noqa: E402

REPEATS = 5
LATENCY_ROUNDS = 20
RESBOT = str(Path(sys.executable).with_name("resbot"))


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def questions(core: Core) -> list[str]:
    """Every evaluation question of every set (factual, shapes; dev and held-out), once each."""
    folder = core.config.path("eval").parent
    cases = [c for path in sorted(folder.glob("eval*.yaml")) for c in load_cases(path)]
    return list(dict.fromkeys(c.question for c in cases))


def latency(core: Core) -> dict[str, float]:
    """Per-question answer time in microseconds over all evaluation questions, warm."""
    qs = questions(core)
    for q in qs:
        core.answer(q)
    samples = []
    for _ in range(LATENCY_ROUNDS):
        for q in qs:
            start = time.perf_counter()
            core.answer(q)
            samples.append((time.perf_counter() - start) * 1e6)
    return {"n": len(samples), "p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99),
            "mean": statistics.fmean(samples)}


def with_settings(config: Config, section: str, **values: object) -> Config:
    """A copy of ``config`` with some settings of one section replaced."""
    data = copy.deepcopy(dict(config.data))
    data[section] = {**data[section], **values}
    return Config(data=data, root=config.root, environ=config.environ)


def build_time(config: Config) -> float:
    """Median seconds to build the Core with no disk cache."""
    uncached = with_settings(config, "retrieval", cache_dir="")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        Core(uncached)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def wall(cmd: list[str]) -> float:
    """Seconds one command takes, start to exit."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, timeout=120)
    return time.perf_counter() - start


def cold_start() -> dict[str, float]:
    """Median wall time of the CLI answering one question vs importing spaCy, interleaved runs."""
    ask = [RESBOT, "ask", "when is World Day?"]
    spacy_only = [sys.executable, "-c", "import spacy; spacy.blank('en')"]
    wall(ask)  # make sure the index cache exists, as after the first run on any machine
    ours, base = [], []
    for _ in range(REPEATS):
        ours.append(wall(ask))
        base.append(wall(spacy_only))
    cli, sp = statistics.median(ours), statistics.median(base)
    return {"cli": cli, "spacy": sp, "over": cli - sp, "ratio": cli / sp}


def table(fresh: dict[str, float], memo: dict[str, float], build: float, cold: dict[str, float]) -> str:
    """The results as markdown."""
    return "\n".join([
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| answer latency p50, computed every time ({int(fresh['n'])} answers) | {fresh['p50']:.0f} µs | ≤ 500 µs |",
        f"| answer latency p99, computed every time | {fresh['p99']:.0f} µs | ≤ 2,000 µs |",
        f"| answer latency mean, computed every time | {fresh['mean']:.0f} µs | |",
        f"| answer latency p50 / p99, memoised (asked before) | {memo['p50']:.0f} / {memo['p99']:.0f} µs | |",
        f"| index build, no cache (median of 3) | {build * 1000:.0f} ms | |",
        f"| `resbot ask \"when is World Day?\"` cold start (median of {REPEATS}) | {cold['cli']:.2f} s | |",
        f"| `python -c \"import spacy; spacy.blank('en')\"` (same runs) | {cold['spacy']:.2f} s | |",
        f"| cold start above spaCy | {cold['over']:+.2f} s (ratio {cold['ratio']:.2f}) | ≤ +0.30 s |",
    ])


def main() -> None:
    config = load_config()
    fresh = latency(Core(with_settings(config, "answer", cache_size=0)))  # no memo: the work itself
    memo = latency(Core(config))
    result = table(fresh, memo, build_time(config), cold_start())
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "core.md").write_text(result + "\n", encoding="utf-8")
    print(result)
    from webhook import main as webhook_benchmark  # benchmarks/webhook.py: `resbot serve` under load

    print()
    webhook_benchmark()
    from distinct import main as distinct_benchmark  # benchmarks/distinct.py: every request a new question

    print()
    distinct_benchmark()


if __name__ == "__main__":
    main()
