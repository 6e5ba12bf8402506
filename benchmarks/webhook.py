"""`resbot serve` under load: signed Slack slash commands against the same server's /healthz.

Starts `resbot serve` on 127.0.0.1 with SLACK_SIGNING_SECRET set, then loads it with wrk
(Debian package ``wrk``) or, when wrk is missing, a bounded asyncio httpx client in a separate
process. 16 and 64 connections, DURATION seconds a run, REPEATS runs of each, interleaved;
figures are medians. Results go to stdout and benchmarks/results/webhook.md.

The server is one process on one core. With two or more cores and ``taskset`` (util-linux),
the server is pinned to the first allowed core and the load generator to the others, as if
they were separate machines: unpinned, wrk's threads and the kernel's network work compete
with the server for the same cores, which mostly adds scheduling noise to the tail latencies.
Set RESBOT_BENCH_PIN=0 to measure unpinned.

    python benchmarks/webhook.py            # the whole benchmark (about 4 minutes)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.security import slack_signature  # noqa: E402

HOST = "127.0.0.1"
SECRET = "bench-signing-secret"
QUESTION = "when is World Day?"
CONNECTIONS = (16, 64)
DURATION = 10
REPEATS = 5
WARMUP = 2
START_TIMEOUT = 60.0
MAX_REQUESTS_PER_RUN = 2_000_000  # bound for the httpx fallback's request loop
TARGET_RATIO = 0.60  # answers' req/s at least this share of the ceiling's
TARGET_P99 = 2.0  # answers' p99 at 64 connections at most this multiple of the ceiling's
SECRET_PREFIXES = ("SLACK_", "TELEGRAM_", "MATTERMOST_", "ROCKETCHAT_", "WEBHOOK")


@dataclass(frozen=True, slots=True)
class Route:
    """One loaded route: how to call it."""

    name: str
    path: str
    method: str
    signed: bool


@dataclass(frozen=True, slots=True)
class Run:
    """One load run's figures (latencies in milliseconds)."""

    rps: float
    p50: float
    p99: float
    errors: int
    requests: int
    server_cpu_us: float = 0.0  # the server's CPU time per request, in microseconds


CEILING = Route("/healthz (ceiling)", "/healthz", "GET", signed=False)
ANSWERS = Route("/slack/commands (answers)", "/slack/commands", "POST", signed=True)


def slash_body(question: str = QUESTION) -> bytes:
    """A Slack slash command form body (no response_url: every answer comes back inline)."""
    fields = {"token": "bench", "team_id": "T0001", "team_domain": "bench", "channel_id": "C0001",
              "channel_name": "general", "user_id": "U0001", "user_name": "bench",
              "command": "/resbot", "text": question, "trigger_id": "1.2.3"}
    return urlencode(fields).encode("ascii")


def signed_headers(body: bytes, secret: str = SECRET, now: float | None = None) -> dict[str, str]:
    """The headers Slack sends with ``body``, signed at ``now`` (valid for 300 s)."""
    ts = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack_signature(secret, ts, body)}


def request_for(route: Route) -> tuple[bytes, dict[str, str]]:
    """Body and headers for one request to ``route``, freshly signed when it needs a signature."""
    if not route.signed:
        return b"", {}
    body = slash_body()
    return body, signed_headers(body)


def lua_script(route: Route) -> str:
    """A wrk script sending one fixed (pre-signed) request."""
    body, headers = request_for(route)
    lines = [f'wrk.method = "{route.method}"', f"wrk.body = {json.dumps(body.decode('ascii'))}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


# -- where the server and the load generator run --------------------------------------------------

@dataclass(frozen=True, slots=True)
class Placement:
    """Command prefixes that pin the server and the load generator to CPUs (empty: unpinned)."""

    server: tuple[str, ...]
    generator: tuple[str, ...]
    generator_cpus: int
    label: str


def placement() -> Placement:
    """The server on the first allowed CPU and the generator on the rest, when taskset and 2+ CPUs allow."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset") or os.environ.get("RESBOT_BENCH_PIN") == "0":
        return Placement((), (), len(cpus), "unpinned")
    rest = ",".join(str(c) for c in cpus[1:])
    return Placement(("taskset", "-c", str(cpus[0])), ("taskset", "-c", rest), len(cpus) - 1,
                     f"server pinned to CPU {cpus[0]}, load generator to CPU {rest} (taskset)")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc (0.0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_command() -> list[str]:
    """The `resbot` console script of this interpreter's venv, else ``python -m bot``."""
    script = Path(sys.executable).with_name("resbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def server_env() -> dict[str, str]:
    """This environment without platform secrets, plus the benchmark's signing secret."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(SECRET_PREFIXES) and k not in ("PORT", "REDIS_URL", "REDIS_KEY_PREFIX")}
    env["SLACK_SIGNING_SECRET"] = SECRET
    return env


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in KiB, from /proc."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = START_TIMEOUT) -> None:
    """Poll /healthz until it answers 200; RuntimeError if the server exits or takes too long."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"resbot serve exited with {proc.returncode} during startup")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"resbot serve did not answer /healthz within {timeout:.0f} s")


@contextmanager
def serving(log_path: Path, prefix: tuple[str, ...] = (),
            extra_env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`resbot serve` on a free port of 127.0.0.1 for the duration of the block."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*prefix, *server_command(), "serve", "--host", HOST, "--port", str(port)],
                                cwd=ROOT, env={**server_env(), **(extra_env or {})}, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_ready(proc, port)
            yield proc, port
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def check_answer(port: int) -> str:
    """One signed slash command, checked to be a real answer (so the load is not 401s)."""
    import httpx

    body, headers = request_for(ANSWERS)
    reply = httpx.post(f"http://{HOST}:{port}{ANSWERS.path}", content=body, headers=headers, timeout=10)
    if reply.status_code != 200 or "30 July" not in reply.text:
        raise RuntimeError(f"the slash command did not answer: {reply.status_code} {reply.text[:200]}")
    return str(reply.json()["text"])


# -- load generators -------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(value: str) -> float:
    """wrk's "2.44ms" / "812.00us" / "1.02s" in milliseconds."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Run:
    """Requests/s, p50, p99, errors (non-2xx plus socket errors) and requests from wrk's output."""
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if non2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(non2xx.group(1))
    if sock := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in sock.groups())
    return Run(rps, p50, p99, errors, requests)


def wrk_threads(connections: int, cpus: int) -> int:
    """wrk threads: one per CPU the generator may use, at most one per connection."""
    return max(1, min(cpus, connections))


@dataclass(frozen=True, slots=True)
class Load:
    """How one load run is made: the generator ("wrk" or "httpx"), its CPUs, the workdir."""

    generator: str
    where: Placement
    workdir: Path

    def run(self, url: str, route: Route, connections: int, seconds: int) -> Run:
        """One load run of ``seconds`` against ``url``."""
        if self.generator == "wrk":
            return self._wrk(url, route, connections, seconds)
        return self._httpx(url, route, connections, seconds)

    def _wrk(self, url: str, route: Route, connections: int, seconds: int) -> Run:
        """One wrk run with a fixed pre-signed request."""
        script = self.workdir / "request.lua"
        script.write_text(lua_script(route), encoding="ascii")
        threads = wrk_threads(connections, self.where.generator_cpus)
        cmd = [*self.where.generator, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--timeout", "5s", "--latency", "-s", str(script), url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
        return parse_wrk(done.stdout)

    def _httpx(self, url: str, route: Route, connections: int, seconds: int) -> Run:
        """One run of the httpx fallback generator, in its own process so it does not share our GIL."""
        spec = json.dumps({"url": url, "method": route.method, "signed": route.signed,
                           "connections": connections, "seconds": seconds})
        done = subprocess.run([*self.where.generator, sys.executable, __file__, "--load", spec],
                              capture_output=True, text=True, timeout=seconds + 60, check=True, cwd=ROOT)
        return Run(**json.loads(done.stdout))


async def _httpx_load(spec: dict[str, object]) -> Run:
    """``connections`` workers sending one request back to back until the deadline (bounded count)."""
    body, headers = request_for(ANSWERS if spec["signed"] else CEILING)
    return await httpx_run(str(spec["method"]), str(spec["url"]), int(str(spec["connections"])),
                           float(str(spec["seconds"])), lambda _: (body, headers))


async def httpx_run(method: str, url: str, connections: int, seconds: float,
                    request: Callable[[int], tuple[bytes | str, dict[str, str]]]) -> Run:
    """``connections`` workers sending ``request(n)`` (the n-th request sent) until the deadline (bounded)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=5) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS_PER_RUN:
                body, headers = request(len(latencies))
                sent = time.perf_counter()
                try:
                    reply = await client.request(method, url, content=body, headers=headers)
                    errors += reply.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - sent) * 1e3)

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [0.0]
    return Run(len(latencies) / elapsed, ordered[len(ordered) // 2],
               ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], errors, len(latencies))


def generator() -> str:
    """``wrk`` when installed, else ``httpx``."""
    return "wrk" if shutil.which("wrk") else "httpx"


def generator_label(name: str, where: Placement) -> str:
    """How the table names the load generator."""
    if name == "wrk":
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        first = (version.stdout or version.stderr).split("Copyright")[0].strip()
        threads = wrk_threads(CONNECTIONS[0], where.generator_cpus)
        return f"{first}, {threads} thread{'s' if threads > 1 else ''}"
    return "bounded asyncio httpx client in a separate process (Python; it may be the bottleneck)"


# -- measuring and reporting -----------------------------------------------------------------------

Results = dict[tuple[str, int], list[Run]]


def measure(pid: int, port: int, load: Load) -> Results:
    """REPEATS interleaved runs of each route at each connection count, after a short warm-up."""
    results: Results = {}
    for route in (CEILING, ANSWERS):
        load.run(f"http://{HOST}:{port}{route.path}", route, CONNECTIONS[0], WARMUP)
    for _ in range(REPEATS):
        for connections in CONNECTIONS:
            for route in (CEILING, ANSWERS):
                before = cpu_seconds(pid)
                run = load.run(f"http://{HOST}:{port}{route.path}", route, connections, DURATION)
                cpu_us = (cpu_seconds(pid) - before) / max(run.requests, 1) * 1e6
                results.setdefault((route.name, connections), []).append(replace(run, server_cpu_us=cpu_us))
    return results


def median_run(runs: list[Run]) -> Run:
    """Medians of req/s, p50, p99 and server CPU; errors and requests summed over the runs."""
    return Run(statistics.median(r.rps for r in runs), statistics.median(r.p50 for r in runs),
               statistics.median(r.p99 for r in runs), sum(r.errors for r in runs),
               sum(r.requests for r in runs), statistics.median(r.server_cpu_us for r in runs))


def _mib(kib: int | None) -> str:
    return "?" if kib is None else f"{kib / 1024:.0f} MiB"


def table(results: Results, label: str, where: Placement, start_mem: dict[str, int],
          end_mem: dict[str, int]) -> str:
    """The results as markdown, with the targets and whether they were met."""
    med = {key: median_run(runs) for key, runs in results.items()}
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}; "
        f"load generator: {label}; {where.label}; {DURATION} s a run, median of {REPEATS} runs, interleaved.",
        f"Request: signed slash command `{QUESTION}` (form body, v0 signature), answered inline.",
        "",
        "| route | connections | req/s | p50 | p99 | server CPU / request | errors "
        "| req/s vs ceiling | p99 vs ceiling |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for connections in CONNECTIONS:
        ceiling = med[(CEILING.name, connections)]
        for route in (CEILING, ANSWERS):
            run = med[(route.name, connections)]
            ratio = f"{run.rps / ceiling.rps:.0%}" if route is ANSWERS else ""
            p99 = f"{run.p99 / ceiling.p99:.1f}x" if route is ANSWERS else ""
            lines.append(f"| `{route.name}` | {connections} | {run.rps:,.0f} | {run.p50:.1f} ms | "
                         f"{run.p99:.1f} ms | {run.server_cpu_us:.0f} µs | {run.errors} | {ratio} | {p99} |")
    if "httpx" in label:
        lines += ["", "With the Python fallback generator the ceiling measures the generator more than the server; "
                  "install wrk for server figures."]
    lines += ["", *_targets(med), "",
              f"`resbot serve` resident memory: {_mib(start_mem.get('VmRSS'))} after start "
              f"(peak {_mib(start_mem.get('VmHWM'))}); peak over the whole run (VmHWM) "
              f"{_mib(end_mem.get('VmHWM'))}."]
    return "\n".join(lines)


def _targets(med: dict[tuple[str, int], Run]) -> list[str]:
    """The three targets of the issue, each with the measured value and met / not met."""
    top = CONNECTIONS[-1]
    worst_ratio = min(med[(ANSWERS.name, c)].rps / med[(CEILING.name, c)].rps for c in CONNECTIONS)
    p99_ratio = med[(ANSWERS.name, top)].p99 / med[(CEILING.name, top)].p99
    errors = sum(run.errors for run in med.values())
    requests = sum(run.requests for run in med.values())

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    return [
        "| target | measured | |",
        "|---|---|---|",
        f"| answers ≥ {TARGET_RATIO:.0%} of the ceiling's req/s (both loads) | {worst_ratio:.0%} (lower of the two) "
        f"| {verdict(worst_ratio >= TARGET_RATIO)} |",
        f"| answers' p99 at {top} connections ≤ {TARGET_P99:.0f}x the ceiling's | {p99_ratio:.1f}x "
        f"| {verdict(p99_ratio <= TARGET_P99)} |",
        f"| zero errors (non-2xx, socket errors, timeouts) | {errors} of {requests:,} requests "
        f"| {verdict(errors == 0)} |",
    ]


def main() -> str:
    """Run the whole webhook benchmark; print and save the table, and return it."""
    name = generator()
    where = placement()
    label = generator_label(name, where)
    print(f"webhook benchmark: {os.cpu_count()} cores, load generator {name}, {where.label}; about "
          f"{(len(CONNECTIONS) * 2 * REPEATS * DURATION + 2 * WARMUP) // 60 + 1} minutes", flush=True)
    with tempfile.TemporaryDirectory(prefix="resbot-bench-") as tmp:
        workdir = Path(tmp)
        with serving(workdir / "serve.log", where.server) as (proc, port):
            start_mem = memory_kib(proc.pid)
            check_answer(port)
            results = measure(proc.pid, port, Load(name, where, workdir))
            end_mem = memory_kib(proc.pid)
    result = table(results, label, where, start_mem, end_mem)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "webhook.md").write_text(result + "\n", encoding="utf-8")
    print(result)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        print(json.dumps(asdict(asyncio.run(_httpx_load(json.loads(sys.argv[2]))))))
    else:
        main()
