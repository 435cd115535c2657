"""A TCP proxy that makes a loopback link look like a WAN link to nvcr.io: a fixed one-way delay
on every chunk (half the round trip) and a bandwidth cap per connection. Counts bytes moved."""

from __future__ import annotations

import asyncio
import threading
import time


class WanProxy:
    def __init__(self, upstream_port: int, rtt_ms: float = 40.0, rate_mb_s: float = 25.0, shaped: bool = True) -> None:
        self.upstream_port = upstream_port
        self.delay = rtt_ms / 2000.0 if shaped else 0.0
        self.rate = rate_mb_s * 1_000_000 if shaped else 0.0
        self.bytes = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, up_writer), self._pipe(up_reader, client_writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward in order; each chunk leaves ``delay`` after it arrived, no faster than ``rate``."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while chunk := await reader.read(65536):
                await queue.put((time.monotonic() + self.delay, chunk))
            await queue.put((0.0, b""))

        async def send() -> None:
            free_at = time.monotonic()
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                now = time.monotonic()
                start = max(due, free_at if self.rate else now)
                if start > now:
                    await asyncio.sleep(start - now)
                free_at = max(start, time.monotonic()) + (len(chunk) / self.rate if self.rate else 0.0)
                writer.write(chunk)
                await writer.drain()
                self.bytes += len(chunk)
            writer.close()

        await asyncio.gather(receive(), send(), return_exceptions=True)
