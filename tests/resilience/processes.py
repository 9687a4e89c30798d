"""Real `xinex api` / `xinex worker` processes on a database of their own, for outage tests.

The test session's app runs the background loops in-process on the shared test database; a
process under test gets a fresh database so that what happens there is its own doing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from tests.conftest import free_port


def xinex_command(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("xinex")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "xinex.cli", *args]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def fresh_database():
    """A new migrated database owned by the app role; its asyncpg URL (as the app role)."""
    from xinex.migrate import upgrade

    name = f"xinex_outage_{uuid.uuid4().hex[:10]}"
    admin_url = os.environ["XINEX_TEST_ADMIN_DATABASE_URL"]
    app_role = urlsplit(os.environ["XINEX_TEST_DATABASE_URL"]).username
    admin = await asyncpg.connect(_plain(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{app_role}"')
    finally:
        await admin.close()
    url = _with_database(os.environ["XINEX_TEST_DATABASE_URL"], name)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        admin = await asyncpg.connect(_plain(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class Process:
    """A `xinex <command>` child with its output in a log file; stopped by `stop()`."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(xinex_command(command, *args), env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def child_env(tmp_path: Path, **xinex: str) -> dict[str, str]:
    """The test configuration (cheap hashing, generous limits, private targets allowed) plus `xinex`
    (e.g. database_url=…) as XINEX_* variables."""
    env = dict(os.environ)
    env.update({"XINEX_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    env.update({f"XINEX_{k.upper()}": v for k, v in xinex.items()})
    return env


async def start_api(env: dict[str, str], tmp_path: Path) -> tuple[Process, str]:
    port = free_port()
    proc = Process("api", {**env, "XINEX_HTTP_PORT": str(port)}, tmp_path / "api.log", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    await wait_for(lambda: _answers(base, proc), 60, lambda: f"xinex api did not start:\n{proc.output()}")
    return proc, base


async def _answers(base: str, proc: Process) -> bool:
    if not proc.alive:
        raise AssertionError(f"xinex api exited with {proc.proc.returncode}:\n{proc.output()}")
    try:
        async with httpx.AsyncClient() as c:
            return (await c.get(base + "/health/live", timeout=1)).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_for(condition, timeout: float, message) -> None:
    """Poll `condition` (sync or async) until true; fail with `message()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        await asyncio.sleep(0.2)
