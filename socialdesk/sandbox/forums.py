"""The community-forum emulators together: Reddit, a Discourse forum and a webhook-integrated shop.

Started by :class:`socialdesk.sandbox.cluster.Sandbox` with the others, sharing its traffic
record. The Discourse forum sends its webhooks to ``discourse.webhooks.url`` once a desk's
push server is known (``socialdesk sandbox`` prints where to point it).
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk.sandbox.discourse import DiscourseEmulator
from socialdesk.sandbox.reddit import RedditEmulator
from socialdesk.sandbox.traffic import TrafficRecorder
from socialdesk.sandbox.webhook import WebhookEmulator

# The variable names plugins.toml points at (the plugins' defaults; the shop's is the demo's).
REDDIT_ENV = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")
DISCOURSE_ENV = ("DISCOURSE_API_KEY", "DISCOURSE_API_USERNAME", "DISCOURSE_WEBHOOK_SECRET")
WEBHOOK_ENV = ("WEBHOOK_SHOP_SECRET",)


@dataclass
class ForumSandbox:
    reddit: RedditEmulator
    discourse: DiscourseEmulator
    webhook: WebhookEmulator

    @classmethod
    async def start(cls, recorder: TrafficRecorder) -> ForumSandbox:
        forums = cls(RedditEmulator(recorder=recorder), DiscourseEmulator(recorder=recorder),
                     WebhookEmulator(recorder=recorder))
        started: list[RedditEmulator | DiscourseEmulator | WebhookEmulator] = []
        try:
            for emulator in (forums.reddit, forums.discourse, forums.webhook):
                await emulator.start()
                started.append(emulator)
        except BaseException:
            for emulator in reversed(started):
                await emulator.stop()
            raise
        return forums

    async def stop(self) -> None:
        for emulator in (self.webhook, self.discourse, self.reddit):
            await emulator.stop()

    def environment(self) -> dict[str, str]:
        reddit, forum = self.reddit, self.discourse
        values = ((reddit.script_app.client_id, reddit.script_app.client_secret, reddit.brand, reddit.password),
                  (forum.api_key, forum.api_username, forum.webhooks.secret), (self.webhook.secret,))
        return {name: value for names, vals in zip((REDDIT_ENV, DISCOURSE_ENV, WEBHOOK_ENV), values)
                for name, value in zip(names, vals)}

    def endpoints(self) -> dict[str, str]:
        return {"reddit (oauth + api)": self.reddit.base_url, "discourse": self.discourse.base_url,
                "webhook shop callback": self.webhook.callback_url("shop")}
