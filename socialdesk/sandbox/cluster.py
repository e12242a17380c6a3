"""All the emulators together: what `socialdesk sandbox`, `socialdesk demo` and tests start.

Slack, X, Discord, Bluesky, Mastodon and an OpenAI-compatible model endpoint here; Reddit, Discourse and the
webhook shop in :mod:`socialdesk.sandbox.forums`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from socialdesk.sandbox.bluesky import BlueskyEmulator
from socialdesk.sandbox.discord import DiscordEmulator
from socialdesk.sandbox.forums import ForumSandbox
from socialdesk.sandbox.mastodon import MastodonEmulator
from socialdesk.sandbox.openai import OpenAIEmulator
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.slack import SlackEmulator
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.x import XEmulator

# The variable names plugins.toml points at in the sandbox configuration. The values
# are the emulators' own throw-away credentials: they open nothing outside 127.0.0.1.
SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
X_ENV = ("X_BEARER_TOKEN", "X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
DISCORD_ENV = ("DISCORD_BOT_TOKEN",)
MASTODON_ENV = ("MASTODON_ACCESS_TOKEN",)
BLUESKY_ENV = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
OPENAI_ENV = ("OPENAI_API_KEY",)  # the drafts plugin's default api_key_env


@dataclass
class Sandbox:
    slack: SlackEmulator
    x: XEmulator
    discord: DiscordEmulator
    recorder: TrafficRecorder
    bluesky: BlueskyEmulator
    mastodon: MastodonEmulator
    forums: ForumSandbox | None = None  # Reddit, Discourse, the webhook shop (started by start())
    openai: OpenAIEmulator | None = None  # the drafts plugin's model endpoint (started by start())

    @classmethod
    async def start(cls, record: str | Path | None = None) -> Sandbox:
        """Start every emulator on a free loopback port, sharing one traffic record."""
        recorder = TrafficRecorder(record)
        sandbox = cls(SlackEmulator(recorder=recorder), XEmulator(recorder=recorder),
                      DiscordEmulator(recorder=recorder), recorder, BlueskyEmulator(recorder=recorder),
                      MastodonEmulator(recorder=recorder))
        sandbox.openai = OpenAIEmulator(recorder=recorder)
        started: list[EmulatorServer] = []
        try:
            for emulator in (sandbox.slack, sandbox.x, sandbox.discord, sandbox.bluesky, sandbox.mastodon,
                             sandbox.openai):
                await emulator.start()
                started.append(emulator)
            sandbox.forums = await ForumSandbox.start(recorder)
        except BaseException:
            for emulator in reversed(started):
                await emulator.stop()
            recorder.close()
            raise
        return sandbox

    async def stop(self) -> None:
        if self.forums is not None:
            await self.forums.stop()
        if self.openai is not None:
            await self.openai.stop()
        for emulator in (self.mastodon, self.bluesky, self.discord, self.x, self.slack):
            await emulator.stop()
        self.recorder.close()

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def environment(self) -> dict[str, str]:
        """Environment variables holding the sandbox credentials, named as in plugins.toml."""
        app, brand = self.x.app_credentials, self.x.brand_credentials
        values = (
            (self.slack.bot_token, self.slack.app_token, self.slack.signing_secret),
            (app.bearer_token, app.consumer_key, app.consumer_secret, brand.access_token, brand.access_token_secret),
            (self.discord.token,),
        )
        values += ((self.bluesky.brand_handle, self.bluesky.brand_password),)
        environment = {name: value for names, vals in zip((SLACK_ENV, X_ENV, DISCORD_ENV, BLUESKY_ENV), values)
                       for name, value in zip(names, vals)}
        environment.update(zip(MASTODON_ENV, (self.mastodon.brand_token,)))
        if self.openai is not None:
            environment.update(zip(OPENAI_ENV, (self.openai.api_key,)))
        return {**environment, **(self.forums.environment() if self.forums else {})}

    def endpoints(self) -> dict[str, str]:
        return {
            "slack web api": self.slack.api_url,
            "x api": self.x.base_url,
            "discord rest": self.discord.api_base,
            "discord gateway": self.discord.gateway_url,
            "bluesky service": self.bluesky.base_url,
            "mastodon api": self.mastodon.base_url,
            **({"openai-compatible": self.openai.api_url} if self.openai is not None else {}),
            **(self.forums.endpoints() if self.forums else {}),
        }
