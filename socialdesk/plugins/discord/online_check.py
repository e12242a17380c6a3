"""``socialdesk check --online`` for Discord: does the token work, and what can the bot see?

Over REST only (no gateway session is used up): the bot account, whether the Message
Content intent is switched on, the gateway and its shard recommendation, the servers the
bot is in with its server-wide permissions, and the watched channels. Every problem says
how to fix it. The token is read by the caller and never appears in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import discord

from socialdesk.plugins.discord.client import rest_session
from socialdesk.plugins.discord.settings import PLUGIN_NAME, DiscordSettings
from socialdesk.plugins.discord.watch import Watch

# What the desk needs in a channel: see it, read its history (catch-up, replies), post, post in threads.
NEEDED = discord.Permissions(view_channel=True, read_message_history=True, send_messages=True,
                             send_messages_in_threads=True)
INVITE_URL = "https://discord.com/oauth2/authorize?client_id={}&scope=bot&permissions={}"
KEY = f"plugins.{PLUGIN_NAME}"


@dataclass
class OnlineReport:
    seen: list[str] = field(default_factory=list)  # what the bot can see, one line each
    problems: list[str] = field(default_factory=list)  # each names the key or the setting to fix

    @property
    def ok(self) -> bool:
        return not self.problems


def _missing(permissions: discord.Permissions) -> list[str]:
    if permissions.administrator:
        return []
    return [name.replace("_", " ") for name, wanted in NEEDED if wanted and not getattr(permissions, name)]


async def check_online(settings: DiscordSettings, token: str) -> OnlineReport:
    report = OnlineReport()
    try:
        async with rest_session(settings, token) as client:
            await _inspect(client, settings, report)
    except discord.LoginFailure:
        report.problems.append(f"{KEY}.token_env: Discord refused the token in ${settings.token_env} (401); copy a "
                               "new one from the Developer Portal (your application → Bot → Reset Token)")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        report.problems.append(f"{KEY}.api_base: cannot reach Discord at {settings.api_base} ({type(exc).__name__})")
    except discord.HTTPException as exc:
        report.problems.append(f"{KEY}: Discord answered {exc.status} {exc.text or ''} while checking".strip())
    return report


async def _inspect(client: discord.Client, settings: DiscordSettings, report: OnlineReport) -> None:
    me, application = client.user, client.application
    assert me is not None and application is not None  # set by login
    report.seen.append(f"bot account: {me.name} (id {me.id}), application {application.name} (id {application.id})")
    flags = application.flags
    if not (flags.gateway_message_content or flags.gateway_message_content_limited):
        report.problems.append(
            "Message Content Intent is off: the bot only sees messages that mention it and keywords cannot "
            "match; switch it on in the Developer Portal (your application → Bot → Privileged Gateway Intents)")
    shards, gateway, limits = await client.http.get_bot_gateway()
    report.seen.append(f"gateway: {settings.gateway_url or gateway}, Discord recommends {shards} shard(s), "
                       f"{limits.get('remaining', '?')} session starts left today")
    if shards > 1 and not settings.sharded:
        report.problems.append(f"{KEY}.sharded: Discord asks for {shards} shards; set sharded = true")

    invite = INVITE_URL.format(application.id, NEEDED.value)
    watch = Watch(settings)
    guilds = await client.http.get_guilds(200)
    by_id = {int(g["id"]): g for g in guilds}
    for wanted in settings.guilds:
        if wanted not in by_id:
            report.problems.append(f"{KEY}.guilds: the bot is not in server {wanted}; invite it with {invite}")
    found_channels: set[int] = set()
    for guild_id, data in by_id.items():
        if not watch.watches_guild(guild_id):
            continue
        report.seen.append(f"server: {data['name']} (id {guild_id})")
        missing = _missing(discord.Permissions(int(data.get("permissions") or 0)))
        if missing:
            report.problems.append(f"server {data['name']}: the bot's role lacks {', '.join(missing)}; grant them "
                                   "in Server Settings → Roles (or re-invite with " + invite + ")")
        guild = await client.fetch_guild(guild_id)
        for channel in await guild.fetch_channels():
            if watch.watches(channel, guild_id):
                found_channels.add(channel.id)
                report.seen.append(f"  watching #{channel.name} ({channel.type.name}, id {channel.id})")
    for wanted in settings.channels:
        if wanted not in found_channels:
            report.problems.append(f"{KEY}.channels: channel {wanted} is not in a watched server the bot can see; "
                                   "check the id (Copy ID) and that the bot may view it")
