"""The Slack emulator, exercised with the real client libraries: slack_sdk and slack-bolt.

Everything runs on 127.0.0.1: the emulator, and the Bolt apps that play the desk.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    ImageElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.slack import (
    RateLimits,
    SlackChannel,
    SlackEmulator,
    SlackUser,
    TimelineCaps,
    UserGroup,
    signature,
)
from socialdesk.sandbox.slack.ratelimit import RateLimiter
from socialdesk.sandbox.traffic import TrafficRecorder

CHANNEL = "C0SOCIAL01"
ALICE, BOB = "U0AGENT001", "U0AGENT002"


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(rate_limits=RateLimits.off()) as emulator:
        yield emulator


def web_client(slack: SlackEmulator, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, **kwargs)


@pytest.fixture
def client(slack: SlackEmulator) -> AsyncWebClient:
    return web_client(slack)


def bolt_app(slack: SlackEmulator) -> AsyncApp:
    # process_before_response: Bolt answers after the listener ran, so tests need no waiting.
    return AsyncApp(client=web_client(slack), signing_secret=slack.signing_secret, process_before_response=True)


@asynccontextmanager
async def serve_http(app: AsyncApp) -> AsyncIterator[str]:
    """Run a Bolt app in HTTP mode on 127.0.0.1; yields its request URL."""
    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()


async def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for something another task does; the timeout only bounds a failing test."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


def card(ticket: int) -> list[Any]:
    return [
        HeaderBlock(text=f"Ticket #{ticket}"),
        SectionBlock(text=MarkdownTextObject(text="*@customer*: my order never arrived")),
        ActionsBlock(elements=[
            ButtonElement(text="Claim", action_id="claim", value=str(ticket), style="primary"),
            ButtonElement(text="Reply", action_id="reply", value=str(ticket)),
            StaticSelectElement(placeholder="Snooze", action_id="snooze",
                                options=[Option(text="1 hour", value="1h"), Option(text="1 day", value="1d")]),
        ]),
    ]


def seed_for(pattern: list[bool], share: float) -> int:
    """A FaultPlan seed whose first draws hit (True) or miss (False) a fault of ``share`` as given."""
    for seed in range(10_000):
        rng = random.Random(seed)
        if [rng.random() < share for _ in pattern] == pattern:
            return seed
    raise AssertionError("no such seed")


# --- the server -------------------------------------------------------------------------------


async def test_starts_on_loopback_as_an_async_context_manager() -> None:
    async with SlackEmulator() as slack:
        assert isinstance(slack, SlackEmulator)
        assert slack.base_url.startswith("http://127.0.0.1:")
        assert slack.api_url == slack.base_url + "/api/"
        assert (await web_client(slack).auth_test())["ok"] is True
    with pytest.raises(aiohttp.ClientConnectionError):  # stopped: nothing listens any more
        await web_client(slack).auth_test()


async def test_auth_test_identifies_the_bot(slack: SlackEmulator, client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer.data == {"ok": True, "url": slack.base_url + "/", "team": "Sandbox", "user": "socialdesk",
                           "team_id": "T0SANDBOX1", "user_id": "U0DESKBOT1", "bot_id": "B0DESKBOT1",
                           "is_enterprise_install": False}


async def test_token_rules_answer_http_200_like_slack(slack: SlackEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async def post(method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
            async with session.post(slack.api_url + method, **kwargs) as answer:
                return answer.status, await answer.json()

        assert await post("auth.test") == (200, {"ok": False, "error": "not_authed"})
        bearer = {"Authorization": "Bearer xoxb-1111111111-wrong-token"}
        assert await post("auth.test", headers=bearer) == (200, {"ok": False, "error": "invalid_auth"})
        as_app = {"Authorization": f"Bearer {slack.app_token}"}
        assert (await post("chat.postMessage", headers=as_app, json={"channel": CHANNEL, "text": "x"}))[1]["error"] \
            == "not_allowed_token_type"
        as_bot = {"Authorization": f"Bearer {slack.bot_token}"}
        assert (await post("apps.connections.open", headers=as_bot))[1]["error"] == "not_allowed_token_type"
        assert (await post("apps.connections.open", headers=as_app))[1]["url"].startswith("ws://127.0.0.1:")


async def test_arguments_arrive_as_form_json_or_query(slack: SlackEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        form = {"token": slack.bot_token, "channel": CHANNEL, "text": "form"}
        async with session.post(slack.api_url + "chat.postMessage", data=form) as answer:
            assert (await answer.json())["ok"] is True
        headers = {"Authorization": f"Bearer {slack.bot_token}"}
        async with session.post(slack.api_url + "chat.postMessage", json={"channel": CHANNEL, "text": "json"},
                                headers=headers) as answer:
            assert (await answer.json())["ok"] is True
        query = {"token": slack.bot_token, "user": ALICE}
        async with session.get(slack.api_url + "users.info", params=query) as answer:
            assert (await answer.json())["user"]["name"] == "alice"
        async with session.post(slack.api_url + "chat.postMessage", data=b"{not json", headers={
                **headers, "Content-Type": "application/json"}) as answer:
            assert (await answer.json()) == {"ok": False, "error": "invalid_json"}
        async with session.post(slack.api_url + "chat.postMessage", json=[1, 2], headers=headers) as answer:
            assert (await answer.json()) == {"ok": False, "error": "json_not_object"}
    assert [m.text for m in slack.timeline(CHANNEL)] == ["form", "json"]
    assert [c.token_source for c in slack.api_calls[:3]] == ["param", "header", "param"]
    assert all(c.token is None for c in slack.api_calls)


async def test_unknown_method_is_404_unknown_method(client: AsyncWebClient) -> None:
    error = await api_error(client.api_call("chat.teleport"))
    assert error.response.status_code == 404
    assert error.response.data == {"ok": False, "error": "unknown_method", "req_method": "chat.teleport"}


# --- messages and the timeline ---------------------------------------------------------------------


async def test_post_message_keeps_blocks_and_answers_slacks_message_object(slack: SlackEmulator,
                                                                          client: AsyncWebClient) -> None:
    answer = await client.chat_postMessage(channel=CHANNEL, text="Ticket #1", blocks=card(1))
    message = answer["message"]
    assert answer["channel"] == CHANNEL and answer["ts"] == message["ts"]
    assert message["bot_id"] == "B0DESKBOT1" and message["user"] == "U0DESKBOT1"
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "actions"]
    assert all(b["block_id"] for b in message["blocks"])  # generated like Slack's when not given
    [shown] = slack.timeline(CHANNEL)
    assert (shown.ts, shown.text, shown.user, shown.bot_id) == (answer["ts"], "Ticket #1", "U0DESKBOT1", "B0DESKBOT1")
    assert shown.blocks == message["blocks"]
    assert slack.timeline("#social-desk") == [shown]  # by name too


async def test_ts_values_are_unique_increasing_and_slack_shaped() -> None:
    async with SlackEmulator(clock=lambda: 1_700_000_000.0, rate_limits=RateLimits.off()) as slack:
        client = web_client(slack)
        stamps = [(await client.chat_postMessage(channel=CHANNEL, text=str(n)))["ts"] for n in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert stamps[0] == "1700000000.000000" and stamps[4] == "1700000000.000004"


async def test_threads_and_conversations_replies(slack: SlackEmulator, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=CHANNEL, text="Ticket #2")
    first = await client.chat_postMessage(channel=CHANNEL, text="note 1", thread_ts=parent["ts"])
    assert first["message"]["thread_ts"] == parent["ts"] and first["message"]["parent_user_id"] == "U0DESKBOT1"
    await client.chat_postMessage(channel=CHANNEL, text="note 2", thread_ts=first["ts"])  # a reply's ts: same thread
    await client.chat_postMessage(channel=CHANNEL, text="broadcast", thread_ts=parent["ts"], reply_broadcast=True)
    await client.chat_postMessage(channel=CHANNEL, text="orphan", thread_ts="1600000000.000001")  # no such thread

    replies = (await client.conversations_replies(channel=CHANNEL, ts=parent["ts"]))["messages"]
    assert [m["text"] for m in replies] == ["Ticket #2", "note 1", "note 2", "broadcast"]
    assert replies[0]["reply_count"] == 3 and replies[0]["latest_reply"] == replies[-1]["ts"]
    assert [m.text for m in slack.thread(CHANNEL, parent["ts"])] == ["Ticket #2", "note 1", "note 2", "broadcast"]
    assert [m.text for m in slack.timeline(CHANNEL)] == ["Ticket #2", "broadcast", "orphan"]
    assert [r.text for r in slack.timeline(CHANNEL)[0].replies] == ["note 1", "note 2", "broadcast"]

    page = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"], limit=2)
    assert [m["text"] for m in page["messages"]] == ["Ticket #2", "note 1"] and page["has_more"] is True
    rest = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"], limit=2,
                                              cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["Ticket #2", "note 2"]
    assert (await api_error(client.conversations_replies(channel=CHANNEL, ts="1600000000.000009"))) \
        .response["error"] == "thread_not_found"
    assert (await api_error(client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="yesterday"))) \
        .response["error"] == "invalid_thread_ts"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")  # on purpose
async def test_chat_update_edits_in_place_and_keeps_history(slack: SlackEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Ticket #3", blocks=card(3))
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Ticket #3 claimed by alice")
    updated = await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Ticket #3 closed", blocks=[])
    assert updated["message"]["edited"]["user"] == "U0DESKBOT1" and "blocks" not in updated["message"]
    [message] = slack.timeline(CHANNEL)
    assert message.text == "Ticket #3 closed" and message.blocks is None
    assert [v.text for v in message.history] == ["Ticket #3", "Ticket #3 claimed by alice"]
    assert message.history[0].blocks is not None and message.edited is not None
    assert (await api_error(client.chat_update(channel=CHANNEL, ts="1600000000.000001", text="x"))) \
        .response["error"] == "message_not_found"
    assert (await api_error(client.chat_update(channel=CHANNEL, ts=posted["ts"]))).response["error"] == "no_text"


async def test_users_messages_cannot_be_edited_or_deleted_by_the_bot(slack: SlackEmulator,
                                                                     client: AsyncWebClient) -> None:
    message = slack.post_as(ALICE, CHANNEL, "hi desk")
    assert (await api_error(client.chat_update(channel=CHANNEL, ts=message.ts, text="x"))) \
        .response["error"] == "cant_update_message"
    assert (await api_error(client.chat_delete(channel=CHANNEL, ts=message.ts))).response["error"] \
        == "cant_delete_message"


async def test_chat_delete_removes_and_leaves_a_tombstone_for_threads(slack: SlackEmulator,
                                                                      client: AsyncWebClient) -> None:
    lone = await client.chat_postMessage(channel=CHANNEL, text="lone")
    parent = await client.chat_postMessage(channel=CHANNEL, text="parent")
    await client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])
    await client.chat_delete(channel=CHANNEL, ts=lone["ts"])
    await client.chat_delete(channel=CHANNEL, ts=parent["ts"])
    [tombstone] = slack.timeline(CHANNEL)
    assert tombstone.deleted and [r.text for r in tombstone.replies] == ["reply"]
    assert (await client.conversations_replies(channel=CHANNEL, ts=parent["ts"]))["messages"][0]["subtype"] \
        == "tombstone"


async def test_ephemerals_are_kept_per_user(slack: SlackEmulator, client: AsyncWebClient) -> None:
    answer = await client.chat_postEphemeral(channel=CHANNEL, user=ALICE, text="only for alice")
    await client.chat_postEphemeral(channel=CHANNEL, user=BOB, text="only for bob")
    assert [e.text for e in slack.ephemerals(CHANNEL, user=ALICE)] == ["only for alice"]
    assert slack.ephemerals(CHANNEL, user=ALICE)[0].ts == answer["message_ts"]
    assert len(slack.ephemerals(CHANNEL)) == 2 and slack.timeline(CHANNEL) == []
    assert (await api_error(client.chat_postEphemeral(channel=CHANNEL, user="U0NOBODY01", text="x"))) \
        .response["error"] == "user_not_in_channel"


async def test_permalink_is_loopback_and_shows_the_message(slack: SlackEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="link me")
    reply = await client.chat_postMessage(channel=CHANNEL, text="and me", thread_ts=posted["ts"])
    link = (await client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"]))["permalink"]
    assert link == f"{slack.base_url}/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}"
    reply_link = (await client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"]))["permalink"]
    assert reply_link.endswith(f"?thread_ts={posted['ts']}&cid={CHANNEL}")
    async with aiohttp.ClientSession() as session, session.get(link) as answer:
        assert (await answer.json())["text"] == "link me"


async def test_channel_errors() -> None:
    channels = [SlackChannel(CHANNEL, "social-desk"), SlackChannel("C0ARCHIVE1", "old", is_archived=True),
                SlackChannel("C0NOTJOIN1", "elsewhere", bot_is_member=False),
                SlackChannel("G0PRIVATE1", "secret", is_private=True, bot_is_member=False)]
    async with SlackEmulator(channels=channels) as slack:
        client = web_client(slack)
        for channel, error in (("C0NOWHERE1", "channel_not_found"), ("C0ARCHIVE1", "is_archived"),
                               ("C0NOTJOIN1", "not_in_channel"), ("G0PRIVATE1", "channel_not_found")):
            assert (await api_error(client.chat_postMessage(channel=channel, text="x"))).response["error"] == error


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")  # on purpose
async def test_text_limits(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel=CHANNEL, text="x" * 40_000))["ok"] is True
    assert (await api_error(client.chat_postMessage(channel=CHANNEL, text="x" * 40_001))).response["error"] \
        == "msg_too_long"
    assert (await api_error(client.chat_postMessage(channel=CHANNEL, text=""))).response["error"] == "no_text"


async def test_messages_to_a_user_go_to_their_dm(slack: SlackEmulator, client: AsyncWebClient) -> None:
    answer = await client.chat_postMessage(channel=ALICE, text="ticket #9 breached its SLA")
    assert answer["channel"].startswith("D")
    assert [m.text for m in slack.dm(ALICE)] == ["ticket #9 breached its SLA"]


async def test_workspace_users_and_groups_come_from_the_constructor() -> None:
    users = [SlackUser("U0ZED00001", "zed", "Zed Zero", is_admin=True), SlackUser("U0YAN00001", "yan", "Yan Y")]
    groups = [UserGroup("S0TRIAGE1", "triage", "Triage", ("U0ZED00001",))]
    async with SlackEmulator(users=users, usergroups=groups, channels=[SlackChannel("C0HELP0001", "help")]) as slack:
        client = web_client(slack)
        zed = (await client.users_info(user="U0ZED00001"))["user"]
        assert (zed["name"], zed["real_name"], zed["is_admin"], zed["is_bot"]) == ("zed", "Zed Zero", True, False)
        bot = (await client.users_info(user="U0DESKBOT1"))["user"]
        assert bot["is_bot"] is True and bot["profile"]["bot_id"] == "B0DESKBOT1"
        assert (await client.usergroups_users_list(usergroup="S0TRIAGE1"))["users"] == ["U0ZED00001"]
        assert (await api_error(client.users_info(user=ALICE))).response["error"] == "user_not_found"
        assert (await api_error(client.usergroups_users_list(usergroup="S0ONCALL1"))).response["error"] \
            == "no_such_subteam"
        assert (await client.chat_postMessage(channel="#help", text="hi"))["channel"] == "C0HELP0001"


async def test_demo_workspace_defaults(slack: SlackEmulator, client: AsyncWebClient) -> None:
    assert slack.workspace.channels[CHANNEL].name == "social-desk"
    assert (await client.usergroups_users_list(usergroup="S0ONCALL1"))["users"] == [ALICE, BOB]
    assert (await client.users_info(user="U0LEAD0001"))["user"]["is_admin"] is True


# --- Block Kit -------------------------------------------------------------------------------------


def _button(**overrides: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Claim"}, "action_id": "claim", **overrides}


def _actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def _section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def _options(n: int, value_len: int = 2) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"{i:0{value_len}d}"} for i in range(n)]


INVALID_BLOCKS: list[tuple[str, list[dict[str, Any]], str]] = [
    ("51 blocks", [{"type": "divider"}] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    ("section text 3001", [_section("x" * 3001)],
     "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    ("empty text", [_section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    ("section without text", [{"type": "section"}], "must provide either text or fields [json-pointer:/blocks/0]"),
    ("11 fields", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     "no more than 10 items allowed [json-pointer:/blocks/0/fields]"),
    ("field 2001", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
     "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]"),
    ("duplicate action_id", [_actions(_button(), _button())],
     "duplicate action_id: claim [json-pointer:/blocks/0/elements/1/action_id]"),
    ("button text 76", [_actions(_button(text={"type": "plain_text", "text": "b" * 76}))],
     "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"),
    ("button mrkdwn text", [_actions(_button(text={"type": "mrkdwn", "text": "*b*"}))],
     "failed to match all allowed schemas [json-pointer:/blocks/0/elements/0/text]"),
    ("button value 2001", [_actions(_button(value="v" * 2001))],
     "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"),
    ("button url 3001", [_actions(_button(url="https://x.test/" + "u" * 2986))],
     "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]"),
    ("button style", [_actions(_button(style="green"))],
     'must be one of "primary", "danger" [json-pointer:/blocks/0/elements/0/style]'),
    ("action_id 256", [_actions(_button(action_id="a" * 256))],
     "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"),
    ("unknown property", [_actions(_button(disabled=True))],
     "invalid additional property: disabled [json-pointer:/blocks/0/elements/0]"),
    ("header 151", [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
     "must be less than 151 characters [json-pointer:/blocks/0/text/text]"),
    ("header mrkdwn", [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
     "failed to match all allowed schemas [json-pointer:/blocks/0/text]"),
    ("11 context elements", [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "no more than 10 items allowed [json-pointer:/blocks/0/elements]"),
    ("26 actions elements", [_actions(*[_button(action_id=f"b{i}") for i in range(26)])],
     "no more than 25 items allowed [json-pointer:/blocks/0/elements]"),
    ("block_id 256", [{"type": "divider", "block_id": "b" * 256}],
     "must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
    ("duplicate block_id", [{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}],
     "duplicate block_id: d [json-pointer:/blocks/1/block_id]"),
    ("unsupported block", [{"type": "banner"}], "unsupported type: banner [json-pointer:/blocks/0/type]"),
    ("element where it does not belong", [_actions({"type": "plain_text_input", "action_id": "t"})],
     "unsupported type: plain_text_input [json-pointer:/blocks/0/elements/0/type]"),
    ("101 select options", [_actions({"type": "static_select", "action_id": "s", "options": _options(101, 3)})],
     "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]"),
    ("option value 151", [_actions({"type": "static_select", "action_id": "s", "options": _options(1, 151)})],
     "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]"),
    ("6 overflow options", [_actions({"type": "overflow", "action_id": "o", "options": _options(6)})],
     "no more than 5 items allowed [json-pointer:/blocks/0/elements/0/options]"),
    ("confirm without deny", [_actions(_button(confirm={
        "title": {"type": "plain_text", "text": "Sure?"}, "text": {"type": "mrkdwn", "text": "Really"},
        "confirm": {"type": "plain_text", "text": "Yes"}}))],
     "missing required field: deny [json-pointer:/blocks/0/elements/0/confirm]"),
    ("image without alt_text", [{"type": "image", "image_url": "https://x.test/a.png"}],
     "missing required field: alt_text [json-pointer:/blocks/0]"),
    ("input without element", [{"type": "input", "label": {"type": "plain_text", "text": "L"}}],
     "missing required field: element [json-pointer:/blocks/0]"),
]


@pytest.mark.parametrize(("blocks", "problem"), [c[1:] for c in INVALID_BLOCKS], ids=[c[0] for c in INVALID_BLOCKS])
async def test_block_kit_rules_are_enforced_like_slack(slack: SlackEmulator, client: AsyncWebClient,
                                                      blocks: list[dict[str, Any]], problem: str) -> None:
    error = await api_error(client.chat_postMessage(channel=CHANNEL, text="card", blocks=blocks))
    body = error.response.data
    assert error.response.status_code == 200 and body["error"] == "invalid_blocks"
    assert problem in body["errors"]
    assert body["response_metadata"]["messages"] == [f"[ERROR] {p}" for p in body["errors"]]
    assert slack.timeline(CHANNEL) == []


async def test_invalid_blocks_are_refused_by_update_and_ephemeral_too(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="ok")
    bad = [_actions(_button(), _button())]
    for call in (client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=bad),
                 client.chat_postEphemeral(channel=CHANNEL, user=ALICE, text="x", blocks=bad)):
        assert (await api_error(call)).response["error"] == "invalid_blocks"
    async with aiohttp.ClientSession() as session:
        form = {"token": "", "channel": CHANNEL, "text": "x", "blocks": "[{not json"}
        headers = {"Authorization": f"Bearer {client.token}"}
        async with session.post(f"{client.base_url}chat.postMessage", data=form, headers=headers) as answer:
            assert (await answer.json())["error"] == "invalid_blocks_format"


async def test_rich_valid_cards_built_with_slack_sdk_models_are_accepted(slack: SlackEmulator,
                                                                        client: AsyncWebClient) -> None:
    confirm = ConfirmObject(title="Close ticket?", text="It cannot be reopened.", confirm="Close", deny="Keep")
    blocks = [
        HeaderBlock(text="Ticket #10 · X · high"),
        SectionBlock(text=MarkdownTextObject(text="*@someone* wrote:\n>my order never arrived"),
                     fields=[MarkdownTextObject(text=f"*Field {i}*\nvalue") for i in range(10)],
                     accessory=ButtonElement(text="Close", action_id="close", value="10", style="danger",
                                             confirm=confirm)),
        ContextBlock(elements=[ImageElement(image_url="https://x.test/a.png", alt_text="avatar"),
                               MarkdownTextObject(text="x.com · 12 followers")]),
        DividerBlock(),
        ActionsBlock(elements=[
            ButtonElement(text="Claim", action_id="claim", value="10", style="primary"),
            StaticSelectElement(placeholder="Macro", action_id="macro", option_groups=[
                OptionGroup(label="Shipping", options=[Option(text="Where is my order", value="wismo")]),
                OptionGroup(label="Billing", options=[Option(text="Refund", value="refund")]),
            ]),
            OverflowMenuElement(action_id="more", options=[Option(text="Spam", value="spam"),
                                                           Option(text="Snooze", value="snooze")]),
            DatePickerElement(action_id="follow_up", initial_date="2026-11-02", placeholder="Follow up"),
            TimePickerElement(action_id="at", initial_time="09:30"),
            UserSelectElement(action_id="assign", placeholder="Assign to"),
            CheckboxesElement(action_id="flags", options=[Option(text="VIP", value="vip")]),
            RadioButtonsElement(action_id="tone", options=[Option(text="Warm", value="warm"),
                                                           Option(text="Formal", value="formal")]),
        ]),
        ImageBlock(image_url="https://x.test/screenshot.png", alt_text="screenshot", title="Attached"),
        InputBlock(block_id="quick_reply", label="Quick reply", dispatch_action=True,
                   element=PlainTextInputElement(action_id="text", multiline=True, max_length=280)),
    ]
    answer = await client.chat_postMessage(channel=CHANNEL, text="Ticket #10", blocks=blocks)
    assert len(answer["message"]["blocks"]) == len(blocks)
    assert [b.to_dict()["type"] for b in blocks] == [b["type"] for b in slack.timeline(CHANNEL)[0].blocks or []]


async def test_fifty_blocks_is_fine(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel=CHANNEL, text="x", blocks=[DividerBlock()] * 50))["ok"] is True


# --- modals -------------------------------------------------------------------------------------------


def reply_modal(**overrides: Any) -> View:
    fields: dict[str, Any] = {
        "type": "modal", "callback_id": "reply_modal", "title": "Reply to #1", "submit": "Send", "close": "Cancel",
        "blocks": [InputBlock(block_id="body", label="Your reply",
                              element=PlainTextInputElement(action_id="text", multiline=True)),
                   InputBlock(block_id="tone", label="Tone", optional=True,
                              element=StaticSelectElement(action_id="pick", options=[
                                  Option(text="Warm", value="warm"), Option(text="Formal", value="formal")]))],
    }
    return View(**{**fields, **overrides})


async def test_views_open_update_push_and_triggers(slack: SlackEmulator, client: AsyncWebClient) -> None:
    trigger = slack.trigger_id(ALICE)
    opened = (await client.views_open(trigger_id=trigger, view=reply_modal(external_id="reply-1")))["view"]
    assert opened["title"]["text"] == "Reply to #1" and opened["root_view_id"] == opened["id"]
    assert (await api_error(client.views_open(trigger_id=trigger, view=reply_modal()))).response["error"] \
        == "exchanged_trigger_id"
    assert (await api_error(client.views_open(trigger_id="1.2.3", view=reply_modal()))).response["error"] \
        == "invalid_trigger_id"

    updated = (await client.views_update(external_id="reply-1", view=reply_modal(title="Reply (draft)"),
                                         hash=opened["hash"]))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert (await api_error(client.views_update(view_id=opened["id"], view=reply_modal(), hash=opened["hash"]))) \
        .response["error"] == "hash_conflict"
    for _ in range(2):
        await client.views_push(trigger_id=slack.trigger_id(ALICE), view=reply_modal())
    assert (await api_error(client.views_push(trigger_id=slack.trigger_id(ALICE), view=reply_modal()))) \
        .response["error"] == "push_limit_reached"

    view = slack.view(opened["id"])
    assert view is not None and view.user == ALICE and view.title == "Reply (draft)"
    assert [d["title"]["text"] for d in view.history] == ["Reply to #1"]
    assert len(slack.views) == 3 and slack.views[1].previous_view_id == opened["id"]


async def test_trigger_ids_expire_after_three_seconds() -> None:
    now = [1_700_000_000.0]
    async with SlackEmulator(clock=lambda: now[0]) as slack:
        trigger = slack.trigger_id(ALICE)
        now[0] += 3.5
        error = await api_error(web_client(slack).views_open(trigger_id=trigger, view=reply_modal()))
    assert error.response["error"] == "expired_trigger_id"


def _modal(**changes: Any) -> dict[str, Any]:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Reply"},
            "submit": {"type": "plain_text", "text": "Send"}, "blocks": [{"type": "divider"}]}
    view.update(changes)
    return {k: v for k, v in view.items() if v is not None}


INVALID_VIEWS = [
    ("title 25", _modal(title={"type": "plain_text", "text": "t" * 25}),
     "must be less than 25 characters [json-pointer:/view/title/text]"),
    ("no title", _modal(title=None), "missing required field: title [json-pointer:/view]"),
    ("101 blocks", _modal(blocks=[{"type": "divider"}] * 101),
     "no more than 100 items allowed [json-pointer:/view/blocks]"),
    ("submit 25", _modal(submit={"type": "plain_text", "text": "s" * 25}),
     "must be less than 25 characters [json-pointer:/view/submit/text]"),
    ("close 25", _modal(close={"type": "plain_text", "text": "c" * 25}),
     "must be less than 25 characters [json-pointer:/view/close/text]"),
    ("input without submit", _modal(submit=None, blocks=[{
        "type": "input", "label": {"type": "plain_text", "text": "L"},
        "element": {"type": "plain_text_input", "action_id": "t"}}]),
     "must provide submit when the view has input blocks [json-pointer:/view]"),
    ("private_metadata 3001", _modal(private_metadata="m" * 3001),
     "must be less than 3001 characters [json-pointer:/view/private_metadata]"),
    ("callback_id 256", _modal(callback_id="c" * 256),
     "must be less than 256 characters [json-pointer:/view/callback_id]"),
    ("message-only block", _modal(blocks=[{"type": "markdown", "text": "**x**"}]),
     "unsupported type: markdown [json-pointer:/view/blocks/0/type]"),
    ("not a modal", _modal(type="home"), 'must be "modal" [json-pointer:/view/type]'),
]


@pytest.mark.parametrize(("view", "problem"), [c[1:] for c in INVALID_VIEWS], ids=[c[0] for c in INVALID_VIEWS])
async def test_modal_views_are_validated(slack: SlackEmulator, client: AsyncWebClient, view: dict[str, Any],
                                         problem: str) -> None:
    error = await api_error(client.views_open(trigger_id=slack.trigger_id(ALICE), view=view))
    assert error.response["error"] == "invalid_arguments"
    assert f"[ERROR] {problem}" in error.response["response_metadata"]["messages"]
    assert slack.views == []


# --- rate limits -----------------------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_one_per_second() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimits(post_message_per_second=1.0, post_message_burst=3), clock=lambda: now[0])
    assert [limiter.check("chat.postMessage", CHANNEL) for _ in range(3)] == [None, None, None]
    assert limiter.check("chat.postMessage", CHANNEL) == 1
    assert limiter.check("chat.postMessage", "C0OTHER001") is None  # per channel
    now[0] += 1.0
    assert limiter.check("chat.postMessage", CHANNEL) is None
    assert limiter.check("chat.postMessage", CHANNEL) == 1
    assert limiter.check("users.info") is None and limiter.limited == 2
    tier2 = [limiter.check("usergroups.users.list") for _ in range(21)]
    assert tier2[:20] == [None] * 20 and tier2[20] is not None  # Tier 2: 20 a minute


async def test_post_message_over_the_rate_is_429_with_retry_after() -> None:
    async with SlackEmulator(rate_limits=RateLimits(post_message_per_second=0.1, post_message_burst=1)) as slack:
        client = web_client(slack)
        await client.chat_postMessage(channel=CHANNEL, text="first")
        error = await api_error(client.chat_postMessage(channel=CHANNEL, text="second"))
        assert error.response.status_code == 429
        assert error.response.data == {"ok": False, "error": "ratelimited"}
        assert int(error.response.headers["Retry-After"]) >= 1
        assert (await client.chat_postMessage(channel="C0ESCALAT1", text="elsewhere"))["ok"] is True
        assert (await client.users_info(user=ALICE))["ok"] is True  # other methods have their own limits
        assert slack.rate_limited == 1 and [m.text for m in slack.timeline(CHANNEL)] == ["first"]


async def test_slack_sdk_rate_limit_retry_handler_recovers() -> None:
    async with SlackEmulator(rate_limits=RateLimits(post_message_per_second=2.0, post_message_burst=1)) as slack:
        client = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)])
        for n in range(3):
            await client.chat_postMessage(channel=CHANNEL, text=f"card {n}")
        assert [m.text for m in slack.timeline(CHANNEL)] == ["card 0", "card 1", "card 2"]
        assert slack.rate_limited >= 1


# --- faults ----------------------------------------------------------------------------------------------


async def test_fault_429_has_slacks_body_and_retry_after_and_the_client_recovers() -> None:
    plan = FaultPlan(rate_limited=0.5, retry_after_seconds=0, seed=seed_for([True, False], 0.5),
                     only_paths=("/api/chat.postMessage",))
    async with SlackEmulator(faults=plan) as slack:
        retrying = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        assert (await retrying.chat_postMessage(channel=CHANNEL, text="after a 429"))["ok"] is True
        assert plan.counts == {"rate_limited": 1}
        plan.set(rate_limited=1.0)
        error = await api_error(web_client(slack).chat_postMessage(channel=CHANNEL, text="x"))
        assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "0"
        assert error.response.data == {"ok": False, "error": "ratelimited"}
        statuses = [r["status"] for r in slack.recorder.of("slack", path="/api/chat.postMessage")]
        assert statuses == [429, 200, 429]


async def test_fault_500_and_the_server_error_retry_handler() -> None:
    plan = FaultPlan(server_error=0.5, seed=seed_for([True, False], 0.5))
    async with SlackEmulator(faults=plan) as slack:
        retrying = web_client(slack, retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
        assert (await retrying.auth_test())["ok"] is True
        plan.set(server_error=1.0)
        error = await api_error(web_client(slack).auth_test())
        assert error.response.status_code == 500
        assert error.response.data == {"ok": False, "error": "internal_error"}


async def test_fault_slow_answers_arrive_late_or_time_the_client_out() -> None:
    plan = FaultPlan(slow=1.0, slow_seconds=0.3)
    async with SlackEmulator(faults=plan) as slack:
        assert (await web_client(slack).auth_test())["ok"] is True
        plan.set(slow_seconds=5.0)
        with pytest.raises(asyncio.TimeoutError):
            await web_client(slack, timeout=0.2).auth_test()  # type: ignore[arg-type]
        assert plan.counts["slow"] == 2


async def test_fault_dropped_connections_and_the_connection_retry_handler() -> None:
    plan = FaultPlan(dropped=0.5, seed=seed_for([True, False], 0.5))
    async with SlackEmulator(faults=plan) as slack:
        retrying = web_client(slack, retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)])
        assert (await retrying.chat_postMessage(channel=CHANNEL, text="after a drop"))["ok"] is True
        plan.set(dropped=1.0)
        with pytest.raises(aiohttp.ClientError):
            await web_client(slack, retry_handlers=[]).auth_test()
        assert plan.counts["dropped"] == 2
        assert [m.text for m in slack.timeline(CHANNEL)] == ["after a drop"]


# --- the driver, towards a Bolt app over HTTP ----------------------------------------------------------


async def test_bolt_http_slash_command_and_button_click(slack: SlackEmulator) -> None:
    app = bolt_app(slack)
    commands: list[dict[str, Any]] = []

    @app.command("/desk")
    async def desk(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        commands.append(command)
        await client.chat_postMessage(channel=command["channel_id"], text="Ticket #1", blocks=card(1))
        await ack(f"Posted ticket for `{command['text']}`")

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text="It is yours")
        await respond(text=f"Ticket #{body['actions'][0]['value']} claimed by <@{body['user']['id']}>",
                      replace_original=True)

    notes: list[dict[str, Any]] = []

    @app.event("message")
    async def note(event: dict[str, Any]) -> None:
        notes.append(event)

    async with serve_http(app) as url:
        driver = slack.driver(url)
        command = await driver.slash_command("/desk", "new demo", user=ALICE, channel=CHANNEL)
        assert command.acked and command.transport == "http" and command.outcome == "ephemeral"
        assert commands[0]["text"] == "new demo" and commands[0]["user_id"] == ALICE
        assert commands[0]["team_id"] == "T0SANDBOX1" and commands[0]["trigger_id"]
        [ticket] = slack.timeline(CHANNEL)
        assert [e.text for e in slack.ephemerals(CHANNEL, user=ALICE)] == ["Posted ticket for `new demo`"]

        click = await driver.click(CHANNEL, ticket.ts, "claim", user=BOB)
        assert click.acked and click.payload["actions"][0]["value"] == "1"
        assert click.payload["container"] == {"type": "message", "message_ts": ticket.ts, "channel_id": CHANNEL,
                                              "is_ephemeral": False}
        _, event = await driver.write(CHANNEL, "customer is a VIP", user=BOB, thread_ts=ticket.ts)
        assert event.acked and event.kind == "events_api"
    assert [(n["user"], n["text"], n["thread_ts"]) for n in notes] == [(BOB, "customer is a VIP", ticket.ts)]
    assert [e.text for e in slack.ephemerals(CHANNEL, user=BOB)] == ["It is yours"]
    assert ticket.text == f"Ticket #1 claimed by <@{BOB}>" and ticket.history[0].text == "Ticket #1"
    assert ticket.blocks is None  # respond() replaced the whole message


async def test_bolt_rejects_a_bad_signature_or_a_stale_timestamp(slack: SlackEmulator) -> None:
    app = bolt_app(slack)
    ran: list[str] = []

    @app.command("/desk")
    async def desk(ack: Any, command: dict[str, Any]) -> None:
        ran.append(command["text"])
        await ack()

    async with serve_http(app) as url:
        driver = slack.driver(url)
        forged = await driver.slash_command("/desk", "forged", user=ALICE, bad_signature=True)
        stale = await driver.slash_command("/desk", "stale", user=ALICE, timestamp=1_600_000_000)
        good = await driver.slash_command("/desk", "good", user=ALICE)
    assert (forged.status, stale.status, good.status) == (401, 401, 200)
    assert forged.outcome == "dispatch_failed"
    assert ran == ["good"]
    assert '/desk failed with the error "dispatch_failed"' in [e.text for e in slack.ephemerals(CHANNEL, ALICE)]


def test_signature_matches_slacks_documented_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
            b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
            b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
            b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    assert signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) \
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def desk_reply_modal(ticket_ts: str, draft: str | None = None) -> View:
    return View(type="modal", callback_id="reply_modal", title="Reply to #1", submit="Send", private_metadata=ticket_ts,
                blocks=[ActionsBlock(block_id="tools", elements=[ButtonElement(text="Insert macro",
                                                                               action_id="insert_macro")]),
                        InputBlock(block_id="body", label="Your reply",
                                   element=PlainTextInputElement(action_id="text", multiline=True,
                                                                 initial_value=draft)),
                        InputBlock(block_id="tone", label="Tone", optional=True,
                                   element=StaticSelectElement(action_id="pick", options=[
                                       Option(text="Warm", value="warm"), Option(text="Formal", value="formal")]))])


async def test_modal_flow_open_use_a_button_inside_errors_then_submit(slack: SlackEmulator) -> None:
    app = bolt_app(slack)

    @app.action("reply")
    async def open_reply(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=desk_reply_modal(body["container"]["message_ts"]))

    @app.action("insert_macro")
    async def insert_macro(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view["hash"],
                                  view=desk_reply_modal(view["private_metadata"], "Sorry, a new parcel is on its way"))

    @app.view("reply_modal")
    async def send(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        text = values["body"]["text"]["value"]
        if len(text) < 10:
            await ack(response_action="errors", errors={"body": "Write at least 10 characters"})
            return
        await ack()
        tone = (values["tone"]["pick"]["selected_option"] or {}).get("value", "none")
        await client.chat_postMessage(channel=CHANNEL, thread_ts=view["private_metadata"],
                                      text=f"Reply sent ({tone}): {text}")

    async with serve_http(app) as url:
        driver = slack.driver(url)
        ticket = await web_client(slack).chat_postMessage(channel=CHANNEL, text="Ticket #1", blocks=card(1))
        await driver.click(CHANNEL, ticket["ts"], "reply", user=ALICE)
        [modal] = slack.views
        assert modal.user == ALICE and modal.callback_id == "reply_modal" and not modal.closed

        with pytest.raises(ValueError, match="required"):
            await driver.submit_view(modal.id, {})
        short = await driver.submit_view(modal.id, {"body": {"text": "ok"}})
        assert short.outcome == "errors" and modal.errors == {"body": "Write at least 10 characters"}
        assert not modal.closed

        macro = await driver.click_in_view(modal.id, "insert_macro")
        assert macro.payload["container"] == {"type": "view", "view_id": modal.id}
        assert "response_url" not in macro.payload  # modals have none
        assert len(modal.history) == 1 and modal.errors is None
        sent = await driver.submit_view(modal.id, {"tone": {"pick": "warm"}})  # the macro text stays as typed
        assert sent.outcome == "closed" and modal.closed
        values = sent.payload["view"]["state"]["values"]
        assert values["body"]["text"] == {"type": "plain_text_input", "value": "Sorry, a new parcel is on its way"}
        assert values["tone"]["pick"]["selected_option"]["value"] == "warm"
    assert [m.text for m in slack.thread(CHANNEL, ticket["ts"])][1:] == [
        "Reply sent (warm): Sorry, a new parcel is on its way"]


async def test_view_submission_response_actions_over_socket_mode(slack: SlackEmulator) -> None:
    confirm = {"type": "modal", "title": {"type": "plain_text", "text": "Send it?"},
               "submit": {"type": "plain_text", "text": "Yes"},
               "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "The reply goes public."}}]}
    answers: list[dict[str, Any]] = [{"response_action": "push", "view": confirm},
               {"response_action": "update", "view": {**confirm, "title": {"type": "plain_text", "text": "Sure?"}}},
               {"response_action": "clear"}]
    sm_client = SocketModeClient(app_token=slack.app_token, web_client=AsyncWebClient(base_url=slack.api_url))

    async def listener(client: Any, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id,
                                                                  payload=answers.pop(0)))

    sm_client.socket_mode_request_listeners.append(listener)
    await sm_client.connect()
    try:
        await slack.socket_mode.wait_connected()
        root = (await web_client(slack).views_open(trigger_id=slack.trigger_id(ALICE),
                                                   view=reply_modal()))["view"]
        driver = slack.driver()
        assert (await driver.submit_view(root["id"], {"body": {"text": "hello"}})).outcome == "pushed"
        pushed = slack.views[-1]
        assert pushed.previous_view_id == root["id"] and pushed.title == "Send it?"
        assert (await driver.submit_view(pushed.id)).outcome == "updated" and pushed.title == "Sure?"
        assert (await driver.submit_view(pushed.id)).outcome == "cleared"
    finally:
        await sm_client.close()
    assert all(v.closed for v in slack.views)


async def test_choose_an_option_in_a_message(slack: SlackEmulator) -> None:
    app = bolt_app(slack)
    picked: list[str] = []

    @app.action("snooze")
    async def snooze(ack: Any, action: dict[str, Any]) -> None:
        picked.append(action["selected_option"]["value"])
        await ack()

    async with serve_http(app) as url:
        ticket = await web_client(slack).chat_postMessage(channel=CHANNEL, text="t", blocks=card(1))
        await slack.driver(url).choose(CHANNEL, ticket["ts"], "snooze", "1d", user=ALICE)
        with pytest.raises(LookupError):
            await slack.driver(url).click(CHANNEL, ticket["ts"], "no_such_button", user=ALICE)
    assert picked == ["1d"]


async def test_response_url_in_channel_delete_and_limits(slack: SlackEmulator) -> None:
    app = bolt_app(slack)

    @app.command("/desk")
    async def desk(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Queue: 3 open tickets", response_type="in_channel")

    @app.action("claim")
    async def claim(ack: Any, respond: Any) -> None:
        await ack()
        await respond(delete_original=True)

    async with serve_http(app) as url:
        driver = slack.driver(url)
        await driver.slash_command("/desk", "queue", user=ALICE)
        ticket = await web_client(slack).chat_postMessage(channel=CHANNEL, text="Ticket #4", blocks=card(4))
        await driver.click(CHANNEL, ticket["ts"], "claim", user=ALICE)
    [queue] = slack.timeline(CHANNEL)
    assert queue.text == "Queue: 3 open tickets" and queue.source == "response_url"

    now = [1_700_000_000.0]
    async with SlackEmulator(clock=lambda: now[0]) as other, aiohttp.ClientSession() as session:
        url = other.response_url(CHANNEL, ALICE)
        statuses = []
        for _ in range(6):
            async with session.post(url, json={"text": "hi"}) as answer:
                statuses.append((answer.status, await answer.text()))
        assert statuses == [(200, "ok")] * 5 + [(404, "used_url")]
        fresh = other.response_url(CHANNEL, ALICE)
        async with session.post(fresh, json={"blocks": [{"type": "banner"}]}) as answer:
            assert (answer.status, await answer.text()) == (400, "invalid_blocks")
        now[0] += 31 * 60
        async with session.post(fresh, json={"text": "late"}) as answer:
            assert (answer.status, await answer.text()) == (404, "expired_url")
        assert len(other.ephemerals(CHANNEL, ALICE)) == 5


# --- the driver, over Socket Mode ---------------------------------------------------------------------------


async def test_bolt_socket_mode_hello_slash_command_and_ack(slack: SlackEmulator) -> None:
    app = bolt_app(slack)
    seen: list[str] = []

    @app.command("/desk")
    async def desk(ack: Any, command: dict[str, Any]) -> None:
        seen.append(command["text"])
        await ack(f"on it: {command['text']}")

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()
    try:
        await slack.socket_mode.wait_connected()
        delivery = await slack.driver().slash_command("/desk", "claim 7", user=ALICE)
    finally:
        await handler.close_async()
    assert delivery.transport == "socket" and delivery.acked
    assert delivery.ack is not None and delivery.ack.envelope_id == delivery.envelope_id
    assert delivery.response == {"text": "on it: claim 7"} and seen == ["claim 7"]
    assert [e.text for e in slack.ephemerals(CHANNEL, ALICE)] == ["on it: claim 7"]
    assert [a.envelope_id for a in slack.acks] == [delivery.envelope_id]
    frames = slack.recorder.of("slack", method="WS")
    assert frames[0]["direction"] == "outbound" and frames[0]["body"]["type"] == "hello"
    assert frames[1]["body"]["type"] == "slash_commands" and frames[1]["body"]["accepts_response_payload"] is True
    assert frames[2]["direction"] == "inbound" and frames[2]["body"]["envelope_id"] == delivery.envelope_id


async def test_sdk_socket_mode_client_gets_interactive_and_events_envelopes(slack: SlackEmulator) -> None:
    received: list[SocketModeRequest] = []
    sm_client = SocketModeClient(app_token=slack.app_token, web_client=AsyncWebClient(base_url=slack.api_url))

    async def listener(client: Any, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    sm_client.socket_mode_request_listeners.append(listener)
    await sm_client.connect()
    try:
        await slack.socket_mode.wait_connected()
        ticket = await web_client(slack).chat_postMessage(channel=CHANNEL, text="Ticket #5", blocks=card(5))
        driver = slack.driver()
        click = await driver.click(CHANNEL, ticket["ts"], "claim", user=ALICE)
        note, event = await driver.write(CHANNEL, "customer called too", user=BOB, thread_ts=ticket["ts"])
    finally:
        await sm_client.close()
    assert click.acked and event.acked
    assert [r.type for r in received] == ["interactive", "events_api"]
    assert received[0].payload["type"] == "block_actions" and received[0].accepts_response_payload is False
    message_event = received[1].payload["event"]
    assert (message_event["type"], message_event["user"], message_event["thread_ts"]) == ("message", BOB, ticket["ts"])
    assert slack.thread(CHANNEL, ticket["ts"])[1] is note


async def test_socket_mode_reconnects_after_a_refresh(slack: SlackEmulator) -> None:
    app = bolt_app(slack)

    @app.command("/desk")
    async def desk(ack: Any) -> None:
        await ack()

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()
    try:
        await slack.socket_mode.wait_connected()
        first = slack.socket_mode.connections[0].number
        await slack.socket_mode.disconnect_all()
        await eventually(lambda: [c.number != first for c in slack.socket_mode.connections] == [True])
        assert (await slack.driver().slash_command("/desk", "still there?", user=ALICE)).acked
    finally:
        await handler.close_async()
    opened = [r for r in slack.recorder.of("slack", path="/api/apps.connections.open")]
    assert len(opened) == 2


async def test_an_app_that_never_acks(slack: SlackEmulator) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)
    async with aiohttp.ClientSession() as session, session.ws_connect(opened["url"]) as socket:
        hello = await socket.receive_json()
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A0SOCIALDSK"}
        delivery = await slack.driver(ack_timeout=0.2).slash_command("/desk", "anyone?", user=ALICE)
        assert not delivery.acked and delivery.outcome == "operation_timeout"
        envelope = await socket.receive_json()
        await socket.send_json({"envelope_id": envelope["envelope_id"]})  # too late
        await eventually(lambda: len(slack.acks) == 1)
    assert slack.acks[0].envelope_id == envelope["envelope_id"]
    assert '/desk failed with the error "operation_timeout"' in [e.text for e in slack.ephemerals(CHANNEL, ALICE)]


async def test_socket_tickets_are_single_use(slack: SlackEmulator) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(opened["url"]) as socket:
            assert (await socket.receive_json())["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(opened["url"])
        assert refused.value.status == 401
    with pytest.raises(ConnectionError):
        await slack.driver().slash_command("/desk", "nobody listening", user=ALICE)


# --- files ------------------------------------------------------------------------------------------------


async def test_files_upload_v2_and_the_retired_files_upload(slack: SlackEmulator, client: AsyncWebClient) -> None:
    ticket = await client.chat_postMessage(channel=CHANNEL, text="Ticket #6")
    answer = await client.files_upload_v2(channel=CHANNEL, content="customer transcript", filename="t6.txt",
                                          title="Transcript", initial_comment="History attached",
                                          thread_ts=ticket["ts"])
    [stored] = slack.files
    assert answer["file"]["id"] == stored.id and stored.content == b"customer transcript"
    assert (stored.title, stored.channels) == ("Transcript", [CHANNEL])
    shared = slack.thread(CHANNEL, ticket["ts"])[1]
    assert shared.text == "History attached" and shared.files[0]["name"] == "t6.txt"
    error = await api_error(client.api_call("files.upload", data={"channels": CHANNEL, "content": "x"}))
    assert error.response["error"] == "method_deprecated"


async def test_legacy_files_upload_when_enabled() -> None:
    async with SlackEmulator(legacy_files_upload=True) as slack:
        content = Path(__file__).read_bytes()
        answer = await web_client(slack).api_call("files.upload", files={"file": io.BytesIO(content)},
                                                  data={"channels": CHANNEL, "filename": "test.py"})
        assert answer["file"]["name"] == "test.py"
        assert slack.files[0].content == content
        assert slack.timeline(CHANNEL)[0].files[0]["id"] == answer["file"]["id"]


# --- traffic record -------------------------------------------------------------------------------------------


async def test_traffic_record_redacts_tokens_and_records_websocket_frames(tmp_path: Path) -> None:
    path = tmp_path / "slack.jsonl"
    recorder = TrafficRecorder(path)
    async with SlackEmulator(recorder=recorder) as slack:
        secrets = [slack.bot_token, slack.app_token, slack.signing_secret, slack.credentials.verification_token]
        client = web_client(slack)
        await client.chat_postMessage(channel=CHANNEL, text="via header")
        async with aiohttp.ClientSession() as session:
            async with session.post(slack.api_url + "auth.test", data={"token": slack.bot_token}) as answer:
                assert (await answer.json())["ok"] is True
            async with session.get(slack.api_url + "users.info", params={"token": slack.bot_token, "user": ALICE}):
                pass
        app = bolt_app(slack)

        @app.command("/desk")
        async def desk(ack: Any) -> None:
            await ack()

        async with serve_http(app) as url:
            assert (await slack.driver(url).slash_command("/desk", "over http", user=ALICE)).acked
        handler = AsyncSocketModeHandler(app, slack.app_token)
        await handler.connect_async()
        try:
            await slack.socket_mode.wait_connected()
            assert (await slack.driver().slash_command("/desk", "over socket", user=ALICE)).acked
        finally:
            await handler.close_async()
    recorder.close()

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(recorder.records) and all(json.loads(line) for line in lines)
    for record in recorder.records:
        dump = json.dumps(record)
        for secret in secrets:
            assert secret not in dump, record
        assert {"emulator", "direction", "method", "path", "query", "body", "status", "time"} <= set(record)
    assert all(json.dumps(r).count("v0=") == 0 for r in recorder.records)  # signatures redacted
    outbound_http = recorder.of("slack", direction="outbound", method="POST")
    assert outbound_http[0]["headers"]["X-Slack-Signature"] == "***" and outbound_http[0]["status"] == 200
    ws = recorder.of("slack", method="WS")
    assert {r["direction"] for r in ws} == {"inbound", "outbound"}
    assert [r["body"].get("type") for r in ws if r["direction"] == "outbound"] == ["hello", "slash_commands"]


# --- memory stays bounded ---------------------------------------------------------------------------------


async def test_timelines_views_and_ephemerals_are_capped() -> None:
    caps = TimelineCaps(max_messages=5, max_replies=3, max_versions=2, max_ephemerals=2)
    async with SlackEmulator(caps=caps, rate_limits=RateLimits.off()) as slack:
        client = web_client(slack)
        first = await client.chat_postMessage(channel=CHANNEL, text="m0")
        for n in range(5):
            await client.chat_postMessage(channel=CHANNEL, text=f"r{n}", thread_ts=first["ts"])
        for n in range(4):
            await client.chat_update(channel=CHANNEL, ts=first["ts"], text=f"m0 v{n}")
        assert [r.text for r in slack.thread(CHANNEL, first["ts"])[1:]] == ["r2", "r3", "r4"]
        assert [v.text for v in slack.message(CHANNEL, first["ts"]).history] == ["m0 v1", "m0 v2"]  # type: ignore[union-attr]
        for n in range(1, 8):
            await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")
        assert [m.text for m in slack.timeline(CHANNEL)] == ["m3", "m4", "m5", "m6", "m7"]
        assert slack.message(CHANNEL, first["ts"]) is None
        for n in range(4):
            await client.chat_postEphemeral(channel=CHANNEL, user=ALICE, text=f"e{n}")
        assert [e.text for e in slack.ephemerals(CHANNEL)] == ["e2", "e3"]
