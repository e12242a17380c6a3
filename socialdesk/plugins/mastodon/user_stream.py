"""Mentions as they happen: the user stream (``GET /api/v1/streaming/user``), kept connected.

Mastodon.py reads the stream (server-sent events) with a blocking ``requests`` call, so
it runs in a thread of its own; each ``notification`` event crosses to the event loop,
where it is ingested like a polled mention (idempotent on the status id). The stream
never moves the catch-up cursor: a stream can miss events silently, so the cursor only
moves with complete pages of ``GET /api/v1/notifications``. Every time the stream
(re)connects, a catch-up runs, after the connection is open, so nothing that arrived
while it was down is lost. A broken stream reconnects with a growing pause (1 s up
to a minute). Stopping shuts the socket, which wakes the reading thread at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mastodon import StreamListener

from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS

if TYPE_CHECKING:
    from socialdesk.plugins.mastodon.runtime import MastodonRuntime

log = logging.getLogger(__name__)

FIRST_RECONNECT_PAUSE = 1.0
MAX_RECONNECT_PAUSE = 60.0


class _Listener(StreamListener):
    """Runs in the stream's thread; everything it learns is handed to the loop."""

    def __init__(self, stream: UserStream) -> None:
        super().__init__()
        self._stream = stream
        self.response: Any = None

    def handle_stream(self, response: Any) -> None:
        self.response = response
        self._stream.connected_from_thread(response)
        super().handle_stream(response)

    def on_notification(self, notification: Mapping[str, Any]) -> None:
        self._stream.event_from_thread(notification)

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        pass  # events newer than Mastodon.py: not mentions

    def on_abort(self, err: Exception) -> None:
        log.info("mastodon stream broke", extra={"error": type(err).__name__})


class UserStream:
    def __init__(self, runtime: MastodonRuntime) -> None:
        self._runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()
        self._response: Any = None
        self._response_lock = threading.Lock()
        self._connected: asyncio.Event | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._ingesting: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.events = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A thread of its own: the blocking read must not hold one of the loop's default workers.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mastodon-stream")
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="mastodon user stream")

    async def stop(self) -> None:
        self._stopping.set()
        self._interrupt()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for task in list(self._ingesting):
            task.cancel()
        await asyncio.gather(*self._ingesting, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # --- called from the stream's thread ----------------------------------------------------
    def connected_from_thread(self, response: Any) -> None:
        with self._response_lock:
            self._response = response
        if self._stopping.is_set():
            self._interrupt()
        elif self._loop is not None and self._connected is not None:
            self._loop.call_soon_threadsafe(self._connected.set)

    def event_from_thread(self, notification: Mapping[str, Any]) -> None:
        if self._loop is not None and not self._stopping.is_set():
            self._loop.call_soon_threadsafe(self._ingest_soon, notification)

    # --- on the loop ---------------------------------------------------------------------------
    def _ingest_soon(self, notification: Mapping[str, Any]) -> None:
        task = asyncio.create_task(self._ingest(notification))
        self._ingesting.add(task)
        task.add_done_callback(self._ingesting.discard)

    async def _ingest(self, notification: Mapping[str, Any]) -> None:
        self.events += 1
        runtime = self._runtime
        try:
            connection = await runtime.connection()
            brand = await connection.brand()
            mentions, _, _ = await runtime.catch_up.converter.convert([notification], brand.id)
            if mentions:
                await runtime.app.service.ingest_many(mentions)
        except CALL_ERRORS as exc:
            # Not lost: the cursor is still below it, the next catch-up ingests it.
            log.warning("mastodon stream: a mention waits for the next catch-up",
                        extra={"error": f"{type(exc).__name__}: {exc}"})

    async def _run(self) -> None:
        pause = FIRST_RECONNECT_PAUSE
        while not self._stopping.is_set():
            self._connected = asyncio.Event()
            assert self._loop is not None and self._executor is not None
            reading = self._loop.run_in_executor(self._executor, self._read_in_thread)
            connected = asyncio.ensure_future(self._connected.wait())
            try:
                await asyncio.wait({reading, connected}, return_when=asyncio.FIRST_COMPLETED)
                if connected.done() and not self._stopping.is_set():
                    pause = FIRST_RECONNECT_PAUSE
                    log.info("mastodon stream connected; catching up")
                    await self._runtime.catch_up.poll()
                    self.connections += 1  # connected and caught up
                await asyncio.shield(reading)
            except asyncio.CancelledError:
                self._stopping.set()
                self._interrupt()
                raise
            finally:
                connected.cancel()
            if self._stopping.is_set():
                break
            await asyncio.sleep(pause)
            pause = min(MAX_RECONNECT_PAUSE, pause * 2)

    def _read_in_thread(self) -> None:
        """Blocks until the stream ends, breaks or is interrupted; never raises."""
        try:
            client = self._runtime.stream_client()
            client.stream_user(_Listener(self), run_async=False)
        except Exception as exc:  # the thread must end quietly; the loop reconnects
            if not self._stopping.is_set():
                log.info("mastodon stream ended", extra={"error": f"{type(exc).__name__}: {exc}"})
        finally:
            with self._response_lock:
                self._response = None

    def _interrupt(self) -> None:
        """Wake the reading thread: shut its socket down (closing alone does not interrupt a read)."""
        with self._response_lock:
            response = self._response
        if response is None:
            return
        sock = _socket_of(response)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            response.close()
        except Exception:  # closing a half-read response from another thread may complain
            pass


def _socket_of(response: Any) -> socket.socket | None:
    """The socket under a streaming ``requests`` response (urllib3 -> http.client -> socket)."""
    raw = getattr(response, "raw", None)
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        return sock
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None
