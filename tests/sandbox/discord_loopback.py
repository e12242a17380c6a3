"""Point the real discord.py at the Discord emulator, and run clients in tests without hanging.

discord.py has two hard-coded hosts: ``discord.http.Route.BASE`` (every REST URL is built
from it when a Route is made) and ``DiscordWebSocket.DEFAULT_GATEWAY`` (``Client.connect``
and re-IDENTIFY after op 9 go there; only ``AutoShardedClient`` asks GET /gateway/bot, and
RESUME uses READY's ``resume_gateway_url``). ``pointed_at`` swaps both and restores them.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from socialdesk.sandbox.discord import DiscordEmulator

WAIT = 15.0  # seconds any single wait may take before the test fails instead of hanging

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextmanager
def pointed_at(emulator: DiscordEmulator) -> Iterator[None]:
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = emulator.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url + "/")
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


class _FastIdentify:
    """discord.py waits 5 s before every non-initial IDENTIFY (Discord's identify rate limit);
    the emulator does not enforce it, so test clients skip the wait through the documented hook."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


class SandboxClient(_FastIdentify, discord.Client):
    pass


class SandboxShardedClient(_FastIdentify, discord.AutoShardedClient):
    pass


def intents(*, message_content: bool = True, members: bool = False) -> discord.Intents:
    value = discord.Intents.default()
    value.message_content = message_content
    value.members = members
    return value


def make_client(cls: type[ClientT] = SandboxClient, **options: Any) -> ClientT:  # type: ignore[assignment]
    options.setdefault("intents", intents())
    options.setdefault("guild_ready_timeout", 0.05)  # READY waits this long after the last GUILD_CREATE
    return cls(**options)


async def eventually(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll ``predicate`` until it is truthy; fail (not hang) after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(client: ClientT, emulator: DiscordEmulator, timeout: float = WAIT) -> AsyncIterator[ClientT]:
    """Start ``client`` against the emulator, wait until it is ready, and always close it."""
    with pointed_at(emulator):
        task = asyncio.create_task(client.start(emulator.token), name="discord-client")
        try:
            await eventually(lambda: client.is_ready() or task.done(), timeout, "the client to be ready")
            if task.done():
                task.result()  # raise what stopped the client
                raise AssertionError("the client stopped before it was ready")
            yield client
        finally:
            await asyncio.wait_for(client.close(), timeout)
            try:
                await asyncio.wait_for(task, timeout)
            except (discord.DiscordException, asyncio.CancelledError):
                pass


class Inbox:
    """Messages a client received through on_message, excluding its own."""

    def __init__(self, client: discord.Client) -> None:
        self.messages: list[discord.Message] = []
        self.own: list[discord.Message] = []

        @client.event
        async def on_message(message: discord.Message) -> None:
            (self.own if message.author == client.user else self.messages).append(message)

    def ids(self) -> list[int]:
        return [m.id for m in self.messages]


class RawGateway:
    """The gateway protocol by hand (aiohttp), for what discord.py never sends or hides."""

    def __init__(self, ws: Any, compressed: bool) -> None:
        self.ws = ws
        self.compressed = compressed
        self._inflate = zlib.decompressobj()
        self.binary_frames: list[bytes] = []

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next payload; raises ``GatewayClosed`` with the close code if the server closed."""
        buffer = b""
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), timeout)
            if msg.type is aiohttp.WSMsgType.TEXT:
                return json.loads(msg.data)
            if msg.type is aiohttp.WSMsgType.BINARY:
                self.binary_frames.append(msg.data)
                buffer += msg.data
                if buffer.endswith(b"\x00\x00\xff\xff"):
                    return json.loads(self._inflate.decompress(buffer))
                continue
            raise GatewayClosed(msg.data if msg.type is aiohttp.WSMsgType.CLOSE else self.ws.close_code)

    async def receive_dispatch(self, name: str, timeout: float = WAIT) -> dict[str, Any]:
        """Skip other payloads (heartbeat ACKs, other events) until dispatch ``name`` arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            payload = await self.receive(max(0.01, deadline - loop.time()))
            if payload["op"] == 0 and payload["t"] == name:
                return payload

    async def send(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data}))

    async def identify(self, token: str, intents_value: int, shard: list[int] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"token": token, "intents": intents_value,
                                "properties": {"os": "linux", "browser": "raw", "device": "raw"}}
        if shard is not None:
            data["shard"] = shard
        await self.send(2, data)
        return await self.receive_dispatch("READY")


class GatewayClosed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"gateway closed with {code}")
        self.code = code


@asynccontextmanager
async def raw_gateway(emulator: DiscordEmulator, *, compress: bool = False, path: str = "/",
                      query: dict[str, str] | None = None, close_code: int = 1000) -> AsyncIterator[RawGateway]:
    """A hand-driven gateway connection; closing with 1000 ends the session, 4000 keeps it resumable."""
    params = {"v": "10", "encoding": "json", **({"compress": "zlib-stream"} if compress else {}), **(query or {})}
    url = f"ws://127.0.0.1:{emulator.port}{path}"
    async with aiohttp.ClientSession() as session:
        ws = await asyncio.wait_for(session.ws_connect(url, params=params, autoclose=False), WAIT)
        gateway = RawGateway(ws, compress)
        try:
            yield gateway
        finally:
            await asyncio.wait_for(ws.close(code=close_code), WAIT)
