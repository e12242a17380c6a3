"""A local, protocol-faithful Discord: REST v10 and the gateway on 127.0.0.1.

Modules, one concept each:

- ``emulator``: ``DiscordEmulator`` — the server and the API tests and the demo use
- ``settings``: ``DiscordSettings`` — app settings on Discord's side and sandbox limits
- ``state``: the world and every change to it (messages, threads, members)
- ``models`` / ``payloads``: world records and their Discord JSON shapes
- ``history``: a channel's messages, paged like GET /channels/{id}/messages
- ``mentions``: who a message pings, honouring ``allowed_mentions``
- ``snowflake``: ids with Discord's layout; shard of a guild
- ``intents``: intent bits, privileged intents, MESSAGE_CONTENT gating
- ``rest`` / ``request_body`` / ``errors`` / ``ratelimits``: the HTTP side
- ``gateway`` / ``connection`` / ``hub`` / ``sessions`` / ``compression``: the websocket side
- ``events``: world changes on their way to gateway sessions
- ``gateway_faults``: disconnects of live gateway connections on demand
"""

from socialdesk.sandbox.discord.emulator import COMMUNITY, PARTNERS, DiscordEmulator
from socialdesk.sandbox.discord.errors import DiscordAPIError
from socialdesk.sandbox.discord.gateway_faults import GatewayFaults
from socialdesk.sandbox.discord.sessions import GatewaySession
from socialdesk.sandbox.discord.settings import DiscordSettings, RateLimitRule

__all__ = [
    "COMMUNITY",
    "PARTNERS",
    "DiscordAPIError",
    "DiscordEmulator",
    "DiscordSettings",
    "GatewayFaults",
    "GatewaySession",
    "RateLimitRule",
]
