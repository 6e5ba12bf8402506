"""Several `resbot serve` processes on one Redis, as replicas behind a load balancer would run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.config import DEFAULT_CONFIG, PROJECT_ROOT
from tests.fakes.redis_server import free_port
from tests.fakes.slack_api import BOT_TOKEN
from tests.fakes.web_harness import SIGNING_SECRET

START_SECONDS = 90.0
PLATFORM_PREFIXES = ("SLACK_", "TELEGRAM_", "MATTERMOST_", "ROCKETCHAT_", "WEBHOOK", "REDIS_")


def write_config(folder: Path, **web: Any) -> Path:
    """The project's config.yaml with absolute content paths and ``web:`` overrides, written to ``folder``.

    Redis commands get 3 s rather than 0.5 s: a machine busy with other tests can be that slow to
    connect, and a timeout would (by design) make dedupe fail open. A stopped Redis still fails at
    once (connection refused or reset), so the fault tests lose nothing.
    """
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["content"] = {k: str(PROJECT_ROOT / v) for k, v in data["content"].items()}
    data["retrieval"]["cache_dir"] = str(PROJECT_ROOT / data["retrieval"]["cache_dir"])
    data["web"] = {**data["web"], **web}
    data["state"] = {**data["state"], "timeout_seconds": 3.0}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class Replica:
    """One `resbot serve` on a free loopback port, logging to a file."""

    def __init__(self, name: str, env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=PROJECT_ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, client: httpx.AsyncClient) -> None:
        """Poll /healthz (bounded) until it answers; RuntimeError with the log if the process died."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited: {self.output()[-2000:]}")
            try:
                if (await client.get(self.url + "/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"replica {self.name} did not start: {self.output()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def output(self) -> str:
        """What the process logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def replica_env(config: Path, redis_url: str, prefix: str) -> dict[str, str]:
    """This environment without platform secrets, plus Slack secrets, the config and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_PREFIXES) and k != "PORT"}
    env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, RESBOT_CONFIG=str(config),
               REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
    return env


async def start_replicas(count: int, env: Mapping[str, str], folder: Path,
                         client: httpx.AsyncClient) -> list[Replica]:
    """``count`` replicas started together, each answering /healthz."""
    replicas = [Replica(chr(ord("A") + n), env, folder / f"replica-{n}.log") for n in range(count)]
    try:
        await asyncio.gather(*(r.wait_ready(client) for r in replicas))
    except BaseException:
        for replica in replicas:
            replica.stop()
        raise
    return replicas
