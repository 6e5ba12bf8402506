"""Instructions per request of `resbot serve`, counted by valgrind's callgrind (repeatable, unlike timings).

Starts `resbot serve` under callgrind with instrumentation off, warms each route up, then counts
the instructions the server executes for REQUESTS sequential requests to /healthz and to
/slack/commands (the same signed request as benchmarks/webhook.py). The figure does not move
with the machine's load, so it shows what a change to the request path costs or saves.

    python benchmarks/instructions.py       # about 1 minute; needs valgrind (Debian package)
    python benchmarks/instructions.py --distinct   # every request a new question, memory vs Redis

With ``--distinct`` it counts DISTINCT_REQUESTS slash commands that each ask a different question
(benchmarks/traffic.py), once with state in memory and once with REDIS_URL pointing at a private
redis-server (its own instructions are not counted: it is another process). It also counts the
core alone answering the same questions in a process of its own (nothing memoised) and the memory
server's /healthz, and judges issue 12's server-time target in instructions, which the machine's
load cannot move: per distinct request at most 1.5x the core's count plus the ceiling's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from webhook import (  # noqa: E402
    ANSWERS,
    CEILING,
    HOST,
    Route,
    check_answer,
    free_port,
    request_for,
    server_command,
    server_env,
    stop,
    wait_ready,
)

REQUESTS = 300
WARMUP = 50
START_TIMEOUT = 300.0  # seconds: everything runs about 50 times slower under valgrind


def callgrind_control(*args: str) -> None:
    """Run callgrind_control (switch instrumentation, zero or dump the counters)."""
    subprocess.run(["callgrind_control", *args], capture_output=True, check=False, timeout=120)


def counted_instructions(dump: Path) -> int:
    """The ``totals:`` line of a callgrind dump."""
    match = re.search(r"^totals:\s+(\d+)", dump.read_text(encoding="utf-8", errors="replace"), re.M)
    if match is None:
        raise RuntimeError(f"no totals in {dump}")
    return int(match.group(1))


def per_request(client: httpx.Client, pid: int, route: Route, workdir: Path) -> float:
    """Instructions the server runs per request of ``route``, over REQUESTS requests."""
    body, headers = request_for(route)
    for _ in range(WARMUP):
        client.request(route.method, route.path, content=body, headers=headers)
    before = set(workdir.glob("callgrind.*"))
    callgrind_control("-z", str(pid))
    callgrind_control("-i", "on", str(pid))
    for _ in range(REQUESTS):
        client.request(route.method, route.path, content=body, headers=headers)
    callgrind_control("-i", "off", str(pid))
    callgrind_control("-d", str(pid))
    deadline = time.monotonic() + 60
    while not (new := set(workdir.glob("callgrind.*")) - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not new:
        raise RuntimeError("callgrind wrote no dump within 60 s")
    dump = max(new, key=lambda p: p.stat().st_mtime)
    return counted_instructions(dump) / REQUESTS


DISTINCT_REQUESTS = 200


def distinct_questions_sent() -> list[str]:
    """The warm-up questions, then the DISTINCT_REQUESTS counted ones."""
    from traffic import distinct_questions

    return distinct_questions(WARMUP + DISTINCT_REQUESTS)


def core_worker() -> None:
    """Run under callgrind by ``core_per_answer``: the core alone answers the counted questions."""
    from distinct import unmemoised_core

    core = unmemoised_core()
    questions = distinct_questions_sent()
    for question in questions[:WARMUP]:
        core.answer(question)
    pid = str(os.getpid())
    callgrind_control("-z", pid)
    callgrind_control("-i", "on", pid)
    for question in questions[WARMUP:]:
        core.answer(question)
    callgrind_control("-i", "off", pid)
    callgrind_control("-d", pid)


def core_per_answer(workdir: Path) -> float:
    """Instructions per answer of the core alone, on the questions the distinct runs send."""
    out = workdir / "core"
    out.mkdir()
    env = server_env() | {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}/callgrind.%p",
                    sys.executable, __file__, "--core-worker"], cwd=ROOT, env=env, capture_output=True,
                   timeout=START_TIMEOUT * 2, check=True)
    dumps = list(out.glob("callgrind.*.*"))  # the "-d" dump is callgrind.PID.1; callgrind.PID comes at exit
    if not dumps:
        raise RuntimeError("callgrind wrote no dump for the core")
    return counted_instructions(max(dumps, key=lambda p: p.stat().st_mtime)) / DISTINCT_REQUESTS


def distinct_per_request(extra_env: dict[str, str], workdir: Path, ceiling: bool = False) -> tuple[float, float]:
    """Instructions per slash command when every request asks a different question, and per /healthz
    when ``ceiling`` (else 0)."""
    from distinct import signed_lines

    port = free_port()
    env = server_env() | {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"} | extra_env
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={workdir}/callgrind.%p",
               *server_command(), "serve", "--host", HOST, "--port", str(port)]
    questions = distinct_questions_sent()
    with (workdir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(proc, port, START_TIMEOUT)
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:
                healthz = per_request(client, proc.pid, CEILING, workdir) if ceiling else 0.0
                lines = [line.split("\t", 2) for line in signed_lines(questions)]

                def send(ts: str, signature: str, body: str) -> None:
                    reply = client.post("/slack/commands", content=body, headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
                    reply.raise_for_status()

                for line in lines[:WARMUP]:
                    send(*line)
                before = set(workdir.glob("callgrind.*"))
                callgrind_control("-z", str(proc.pid))
                callgrind_control("-i", "on", str(proc.pid))
                for line in lines[WARMUP:]:
                    send(*line)
                callgrind_control("-i", "off", str(proc.pid))
                callgrind_control("-d", str(proc.pid))
                deadline = time.monotonic() + 60
                while not (new := set(workdir.glob("callgrind.*")) - before) and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            stop(proc)
    if not new:
        raise RuntimeError("callgrind wrote no dump within 60 s")
    return counted_instructions(max(new, key=lambda p: p.stat().st_mtime)) / DISTINCT_REQUESTS, healthz


def distinct_report(counts: dict[str, float], core: float, ceiling: float) -> list[str]:
    """The counts, the web path's share and the server-time target judged in instructions."""
    from distinct import TARGET_SERVER_TIME

    lines = [f"Instructions per distinct-question slash command (callgrind, {DISTINCT_REQUESTS} sequential requests):"]
    lines += [f"  state in {name:8} {count:12,.0f}" for name, count in counts.items()]
    if "Redis" in counts:
        lines.append(f"  Redis / memory: {counts['Redis'] / counts['memory']:.2f}")
    allowed = TARGET_SERVER_TIME * core + ceiling
    spent = counts["memory"]
    lines += [f"  the core alone, same questions {core:12,.0f} per answer",
              f"  /healthz (ceiling)             {ceiling:12,.0f}",
              f"  web path beyond the core and the ceiling: {spent - core - ceiling:,.0f} "
              f"({(spent - core - ceiling) / core:.0%} of the core)",
              f"  target {spent:,.0f} <= {TARGET_SERVER_TIME}x core + ceiling = {allowed:,.0f}: "
              f"{'met' if spent <= allowed else 'not met'}"]
    return lines


def distinct_main() -> int:
    """Print instructions per distinct-question request in memory and on a private Redis, and the core's."""
    from distinct import Placement, private_redis

    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="resbot-callgrind-") as tmp:
        workdir = Path(tmp)
        counts["memory"], ceiling = distinct_per_request({}, workdir, ceiling=True)
        with private_redis(Placement((), (), 1, "unpinned"), workdir) as redis:
            if redis is not None:
                counts["Redis"], _ = distinct_per_request({"REDIS_URL": redis[1], "REDIS_KEY_PREFIX": "callgrind:"},
                                                          workdir)
        core = core_per_answer(workdir)
    print("\n".join(distinct_report(counts, core, ceiling)))
    return 0


def main() -> int:
    """Print instructions per request for the ceiling and the answers route; 1 without valgrind."""
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="resbot-callgrind-") as tmp:
        workdir = Path(tmp)
        # Fixed hash seed and the system allocator: the counts repeat from run to run.
        env = server_env() | {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={workdir}/callgrind.%p",
                   *server_command(), "serve", "--host", HOST, "--port", str(port)]
        with (workdir / "serve.log").open("wb") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_ready(proc, port, START_TIMEOUT)
                check_answer(port)
                with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:
                    counts = {route.name: per_request(client, proc.pid, route, workdir)
                              for route in (CEILING, ANSWERS)}
            finally:
                stop(proc)
    print(f"Instructions per request (callgrind, {REQUESTS} sequential requests each):")
    for name, count in counts.items():
        print(f"  {name:28} {count:12,.0f}")
    print(f"  answers / ceiling: {counts[ANSWERS.name] / counts[CEILING.name]:.2f}")
    return 0


if __name__ == "__main__":
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)")
        sys.exit(1)
    if sys.argv[1:] == ["--core-worker"]:
        core_worker()
        sys.exit(0)
    sys.exit(distinct_main() if sys.argv[1:] == ["--distinct"] else main())
