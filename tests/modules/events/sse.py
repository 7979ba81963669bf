"""A minimal ASGI client for long-lived server-sent-event responses (httpx's ASGI transport buffers bodies)."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class SseStream:
    def __init__(self, app: Any, token: str | None, path: str = "/api/events/stream", cookies: str | None = None) -> None:
        self.app = app
        headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream")]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if cookies:
            headers.append((b"cookie", cookies.encode()))
        self.scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                      "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                      "query_string": b"", "headers": headers, "client": ("10.9.9.9", 5000),
                      "server": ("testserver", 80)}
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._started = asyncio.Event()
        self._disconnect = asyncio.Event()
        self._requested = False
        self._buffer = ""
        self._task: asyncio.Task | None = None

    async def _receive(self) -> dict:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            self._started.set()
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.body += chunk
            if chunk:
                await self._chunks.put(chunk)

    async def __aenter__(self) -> SseStream:
        self._task = asyncio.create_task(self.app(self.scope, self._receive, self._send))
        await asyncio.wait_for(self._started.wait(), 10)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._disconnect.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def frame(self, timeout: float = 3.0) -> str:
        """The next SSE block (without its terminating blank line); TimeoutError when none arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while "\n\n" not in self._buffer:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(self._chunks.get(), remaining)
            self._buffer += chunk.decode()
        block, self._buffer = self._buffer.split("\n\n", 1)
        return block

    async def event(self, timeout: float = 3.0, skip_comments: bool = True) -> dict:
        while True:
            block = await self.frame(timeout)
            if block.startswith(":") and skip_comments:
                continue
            assert block.startswith("data: "), block
            return json.loads(block[len("data: "):])

    async def events_until_quiet(self, quiet: float = 0.5) -> list[dict]:
        out = []
        while True:
            try:
                out.append(await self.event(quiet))
            except TimeoutError:
                return out
