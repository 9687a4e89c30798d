"""`xinex run` as a real child process, the way `make run` starts it: only the defaults plus what a test adds."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port


def xinex_command() -> list[str]:
    exe = Path(sys.executable).with_name("xinex")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xinex.cli"]


@dataclass
class EmbeddedServer:
    base: str
    port: int
    workdir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (out := self.log()):
                return out
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared in the log:\n{self.log()}")


@contextlib.contextmanager
def embedded_server(workdir: Path, **extra_env: str) -> Iterator[EmbeddedServer]:
    # Nothing of the test configuration may leak in: the child sees only the defaults.
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}
    port = free_port()
    env.update({
        "XINEX_DATA_DIR": str(workdir / "var"),
        "XINEX_HTTP_PORT": str(port),
        "XINEX_OTLP_GRPC_PORT": str(free_port()),
        "XINEX_OTLP_HTTP_PORT": str(free_port()),
        "XINEX_PUBLIC_URL": f"http://127.0.0.1:{port}",  # ping URLs and links point at this server
        **extra_env,
    })
    log_path = workdir / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*xinex_command(), "run"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=workdir, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"xinex run exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"/health never answered:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield EmbeddedServer(base=base, port=port, workdir=workdir, log_path=log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
