"""Contract: the Slack emulator answers, and slack_sdk sends, what Slack's API description says.

The description is Slack's own OpenAPI 2.0 file (vendored under specs/slack, unchanged).
Its response schemas are draft-4 JSON Schema; every answer the emulator gives in these
tests is validated against the schema for its method and outcome ("200" for ``ok:
true``, "default" for errors), with ``$ref``s resolved over the whole document.

The file dates from 2021. Where it is wrong or out of date, a short, explicit list of
errata (``ERRATA``) patches a copy before validation, each with the reason; a test
checks that every erratum still applies, so a newer spec forces a review. Two
conventions of the file are also honoured: ``items: [A, B]`` on a schema that is not
an array means "one of A or B" (how its generator wrote unions), and the ``token``
parameter may come in the Authorization header, which Slack documents as preferred.
views.open/update/push have only a generic ``{ok}`` template in this file (no view
schema), so their answers are checked against that template plus the view fields
Slack documents, asserted directly.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT4
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.slack import RateLimits, SlackChannel, SlackEmulator
from socialdesk.sandbox.slack.api_request import ApiCall

SPEC_PATH = Path(__file__).parent / "specs" / "slack" / "slack_web_openapi_v2.json"
SPEC_URI = "urn:slack-web-openapi-v2"
CHANNEL = "C0SOCIAL01"
AGENT = "U0AGENT001"

# --- errata --------------------------------------------------------------------------------

# Errors Slack returns today that the 2021 enums do not list (per method). ratelimited is
# the body of every 429 (the file only knows "rate_limited"); internal_error answers 500s.
_ALWAYS = ["ratelimited", "internal_error", "not_allowed_token_type", "invalid_arguments"]
ERRORS_SINCE_2021: dict[str, list[str]] = {
    "/auth.test": [],
    "/chat.postMessage": ["invalid_blocks", "invalid_blocks_format", "invalid_thread_ts", "invalid_attachments",
                          "invalid_metadata_format"],
    "/chat.update": ["invalid_blocks", "invalid_blocks_format", "invalid_attachments"],
    "/chat.postEphemeral": ["invalid_blocks", "invalid_blocks_format", "invalid_thread_ts",
                            "invalid_attachments"],
    "/chat.getPermalink": [],
    "/chat.delete": [],
    "/conversations.replies": ["invalid_cursor"],
    "/users.info": [],
    "/usergroups.users.list": ["no_such_subteam"],
    "/files.upload": ["method_deprecated", "no_file_data"],
}
# Slack's invalid_blocks answers carry the problems twice: ``errors`` and response_metadata.
_ERROR_EXTRAS = {
    "errors": {"type": "array", "items": {"type": "string"}},
    "response_metadata": {"type": "object", "properties": {"messages": {"type": "array", "items": {"type": "string"}}}},
}
# Fields Slack returns on messages (app messages, edited ones) that the file leaves out.
_MESSAGE_EXTRAS = ["bot_id", "bot_profile", "blocks", "attachments", "files", "upload", "subtype", "edited"]
_EDITED = {"type": "object", "additionalProperties": False, "required": ["user", "ts"],
           "properties": {"user": {"$ref": "#/definitions/defs_user_id"}, "ts": {"$ref": "#/definitions/defs_ts"}}}


def _get(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@dataclass(frozen=True)
class Erratum:
    pointer: str  # where in the spec
    expect: Callable[[Any], bool]  # what the 2021 file says there (checked, so the erratum stays needed)
    patch: Callable[[Any], None]  # the correction, applied in place
    why: str


def _extend_errors(path: str, extra: list[str]) -> Erratum:
    pointer = f"/paths/{path.replace('/', '~1')}/{'get' if path in _GET_METHODS else 'post'}/responses/default/schema"

    def patch(schema: dict[str, Any]) -> None:
        known = schema["properties"]["error"]["enum"]
        known += [e for e in _ALWAYS + extra if e not in known]
        schema["properties"].update(copy.deepcopy(_ERROR_EXTRAS))

    def outdated(schema: dict[str, Any]) -> bool:
        return "errors" not in schema["properties"] and "ratelimited" not in schema["properties"]["error"]["enum"]

    why = (f"{path}: errors Slack returns since 2021 ({', '.join(_ALWAYS + extra)}) and the "
           "errors/response_metadata details of invalid_blocks")
    return Erratum(pointer, outdated, patch, why)


_GET_METHODS = {"/auth.test", "/chat.getPermalink", "/conversations.replies", "/users.info", "/users.list",
                "/usergroups.users.list"}
_REPLIES_ITEMS = "/paths/~1conversations.replies/get/responses/200/schema/properties/messages/items/items"


def _replace(schema: dict[str, Any], new: dict[str, Any]) -> None:
    schema.clear()
    schema.update(new)


def _add_message_fields(schemas: list[dict[str, Any]]) -> None:
    for schema in schemas:
        for name in _MESSAGE_EXTRAS:
            schema["properties"].setdefault(name, {"$ref": f"#/definitions/objs_message/properties/{name}"})


ERRATA: list[Erratum] = [
    *(_extend_errors(path, extra) for path, extra in ERRORS_SINCE_2021.items()),
    Erratum("/paths/~1chat.update/post/responses/200/schema/properties/message/properties/blocks",
            lambda s: s == {"type": "object"},
            lambda s: _replace(s, {"$ref": "#/definitions/blocks"}),
            "chat.update: message.blocks is an array on Slack (and in objs_message), not an object"),
    Erratum("/definitions/objs_message/properties",
            lambda props: "edited" not in props,
            lambda props: props.update(edited=copy.deepcopy(_EDITED)),
            "objs_message: edited messages carry edited {user, ts}"),
    Erratum(_REPLIES_ITEMS,
            lambda items: isinstance(items, list) and "bot_id" not in items[0]["properties"],
            _add_message_fields,
            "conversations.replies: the per-message schemas omit what app messages carry "
            "(bot_id, bot_profile, blocks, files, edited...), which objs_message lists"),
    Erratum("/paths/~1conversations.replies/get/responses/200/schema/properties",
            lambda props: "response_metadata" not in props,
            lambda props: props.update(response_metadata={
                "type": "object", "additionalProperties": False, "required": ["next_cursor"],
                "properties": {"next_cursor": {"type": "string"}}}),
            "conversations.replies: paginated answers carry response_metadata.next_cursor"),
]


def _unions(node: Any) -> Any:
    """The file's ``items: [A, B]`` on a non-array schema means anyOf [A, B]."""
    if isinstance(node, dict):
        out = {k: _unions(v) for k, v in node.items()}
        if isinstance(out.get("items"), list) and out.get("type") != "array":
            out["anyOf"] = out.pop("items")
        return out
    if isinstance(node, list):
        return [_unions(v) for v in node]
    return node


class SlackSpec:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        doc = copy.deepcopy(raw)
        for erratum in ERRATA:
            erratum.patch(_get(doc, erratum.pointer))
        self.doc = _unions(doc)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(self.doc))

    def operation(self, method: str) -> dict[str, Any]:
        verbs = self.doc["paths"][f"/{method}"]
        return next(iter(verbs.values()))

    def validator(self, pointer: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)

    def response_validator(self, method: str, outcome: str) -> Draft4Validator:
        verb = next(iter(self.doc["paths"][f"/{method}"]))
        return self.validator(f"/paths/{('/' + method).replace('/', '~1')}/{verb}/responses/{outcome}/schema")

    def response_problems(self, method: str, body: dict[str, Any]) -> list[str]:
        outcome = "200" if body.get("ok") else "default"
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in self.response_validator(method, outcome).iter_errors(body)]

    def request_problems(self, call: ApiCall) -> list[str]:
        """What is wrong with a request by the spec's parameter list: missing required ones, wrong types."""
        problems: list[str] = []
        operation = self.operation(call.method)
        consumes = operation.get("consumes", [])
        if call.content_type in ("application/json", "application/x-www-form-urlencoded") and consumes \
                and call.content_type not in consumes:
            problems.append(f"content type {call.content_type} not in {consumes}")
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if name == "token":
                if parameter.get("required") and call.token_source is None:
                    problems.append("token missing (neither Authorization header nor token argument)")
                continue
            value = call.params.get(name)
            if value is None:
                if parameter.get("required"):
                    problems.append(f"required parameter {name} missing")
                continue
            if not _conforms(value, parameter.get("type", "string"), json_body=call.content_type == "application/json"):
                problems.append(f"parameter {name}={value!r} is not a {parameter.get('type')}")
        return problems


def _conforms(value: Any, kind: str, *, json_body: bool) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or str(value).isdigit()
    if kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return not isinstance(value, bool)
    # A "string" argument holding JSON (blocks, attachments) arrives structured in JSON bodies.
    return isinstance(value, str) or (json_body and isinstance(value, (list, dict, int, float)))


@pytest.fixture(scope="module")
def spec() -> SlackSpec:
    return SlackSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    channels = [SlackChannel(CHANNEL, "social-desk"), SlackChannel("C0ARCHIVE1", "old-desk", is_archived=True)]
    async with SlackEmulator(channels=channels, rate_limits=RateLimits.off(), legacy_files_upload=True) as emulator:
        yield emulator


@pytest.fixture
async def client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


def card_blocks(ticket: int) -> list[Any]:
    """A triage card built the way the desk builds them: with slack_sdk's models."""
    return [
        HeaderBlock(text=f"Ticket #{ticket}"),
        SectionBlock(text=MarkdownTextObject(text="*@customer* on X: my order never arrived"),
                     fields=[MarkdownTextObject(text="*Priority*\nhigh"), MarkdownTextObject(text="*SLA*\n14 min")],
                     accessory=ButtonElement(text="Open", action_id="open_ticket", value=str(ticket))),
        ContextBlock(elements=[MarkdownTextObject(text="x.com · 2 followers")]),
        DividerBlock(),
        ActionsBlock(elements=[
            ButtonElement(text="Claim", action_id="claim", value=str(ticket), style="primary"),
            StaticSelectElement(placeholder="Snooze", action_id="snooze",
                                options=[Option(text="1 hour", value="1h"), Option(text="1 day", value="1d")]),
        ]),
    ]


def _body(response: Any) -> dict[str, Any]:
    assert isinstance(response.data, dict)
    return dict(response.data)


async def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        await call
    return _body(raised.value.response)


# --- the errata are still needed ---------------------------------------------------------------


def test_every_erratum_still_applies_to_the_vendored_spec(spec: SlackSpec) -> None:
    for erratum in ERRATA:
        assert erratum.expect(_get(spec.raw, erratum.pointer)), f"erratum no longer needed? {erratum.why}"


# --- answers conform ------------------------------------------------------------------------------


async def test_success_answers_conform(spec: SlackSpec, slack: SlackEmulator, client: AsyncWebClient) -> None:
    answers: dict[str, list[dict[str, Any]]] = {}

    def keep(method: str, response: Any) -> Any:
        answers.setdefault(method, []).append(_body(response))
        return response

    keep("auth.test", await client.auth_test())
    card = keep("chat.postMessage", await client.chat_postMessage(channel=CHANNEL, text="Ticket #1",
                                                                  blocks=card_blocks(1)))
    keep("chat.postMessage", await client.chat_postMessage(channel=CHANNEL, text="note", thread_ts=card["ts"]))
    keep("chat.postMessage", await client.chat_postMessage(channel=AGENT, text="you have a ticket"))
    keep("chat.update", await client.chat_update(channel=CHANNEL, ts=card["ts"], text="Ticket #1 (claimed)",
                                                 blocks=card_blocks(1)[:2]))
    keep("chat.postEphemeral", await client.chat_postEphemeral(channel=CHANNEL, user=AGENT, text="claimed"))
    keep("chat.getPermalink", await client.chat_getPermalink(channel=CHANNEL, message_ts=card["ts"]))
    for n in range(3):
        await client.chat_postMessage(channel=CHANNEL, text=f"reply {n}", thread_ts=card["ts"])
    keep("conversations.replies", await client.conversations_replies(channel=CHANNEL, ts=card["ts"]))
    keep("conversations.replies", await client.conversations_replies(channel=CHANNEL, ts=card["ts"], limit=2))
    keep("users.info", await client.users_info(user=AGENT))
    keep("users.info", await client.users_info(user=slack.workspace.bot.user_id, include_locale=True))
    first = keep("users.list", await client.users_list(limit=2))
    keep("users.list", await client.users_list(limit=200, cursor=first["response_metadata"]["next_cursor"]))
    keep("usergroups.users.list", await client.usergroups_users_list(usergroup="S0ONCALL1"))
    keep("usergroups.list", await client.usergroups_list(include_disabled=True, include_users=True))
    keep("conversations.info", await client.conversations_info(channel=CHANNEL))
    keep("chat.delete", await client.chat_delete(channel=CHANNEL, ts=(await client.chat_postMessage(
        channel=CHANNEL, text="oops"))["ts"]))
    keep("files.upload", await client.api_call("files.upload", files={"file": io.BytesIO(b"report")},
                                               data={"channels": CHANNEL, "filename": "r.txt"}))

    assert set(answers) == {"auth.test", "chat.postMessage", "chat.update", "chat.postEphemeral", "chat.getPermalink",
                            "conversations.replies", "users.info", "users.list", "usergroups.users.list", "chat.delete",
                            "files.upload", "usergroups.list", "conversations.info"}
    for method, bodies in answers.items():
        for body in bodies:
            assert spec.response_problems(method, body) == [], (method, body)


async def test_conversations_replies_lists_parent_then_replies_by_the_spec_shapes(
        spec: SlackSpec, slack: SlackEmulator, client: AsyncWebClient) -> None:
    # The file's two message shapes are positional: the parent (reply_count...) then replies.
    parent_schema, reply_schema = _get(spec.doc, _REPLIES_ITEMS.removesuffix("/items"))["anyOf"]
    parent = await client.chat_postMessage(channel=CHANNEL, text="card", blocks=card_blocks(2))
    await client.chat_postMessage(channel=CHANNEL, text="first", thread_ts=parent["ts"])
    await client.chat_update(channel=CHANNEL, ts=parent["ts"], text="card (edited)")
    messages = (await client.conversations_replies(channel=CHANNEL, ts=parent["ts"]))["messages"]
    registry = spec.registry
    base = {"definitions": spec.doc["definitions"]}
    assert list(Draft4Validator({**parent_schema, **base}, registry=registry).iter_errors(messages[0])) == []
    assert list(Draft4Validator({**reply_schema, **base}, registry=registry).iter_errors(messages[1])) == []
    assert list(Draft4Validator({**reply_schema, **base}, registry=registry).iter_errors(messages[0])) != []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")  # on purpose
async def test_error_answers_conform(spec: SlackSpec, slack: SlackEmulator, client: AsyncWebClient) -> None:
    bodies: list[tuple[str, dict[str, Any]]] = []

    async def expect(method: str, error: str, call: Any) -> None:
        body = await _error(call)
        assert body["error"] == error
        bodies.append((method, body))

    await expect("auth.test", "invalid_auth", AsyncWebClient(token="xoxb-0000000000-not-a-token",
                                                             base_url=slack.api_url).auth_test())
    await expect("chat.postMessage", "channel_not_found", client.chat_postMessage(channel="C0NOWHERE1", text="x"))
    await expect("chat.postMessage", "is_archived", client.chat_postMessage(channel="C0ARCHIVE1", text="x"))
    await expect("chat.postMessage", "msg_too_long", client.chat_postMessage(channel=CHANNEL, text="x" * 40_001))
    await expect("chat.postMessage", "no_text", client.chat_postMessage(channel=CHANNEL, text=""))
    await expect("chat.postMessage", "invalid_blocks", client.chat_postMessage(
        channel=CHANNEL, text="x", blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]))
    await expect("chat.update", "message_not_found", client.chat_update(channel=CHANNEL, ts="1700000000.000001",
                                                                          text="x"))
    await expect("chat.postEphemeral", "user_not_in_channel",
                 client.chat_postEphemeral(channel=CHANNEL, user="U0NOBODY01", text="x"))
    await expect("chat.getPermalink", "message_not_found",
                 client.chat_getPermalink(channel=CHANNEL, message_ts="1700000000.000001"))
    await expect("conversations.replies", "thread_not_found",
                 client.conversations_replies(channel=CHANNEL, ts="1700000000.000001"))
    await expect("users.info", "user_not_found", client.users_info(user="U0NOBODY01"))
    await expect("usergroups.users.list", "no_such_subteam", client.usergroups_users_list(usergroup="S0NOTHING"))
    slack.faults.set(rate_limited=1.0, only_paths=("/api/chat.postMessage",))
    await expect("chat.postMessage", "ratelimited", client.chat_postMessage(channel=CHANNEL, text="x"))
    slack.faults.set(rate_limited=0.0, server_error=1.0)
    await expect("chat.postMessage", "internal_error", client.chat_postMessage(channel=CHANNEL, text="x"))
    slack.faults.clear()

    for method, body in bodies:
        assert spec.response_problems(method, body) == [], (method, body)


async def test_views_answers_carry_the_documented_view(spec: SlackSpec, slack: SlackEmulator,
                                                       client: AsyncWebClient) -> None:
    # The 2021 file has no view schema for views.* (only {ok}); validate that template and
    # check the fields Slack documents for the view object directly.
    modal = View(type="modal", callback_id="reply", title="Reply to #1", submit="Send", close="Cancel",
                 blocks=[InputBlock(block_id="body", label="Reply",
                                    element=PlainTextInputElement(action_id="text", multiline=True))])
    opened = await client.views_open(trigger_id=slack.trigger_id(AGENT), view=modal)
    updated = await client.views_update(view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=modal)
    for method, body in (("views.open", _body(opened)), ("views.update", _body(updated))):
        assert spec.response_problems(method, body) == []
        view = body["view"]
        assert {"id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash", "title",
                "close", "submit", "root_view_id", "app_id", "bot_id"} <= set(view)
        assert view["id"].startswith("V") and view["state"] == {"values": {}}
    error = await _error(client.views_open(trigger_id="1.2.nope", view=modal))
    assert spec.response_problems("views.open", error) == []


async def test_every_recorded_answer_conforms(spec: SlackSpec, slack: SlackEmulator,
                                              client: AsyncWebClient) -> None:
    """Replay a desk-like session, then check every /api answer in the traffic record."""
    card = await client.chat_postMessage(channel=CHANNEL, text="Ticket #3", blocks=card_blocks(3))
    await client.chat_postEphemeral(channel=CHANNEL, user=AGENT, text="you claimed #3")
    await client.chat_update(channel=CHANNEL, ts=card["ts"], text="Ticket #3 (claimed by alice)")
    await client.chat_postMessage(channel=CHANNEL, text="reply sent", thread_ts=card["ts"])
    await client.conversations_replies(channel=CHANNEL, ts=card["ts"])
    await client.users_info(user=AGENT)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "divider", "oops": 1}])
    checked = 0
    for record in slack.recorder.of("slack", direction="inbound"):
        if not record["path"].startswith("/api/"):
            continue
        method = record["path"].removeprefix("/api/")
        assert spec.response_problems(method, record["response"]) == [], record
        checked += 1
    assert checked == 7


# --- requests conform -------------------------------------------------------------------------


async def test_what_slack_sdk_sends_has_the_required_parameters(spec: SlackSpec, slack: SlackEmulator,
                                                                client: AsyncWebClient) -> None:
    card = await client.chat_postMessage(channel=CHANNEL, text="Ticket #4", blocks=card_blocks(4),
                                         unfurl_links=False)
    await client.chat_update(channel=CHANNEL, ts=card["ts"], text="Ticket #4", blocks=card_blocks(4))
    await client.chat_postEphemeral(channel=CHANNEL, user=AGENT, text="hi")
    await client.chat_getPermalink(channel=CHANNEL, message_ts=card["ts"])
    await client.conversations_replies(channel=CHANNEL, ts=card["ts"], limit=10, inclusive=True)
    await client.users_info(user=AGENT)
    await client.usergroups_users_list(usergroup="S0ONCALL1")
    await client.auth_test()
    modal = View(type="modal", title="Note", submit="Save",
                 blocks=[InputBlock(block_id="note", label="Note", element=PlainTextInputElement(action_id="t"))])
    await client.views_open(trigger_id=slack.trigger_id(AGENT), view=modal)
    calls = [c for c in slack.api_calls if f"/{c.method}" in spec.doc["paths"]]
    assert len(calls) == 9
    for call in calls:
        assert call.token_source == "header"  # Slack's preferred way; the token never rides in the body
        assert spec.request_problems(call) == [], call


# --- the checks can fail ---------------------------------------------------------------------------


async def test_deliberately_wrong_bodies_fail_validation(spec: SlackSpec, slack: SlackEmulator,
                                                         client: AsyncWebClient) -> None:
    good = _body(await client.chat_postMessage(channel=CHANNEL, text="fine"))
    assert spec.response_problems("chat.postMessage", good) == []
    for broken in (
        {k: v for k, v in good.items() if k != "ts"},  # required field missing
        {**good, "ts": "1700000000"},  # not Slack's ts format
        {**good, "channel": "social-desk"},  # a name where an id belongs
        {**good, "surprise": True},  # additionalProperties: false
        {**good, "message": {**good["message"], "user": "alice"}},  # nested $ref'd pattern
    ):
        assert spec.response_problems("chat.postMessage", broken) != [], broken
    assert spec.response_problems("chat.postMessage", {"ok": False, "error": "not_a_slack_error"}) != []
    with pytest.raises(ValidationError):
        spec.response_validator("users.info", "200").validate({"ok": True, "user": {"id": "U0AGENT001"}})
    missing_channel = ApiCall("chat.postMessage", "POST", "application/json", {"text": "hi"}, token_source="header")
    assert spec.request_problems(missing_channel) == ["required parameter channel missing"]
    no_token = ApiCall("chat.getPermalink", "GET", "", {"channel": CHANNEL, "message_ts": "1.2"})
    assert "token missing (neither Authorization header nor token argument)" in spec.request_problems(no_token)
    bad_flag = ApiCall("chat.postMessage", "POST", "application/x-www-form-urlencoded",
                       {"channel": CHANNEL, "reply_broadcast": "maybe"}, token_source="param")
    assert spec.request_problems(bad_flag) == ["parameter reply_broadcast='maybe' is not a boolean"]


async def test_raw_form_requests_conform_too(spec: SlackSpec, slack: SlackEmulator) -> None:
    """Form-encoded calls with the token as an argument, the other way Slack accepts."""
    async with aiohttp.ClientSession() as session:
        form = {"token": slack.bot_token, "channel": CHANNEL, "text": "from a form",
                "blocks": json.dumps([b.to_dict() for b in card_blocks(5)])}
        async with session.post(f"{slack.api_url}chat.postMessage", data=form) as answer:
            body = await answer.json()
    assert body["ok"] is True
    assert spec.response_problems("chat.postMessage", body) == []
    call = slack.api_calls[-1]
    assert call.token_source == "param" and call.token is None
    assert spec.request_problems(call) == []


@pytest.mark.parametrize("plan", [FaultPlan(rate_limited=1.0), FaultPlan(server_error=1.0)])
async def test_injected_fault_bodies_conform(spec: SlackSpec, plan: FaultPlan) -> None:
    async with SlackEmulator(faults=plan) as slack:
        body = await _error(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url).auth_test())
    assert spec.response_problems("auth.test", body) == []
