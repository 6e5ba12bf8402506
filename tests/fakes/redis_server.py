"""Redis for the tests: the machine's server on 127.0.0.1:6379, or a private redis-server to stop and start.

Without Redis the tests that need it skip with a message, except under CI=true, where they fail:
CI must run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

SHARED_URL = "redis://127.0.0.1:6379/0"
START_SECONDS = 10.0


def unavailable(reason: str) -> None:
    """Skip the test (fail it under CI=true, where Redis must be there)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required under CI=true: {reason}")
    pytest.skip(f"Redis tests skipped: {reason}")


def answers_ping(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when a Redis server on ``host:port`` answers PING (raw RESP, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def shared_url() -> str:
    """The machine's Redis URL; skips (or fails under CI) when nothing answers there."""
    if not answers_ping(6379):
        unavailable("no Redis server answers on 127.0.0.1:6379 (install redis-server, or run `make test` as root)")
    return SHARED_URL


def unique_prefix() -> str:
    """A key prefix no other test run uses."""
    return f"resbot-test:{uuid.uuid4().hex[:12]}:"


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (SCAN, not KEYS, so a shared Redis is not blocked)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        names = list(client.scan_iter(match=prefix + "*", count=500))
        if names:
            client.delete(*names)
    finally:
        client.close()


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A private ``redis-server`` (no persistence) on a free port, which a test may stop and restart."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed (Debian package redis-server; `make test` installs it as root)")
        self._binary = str(binary)
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="resbot-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0"""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on its port and wait (bounded) until it answers PING."""
        log = (self._dir / "redis.log").open("ab")
        self._proc = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self._dir)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while not answers_ping(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: "
                                   + (self._dir / "redis.log").read_text(errors="replace")[-500:])
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server at once (SIGKILL: no goodbye to the clients) and wait for it."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
