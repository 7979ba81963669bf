"""A real uvicorn server on a free port, on its own freshly initialised demo database.

Used by the browser test of the explorer and by the schemathesis run: both need a server outside the test's
event loop, and the fuzzer must not disturb the rows the rest of the suite relies on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from tests.conftest import BACKEND, PG_BASE, _pg_admin

SRC = Path(__file__).resolve().parents[3] / "src"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen, log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def login(self, email: str, password: str = "secret") -> str | None:
        res = httpx.post(f"{self.url}/api/auth/login", data={"email": email, "password": password}, timeout=10)
        return res.json().get("token") if res.status_code == 200 else None


def _run(cmd: list[str], env: dict[str, str], cwd: str, log: Path, timeout: float) -> None:
    with log.open("a") as out:
        done = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{log.read_text(errors='replace')[-4000:]}")


@asynccontextmanager
async def live_server(**extra_env: str) -> AsyncIterator[LiveServer]:
    """Initialise a demo database (SQLite file or a new PostgreSQL database) and serve it with uvicorn."""
    with tempfile.TemporaryDirectory(prefix="mercato-live-") as tmp:
        pg_name = None
        if BACKEND == "postgres":
            pg_name = f"mercato_live_{uuid.uuid4().hex[:10]}"
            await _pg_admin(f'CREATE DATABASE "{pg_name}"')
            database_url = f"{PG_BASE}/{pg_name}"
        else:
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'live.db'}"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update({
            "PYTHONPATH": os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "DATABASE_URL": database_url,
            "JWT_SECRET": "live-test-secret",
            "APP_URL": url,
            "OM_ENCRYPTION_KEY": "live-test-master-key-0123456789abcdef",
            "LOG_LEVEL": "warning",
            **extra_env,
        })
        log = Path(tmp) / "server.log"
        try:
            _run([sys.executable, "-m", "mercato.cli", "init", "--demo"], env, tmp, log, timeout=180)
            with _serve("mercato.asgi:app", env, tmp, log, port) as server:
                yield server
        finally:
            if pg_name:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@contextmanager
def serve_factory(factory: str) -> Iterator[LiveServer]:
    """Serve `module:function` (an app factory) with uvicorn; for apps that need no database."""
    with tempfile.TemporaryDirectory(prefix="mercato-live-") as tmp:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(SRC.parent), *filter(None, [os.environ.get("PYTHONPATH")])])
        with _serve(factory, env, tmp, Path(tmp) / "server.log", free_port(), "--factory") as server:
            yield server


@contextmanager
def _serve(target: str, env: dict[str, str], cwd: str, log: Path, port: int, *extra: str) -> Iterator[LiveServer]:
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-access-log", *extra],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            server = LiveServer(f"http://127.0.0.1:{port}", process, log)
            _wait_until_up(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_until_up(server: LiveServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/api/docs/openapi", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start within {timeout}s:\n{server.log_tail()}")
