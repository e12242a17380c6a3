"""The demo's story: customers speak on X, Discord, Bluesky, Mastodon and forums, agents answer from Slack.

Everything crosses real loopback connections: tweepy polls the X emulator, discord.py
holds a gateway session with the Discord emulator, atproto polls the Bluesky emulator, slack-bolt runs in Socket Mode
against the Slack emulator, and the agents' slash commands arrive as Slack would send
them. The narration prints what each side sees.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from socialdesk.core.app import DeskApp
from socialdesk.core.config import parse_config
from socialdesk.core.store.database import Database
from socialdesk.core.store.migrate import upgrade
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.runtime.replica import run_desk
from socialdesk.core.slack.card import CARD_EVENT_TYPE
from socialdesk.core.slack.incident_actions import REPLY_ALL_CALLBACK, IncidentInputs
from socialdesk.core.slack.incident_card import INCIDENT_EVENT_TYPE, IncidentActions
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.demo.config import AGENT, DESK_CHANNEL, SECOND_AGENT, demo_config, render_toml
from socialdesk.demo.forums import forums_chapter
from socialdesk.plugins.bluesky.plugin import poll_notifications
from socialdesk.plugins.discord.plugin import runtime_for as discord_runtime
from socialdesk.plugins.mastodon.html_text import html_to_text
from socialdesk.plugins.x.plugin import poll_timeline
from socialdesk.sandbox.cluster import Sandbox

STEP_TIMEOUT = 30.0
STORM_PEOPLE = ("maria_k", "tom_b", "lee_w", "priya_n", "jonas_h")
STORM_TEXT = "@acme checkout keeps failing with error 502 when I try to pay, {n}"
STORM_ANSWER = "Hi {name}, checkout had an outage between 10:02 and 10:20; it works again. Sorry! {handle}"
DEMO_DRAFT = ("Hi! Sorry your refund is taking a while. Refunds reach your account 3-5 working days after "
              "we send them; could you DM us the order number so we can check it?")
Say = Callable[[str], None]


class DemoFailed(Exception):
    """A step of the story did not happen in time: the desk is broken, say so."""


async def eventually(what: str, check: Callable[[], Awaitable[Any]], timeout: float = STEP_TIMEOUT) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise DemoFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


class Demo:
    def __init__(self, sandbox: Sandbox, app: DeskApp, say: Say) -> None:
        self.sandbox = sandbox
        self.app = app
        self.say = say
        self.slack_driver = sandbox.slack.driver()  # Socket Mode: what the agents' clicks become

    def cards(self) -> list[Any]:
        """Ticket cards in #social-desk (incident cards are listed by ``incident_cards``)."""
        return [m for m in self.sandbox.slack.timeline(DESK_CHANNEL) if _event_type(m) == CARD_EVENT_TYPE]

    def incident_cards(self) -> list[Any]:
        return [m for m in self.sandbox.slack.timeline(DESK_CHANNEL) if _event_type(m) == INCIDENT_EVENT_TYPE]

    async def ticket_for(self, platform: str, text_part: str) -> TicketSnapshot:
        async def find() -> TicketSnapshot | None:
            for ticket in await self.app.service.queue(limit=100):
                messages = await self.app.service.messages_of(ticket.id)
                if ticket.platform == platform and any(text_part in m.text for m in messages):
                    return ticket
            return None

        return await eventually(f"the {platform} ticket about {text_part!r}", find)

    async def desk(self, user: str, text: str) -> None:
        seen = len(self.sandbox.slack.ephemerals(DESK_CHANNEL, user))
        self.say(f"  slack  <@{user}> /desk {text}")
        delivery = await self.slack_driver.slash_command("/desk", text, user=user, channel=DESK_CHANNEL)
        if not delivery.acked:
            raise DemoFailed(f"/desk {text} was not acknowledged within Slack's 3 seconds")
        # Every /desk command answers its agent; the answer may come after the ack.
        answers = await eventually(f"the answer to /desk {text}",
                                   lambda: _truthy(self.sandbox.slack.ephemerals(DESK_CHANNEL, user)[seen:]))
        for ephemeral in answers:
            self.say(f"  slack  (only {user} sees) {ephemeral.text[:160]}")

    async def run(self) -> None:
        say, x, discord = self.say, self.sandbox.x, self.sandbox.discord
        x.add_user("dana_dev", "Dana", followers=12_400, verified=True)
        x.add_user("sam_s", "Sam", followers=85)

        # A desk seeing a Discord server for the first time reads it "from now" (backfill_limit = 0):
        # customers speak once the gateway is connected and the server has been read once.
        await eventually("the Discord gateway to connect", lambda: _truthy(discord_runtime(self.app).ready))

        say("\n1. Customers speak")
        outage = x.post_as("dana_dev", "@acme the app is down for everyone, I can't log in!! #outage")
        say(f"  x      @dana_dev: {outage['text']}")
        praise = x.post_as("sam_s", "@acme love the new update <!channel> *so* good")
        say(f"  x      @sam_s: {praise['text']}  (tries to ping the whole Slack channel)")
        support = discord.channel_id("support")
        refund = discord.post_message(support, "alice", "my refund for order 123456 hasn't arrived, help?",
                                      mentions_bot=True)
        say(f"  discord alice in #support: {refund['content']}")

        say("\n2. The desk picks them up (X is polled; Discord arrives over the gateway)")
        await poll_timeline(self.app, "x.poll_mentions")
        await eventually("three triage cards in #social-desk", lambda: _truthy(len(self.cards()) >= 3))
        for card in self.cards():
            say(f"  slack  card: {card.text[:150]}")
            for line in _triage_lines(card.blocks):
                say(f"           {line}")

        say("\n3. Agents work the queue from Slack")
        x_ticket = await self.ticket_for("x", "the app is down")
        discord_ticket = await self.ticket_for("discord", "refund")
        say(f"  desk   X outage is {x_ticket.ref}: P{x_ticket.priority} {x_ticket.category}; "
            f"why: {', '.join(x_ticket.priority_reasons) or '-'}")
        await self.desk(AGENT, f"claim {x_ticket.id}")
        await self.desk(SECOND_AGENT, f"claim {x_ticket.id}")  # too late: told who has it
        await self.app_home(AGENT)
        await self.desk(AGENT, f"reply {x_ticket.id} Sorry Dana! We're on it, status: https://status.acme.example")
        answer = await eventually("the agent's reply on X",
                                  lambda: _truthy(x.replies_by("acme")))
        say(f"  x      @acme, in reply to @dana_dev: {answer[0]['text']}")

        await self.draft_in_reply_form(discord_ticket)
        await self.desk(SECOND_AGENT, f"reply {discord_ticket.id} Hi! Your refund was sent today, 3-5 days @everyone")
        bot_id = discord.bot_user["id"]

        async def bot_reply() -> list[dict[str, Any]]:
            return [m for m in discord.messages(support) if str(m["author"]["id"]) == str(bot_id)]

        sent = await eventually("the agent's reply on Discord", bot_reply)
        say(f"  discord Acme Support replied to alice: {sent[0]['content']}  "
            f"(pinged: {sent[0].get('mention_everyone', False) and 'everyone' or 'nobody'})")

        say("\n4. The conversation goes on")
        follow = x.post_as("dana_dev", "@acme thanks, it works again", in_reply_to=answer[0]["id"])
        say(f"  x      @dana_dev: {follow['text']}")
        await poll_timeline(self.app, "x.poll_mentions")
        await eventually("the follow-up joining its ticket",
                         lambda: self._has_messages(x_ticket.id, 3))
        await self.desk(AGENT, f"close {x_ticket.id} resolved")

        await self.bluesky()
        await self.storm()
        await self.mastodon()
        await forums_chapter(self, eventually, _truthy)

        say("\n7. What happened")
        for ticket_id in (x_ticket.id, discord_ticket.id):
            trail = await self.app.service.audit_trail(ticket_id)
            say(f"  #{ticket_id}: " + " → ".join(event.kind.value for event in trail))
        card_edits = sum(len(card.history) for card in self.cards())
        say(f"  slack: {len(self.cards())} ticket cards and {len(self.incident_cards())} incident card in "
            f"#social-desk, {card_edits} in-place updates, "
            f"{len(self.sandbox.recorder.records)} requests and frames recorded across the emulators")

    async def app_home(self, user: str) -> None:
        """The agent opens the app's Home tab: their tickets, SLA clocks, the queue, incidents."""
        slack = self.sandbox.slack
        self.say(f"  slack  <@{user}> opens the socialdesk App Home tab")
        before = len(slack.state.homes.publishes)
        delivery = await self.slack_driver.open_home(user)
        if not delivery.acked:
            raise DemoFailed("app_home_opened was not acknowledged within Slack's 3 seconds")
        await eventually("the App Home to be published",
                         lambda: _truthy(len(slack.state.homes.publishes) > before))
        view = slack.home(user)
        for line in _home_lines(view.blocks if view else []):
            self.say(f"  home   {line}")

    async def mastodon(self) -> None:
        """A Mastodon customer writes privately; the answer goes back in their thread, just as private."""
        say, masto = self.say, self.sandbox.mastodon
        say("\nMastodon: a customer writes a private mention (the user stream brings it at once)")
        masto.add_account("noor", "Noor", domain="fosstodon.example", followers=310)
        question = masto.post_as("noor@fosstodon.example",
                                 "@acme my invoice shows the wrong VAT number, can you fix it? <!here>",
                                 visibility="direct")
        say(f"  mastodon @noor@fosstodon.example (direct): {html_to_text(question['content'])}")
        ticket = await self.ticket_for("mastodon", "wrong VAT number")
        await self.desk(AGENT, f"claim {ticket.id}")
        await self.desk(AGENT, f"reply {ticket.id} Hi Noor, fixed: a corrected invoice is on its way.")
        answers = await eventually("the agent's reply on Mastodon", lambda: _truthy(masto.replies_by("acme")))
        if len(answers) != 1 or answers[0]["in_reply_to_id"] != question["id"]:
            raise DemoFailed(f"the Mastodon answer is not once in the customer's thread: {answers}")
        if answers[0]["visibility"] != "direct":
            raise DemoFailed(f"a direct mention was answered {answers[0]['visibility']}")
        say(f"  mastodon @acme, in reply to @noor@fosstodon.example ({answers[0]['visibility']}): "
            f"{html_to_text(answers[0]['content'])}")

    async def bluesky(self) -> None:
        """A Bluesky customer is answered in their thread, with a real link facet."""
        say, bsky = self.say, self.sandbox.bluesky
        brand = bsky.brand_handle
        say("\n4b. Bluesky: a customer mentions the brand, and is answered in their thread")
        bsky.add_user("jo.bsky.social", "Jo")
        question = bsky.post_as("jo.bsky.social", f"@{brand} my parcel says delivered but it isn't here 📦 @channel")
        say(f"  bluesky @jo.bsky.social: {question['record']['text']}")
        await poll_notifications(self.app)
        ticket = await self.ticket_for("bluesky", "my parcel says delivered")
        await self.desk(SECOND_AGENT, f"claim {ticket.id}")
        await self.desk(SECOND_AGENT, f"reply {ticket.id} Sorry Jo! A courier calls you today, tracking: "
                                      "https://acme.example/t/77 ✅")
        (answer,) = await eventually("the agent's reply on Bluesky", lambda: _truthy(bsky.replies_by(brand)))
        if answer["record"]["reply"]["root"]["uri"] != question["uri"]:
            raise DemoFailed("the Bluesky reply did not land in the customer's thread")
        links = [f["uri"] for facet in answer["record"].get("facets", []) for f in facet["features"] if "uri" in f]
        say(f"  bluesky @{brand}, in Jo's thread: {answer['record']['text']}  (link facets: {', '.join(links)})")
        thanks = bsky.post_as("jo.bsky.social", "got it, thank you!", reply_to=answer["uri"])
        say(f"  bluesky @jo.bsky.social: {thanks['record']['text']}")
        await poll_notifications(self.app)
        await eventually("the Bluesky follow-up joining its ticket", lambda: self._has_messages(ticket.id, 3))

        async def card_posted() -> str | None:  # Slack paces the channel: the card may trail the answer
            return (await self.app.service.get_ticket(ticket.id)).card_ts

        await eventually("the Bluesky ticket's card in #social-desk", card_posted)
        say(f"  desk   the follow-up joined {ticket.ref}: one ticket for the whole thread")

    async def draft_in_reply_form(self, ticket: TicketSnapshot) -> None:
        """The second agent opens Reply: a draft from the model endpoint appears in the form, not sent."""
        llm = self.sandbox.openai
        if llm is None or "drafts" not in self.app.config.enabled:
            return
        from socialdesk.core.slack.card import Actions
        from socialdesk.core.slack.modals import Callbacks
        from socialdesk.plugins.drafts.form import DraftBlocks

        llm.rule("refund", DEMO_DRAFT)
        card = await self.app.service.get_ticket(ticket.id)
        if not (await self.slack_driver.click(card.card_channel or DESK_CHANNEL, card.card_ts or "", Actions.REPLY,
                                              user=SECOND_AGENT)).acked:
            raise DemoFailed("the Reply click was not acknowledged")

        def drafted() -> Any:
            return next((b for v in reversed(self.sandbox.slack.views) if v.callback_id == Callbacks.REPLY
                         and v.user == SECOND_AGENT and not v.closed
                         for b in v.blocks if b.get("block_id") == DraftBlocks.DRAFT), None)

        block = await eventually("a draft in the reply form", lambda: _truthy(drafted()))
        self.say(f"  slack  <@{SECOND_AGENT}> opens Reply on {ticket.ref}: a draft from the model, not sent: "
                 f"{block['text']['text'][:160]}")

    async def storm(self) -> None:
        """Several people report the same problem at once: one incident card, one bulk answer."""
        say, x = self.say, self.sandbox.x
        say("\n5. A storm: five people report the same failure within a minute")
        posts = []
        for n, handle in enumerate(STORM_PEOPLE):
            x.add_user(handle, handle.split("_")[0].title(), followers=100 + n)
            posts.append(x.post_as(handle, STORM_TEXT.format(n=("help", "anyone?", "again", "!!", "please")[n])))
            say(f"  x      @{handle}: {posts[-1]['text']}")
        cards_before = len(self.cards())
        await poll_timeline(self.app, "x.poll_mentions")
        incidents = await eventually("the incident card", lambda: _truthy(self.incident_cards()))
        if len(incidents) != 1:
            raise DemoFailed(f"one storm made {len(incidents)} incident cards")
        incident = incidents[0]
        say(f"  slack  incident card: {incident.text[:150]}")
        say(f"  slack  ticket cards in #social-desk: {cards_before} before the storm, {len(self.cards())} after")
        driver = self.slack_driver
        if not (await driver.click(DESK_CHANNEL, incident.ts, IncidentActions.REPLY_ALL, user=AGENT)).acked:
            raise DemoFailed("the Reply to all click was not acknowledged")
        view = await eventually("the Reply to all form", lambda: _truthy(next(
            (v for v in reversed(self.sandbox.slack.views) if v.callback_id == REPLY_ALL_CALLBACK and not v.closed),
            None)))
        say(f"  slack  <@{AGENT}> Reply to all: {STORM_ANSWER}")
        submitted = await driver.submit_view(view.id, {IncidentInputs.TEXT: {IncidentInputs.TEXT_ACTION: STORM_ANSWER}})
        if submitted.outcome != "closed":
            raise DemoFailed(f"the Reply to all form was not accepted: {submitted}")
        conversations = {str(p["conversation_id"]) for p in posts}

        async def answered() -> list[dict[str, Any]]:
            replies = [r for r in x.replies_by("acme") if str(r["conversation_id"]) in conversations]
            return replies if len(replies) >= len(conversations) else []

        for reply in await eventually("one answer in each of the five conversations", answered):
            say(f"  x      @acme: {reply['text']}")

    async def _has_messages(self, ticket_id: int, count: int) -> bool:
        return len(await self.app.service.messages_of(ticket_id)) >= count


async def _truthy(value: Any) -> Any:
    return value


def _event_type(message: Any) -> str | None:
    return (message.metadata or {}).get("event_type") if not message.is_reply else None


def _home_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """Section headings and the first line of each row, as the agent reads the Home tab."""
    lines = []
    for block in blocks:
        if block["type"] == "header" and block.get("block_id") != "home_title":
            lines.append(block["text"]["text"])
        elif block["type"] == "section" and ":" in str(block.get("block_id", "")):
            first = block["text"]["text"].split("\n", 1)[0]
            lines.append("  " + re.sub(r"<[^|>]+\|([^>]+)>", r"\1", first)[:140])  # links shown by their label
        elif block["type"] == "context" and str(block.get("block_id", "")).startswith("empty:"):
            lines.append("  " + block["elements"][0]["text"])
    return lines


def _triage_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """The card's "Why P<n>" field and SLA clock, as an agent reads them."""
    lines = []
    for block in blocks:
        for field in block.get("fields") or []:
            if field["text"].startswith("*Why P"):
                lines.append(field["text"].replace("*", "").replace("\n", ": ", 1))
        if block["type"] == "context" and block["elements"][0]["text"].startswith("⏱"):
            lines.append(block["elements"][0]["text"])
    return lines


async def run_demo(say: Say = print, record: str | None = None, workdir: str | None = None) -> int:
    """Start the sandbox and the desk, play the story, stop everything. 0 when it all happened."""
    with tempfile.TemporaryDirectory(prefix="socialdesk-demo-") as scratch:
        # Absolute, so the written plugins.toml names the same database from any directory.
        work = Path(workdir or scratch).resolve()
        work.mkdir(parents=True, exist_ok=True)
        sandbox = await Sandbox.start(record=record)
        try:
            raw = demo_config(sandbox, work)
            (work / "plugins.toml").write_text(render_toml(raw), encoding="utf-8")
            saved = {name: os.environ.get(name) for name in sandbox.environment()}
            os.environ.update(sandbox.environment())  # secrets only from the environment, as in production
            say("socialdesk demo: SQLite + local Slack, X, Discord, Bluesky, Mastodon and forum emulators on 127.0.0.1")
            for name, url in sandbox.endpoints().items():
                say(f"  {name:16} {url}")
            say(f"  configuration    {work / 'plugins.toml'}")
            catalog = discover_plugins()
            config = parse_config(raw, catalog, file=str(work / "plugins.toml"))
            database = Database(config.database_url())
            await upgrade(database)
            app = DeskApp(config, build_plugin_manager(catalog, config), database)
            stop = asyncio.Event()
            desk = asyncio.create_task(run_desk(app, stop), name="desk")
            try:
                await sandbox.slack.socket_mode.wait_connected(timeout=STEP_TIMEOUT)
                await Demo(sandbox, app, say).run()
            finally:
                stop.set()
                await asyncio.wait_for(desk, STEP_TIMEOUT)
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        finally:
            await sandbox.stop()
    say("\nThe whole desk worked: mentions in, cards in Slack, one answer each, back in the customer's thread.")
    return 0
