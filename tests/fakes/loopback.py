"""Serve an ASGI app with uvicorn on a free port of 127.0.0.1, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp


class LoopbackServer:
    """One uvicorn server on 127.0.0.1; start() returns its port, stop() is bounded."""

    def __init__(self) -> None:
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, app: ASGIApp) -> int:
        """Bind a free loopback port and serve ``app`` until :meth:`stop`."""
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when
        # the listening socket says TCP, else keep-alive requests stall ~40 ms (delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                await asyncio.sleep(0.01)
        return self.port

    def request_stop(self) -> bool:
        """Ask the server to exit; False when it never started."""
        if self._server is None or self._task is None:
            return False
        self._server.should_exit = True
        return True

    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._server is not None and self._server.should_exit

    async def wait_stopped(self) -> None:
        """Wait (at most 5 s) for the server task to end."""
        if self._task is not None:
            async with asyncio.timeout(5):
                await self._task
