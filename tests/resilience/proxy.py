"""A TCP proxy a test can cut: real outages of PostgreSQL or Redis without touching the servers.

The proxy runs its own event loop in a thread, so it serves an app under test in the same
process (ASGI) as well as a subprocess (`xinex worker`). `cut()` closes every relayed connection
and stops listening (new connections are refused, as when the server is down); `restore()`
listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"tcp-proxy-{self.port}", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0  # connections relayed so far
        self._blackholed = False
        self._refusal: str | None = None  # "reset" or "read-close": how accepted connections end
        self._relays: list[dict] = []

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or _default_port(parts.scheme))

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by this proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (userinfo + "@" if userinfo else "") + f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def start(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def restore(self) -> None:
        self._refusal = None
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def blackhole(self) -> None:
        """Keep every connection open and accept new ones, but deliver nothing either way: a server
        that stopped answering (a network partition), which only timeouts can detect."""
        self._blackholed = True
        self._refusal = None
        for relay in self._relays:
            relay["silent"] = True

    def reset_connections(self, mode: str = "reset") -> None:
        """Keep listening but end every connection at once: `"reset"` accepts and closes with an RST
        (SO_LINGER 0), `"read-close"` reads what the client sends, then closes (a restarting server or
        a load balancer without a backend). Open relays are reset too. `restore()` ends it."""
        assert mode in ("reset", "read-close"), mode
        self._refusal = mode
        self._call(self._drop_connections())

    def heal(self, *, drop_silenced: bool = True) -> None:
        """End a blackhole: new connections relay again. The connections it silenced are dropped,
        or with `drop_silenced=False` stay open and silent for good (half-dead TCP sessions that
        only a client-side timeout ends)."""
        self._blackholed = False
        if drop_silenced:
            self._call(self._drop_connections())

    async def _drop_connections(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    def close(self) -> None:
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()  # RST: the client sees the connection drop at once
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._refusal is not None:
            await self._refuse(client_reader, client_writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.accepted += 1
        self._writers.update((client_writer, upstream_writer))
        relay = {"silent": self._blackholed}
        self._relays.append(relay)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    if relay["silent"]:
                        continue  # swallowed
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(pump(client_reader, upstream_writer), pump(upstream_reader, client_writer))


    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            if self._refusal == "read-close":
                await asyncio.wait_for(reader.read(65536), 1)
                writer.close()
                return
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_port(scheme: str) -> int:
    return 6379 if scheme.startswith("redis") else 5432
