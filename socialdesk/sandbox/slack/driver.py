"""The driver: acts as Slack towards the desk, the way a person using Slack would cause it to.

It types slash commands, clicks buttons, picks options, submits modals and writes in
threads. Each action becomes the payload Slack would send, delivered either over HTTP
to the app's request URL (signed, form- or JSON-encoded as Slack does) or as a Socket
Mode envelope on the app's open websocket. What the app answers is then applied as
Slack applies it: a command's reply becomes an ephemeral or channel message, a view
submission's ``response_action`` updates, pushes, closes or shows errors on the modal.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from socialdesk.sandbox.slack import home_tabs, payloads
from socialdesk.sandbox.slack.api_request import ApiError
from socialdesk.sandbox.slack.blockkit import validate_view, with_generated_ids
from socialdesk.sandbox.slack.modals import View, element_state, submitted_values
from socialdesk.sandbox.slack.responses import ResponseRejected, apply_response
from socialdesk.sandbox.slack.signing import signed_headers
from socialdesk.sandbox.slack.socket_mode import Ack
from socialdesk.sandbox.slack.timeline import Message

if TYPE_CHECKING:
    from socialdesk.sandbox.slack.emulator import SlackEmulator

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
ACK_DEADLINE_SECONDS = 3.0  # Slack gives up on an app that has not answered by then


@dataclass
class Delivery:
    """One payload sent to the app, and what came of it."""

    kind: str  # "slash_commands", "interactive" or "events_api"
    payload: dict[str, Any]
    transport: str  # "http" or "socket"
    status: int | None = None  # HTTP status the app answered (HTTP mode)
    body: Any = None  # the app's HTTP response body, parsed JSON or text (HTTP mode)
    ack: Ack | None = None  # the Socket Mode ack (Socket Mode)
    envelope_id: str | None = None
    seconds: float | None = None  # from sending to the app's answer
    outcome: str | None = None  # what Slack made of the answer: "ephemeral", "closed", "errors"...

    @property
    def acked(self) -> bool:
        """Did the app acknowledge in time (HTTP 200, or an ack frame on the socket)?"""
        if self.transport == "socket":
            return self.ack is not None
        return self.status == 200

    @property
    def response(self) -> dict[str, Any] | None:
        """The app's response payload, whichever way it came."""
        if self.transport == "socket":
            return self.ack.payload if self.ack else None
        if isinstance(self.body, dict):
            return self.body
        if isinstance(self.body, str) and self.body:
            return {"text": self.body}
        return None


class SlackDriver:
    def __init__(self, emulator: SlackEmulator, request_url: str | None = None, *,
                 ack_timeout: float = ACK_DEADLINE_SECONDS) -> None:
        """``request_url``: the app's HTTP endpoint; without it, payloads go over Socket Mode."""
        self._slack = emulator
        self._state = emulator.state
        self.request_url = request_url
        self.ack_timeout = ack_timeout

    @property
    def transport(self) -> str:
        return "http" if self.request_url else "socket"

    # --- what a person does -------------------------------------------------------------

    async def slash_command(self, command: str, text: str = "", *, user: str, channel: str | None = None,
                            bad_signature: bool = False, timestamp: int | None = None) -> Delivery:
        """``/command text`` typed by ``user`` in ``channel`` (default: the workspace's first channel)."""
        state = self._state
        where = state.resolve_channel(channel or next(iter(state.workspace.channels)), for_posting=False)
        self._require_user(user)
        response_url = self._slack.response_urls.issue(state, "commands", channel=where.id, user=user)
        payload = payloads.slash_command(state, command=command, text=text, user_id=user, channel=where,
                                         response_url=response_url, trigger=state.issue_trigger(user))
        delivery = await self._deliver("slash_commands", payload, accepts_response_payload=True,
                                       bad_signature=bad_signature, timestamp=timestamp)
        if not delivery.acked:
            reason = "operation_timeout" if delivery.status is None else "dispatch_failed"
            state.post_ephemeral(where, user=user, text=f'{command} failed with the error "{reason}"',
                                 source="slackbot")
            delivery.outcome = reason
        elif delivery.response and (delivery.response.get("text") or delivery.response.get("blocks")):
            delivery.outcome = self._apply(where.id, user, delivery.response, "command_response")
        return delivery

    async def click(self, channel: str, message_ts: str, action_id: str, *, user: str,
                    block_id: str | None = None, bad_signature: bool = False) -> Delivery:
        """Click the button ``action_id`` on a message in ``channel``."""
        return await self._message_action(channel, message_ts, action_id, None, user=user, block_id=block_id,
                                          bad_signature=bad_signature)

    async def choose(self, channel: str, message_ts: str, action_id: str, value: str, *, user: str,
                     block_id: str | None = None) -> Delivery:
        """Pick the option with ``value`` in a select, overflow or radio element on a message."""
        return await self._message_action(channel, message_ts, action_id, value, user=user, block_id=block_id)

    async def click_in_view(self, view_id: str, action_id: str, *, user: str | None = None,
                            block_id: str | None = None) -> Delivery:
        """Click a button inside an open modal (sends block_actions with the view as container)."""
        view = self._open_view(view_id)
        element, found_block = _find_element(view.blocks, action_id, block_id)
        user = user or view.user
        action = payloads.element_action(element, found_block, self._state.ts.next())
        payload = payloads.view_actions(self._state, user_id=user, view=view, action=action,
                                        trigger=self._state.issue_trigger(user))
        return await self._deliver("interactive", payload, accepts_response_payload=False)

    async def type_in_view(self, view_id: str, block_id: str, action_id: str, text: str, *,
                           user: str | None = None) -> Delivery:
        """The person's text input now holds ``text``; Slack reports it as it does for an input
        whose block has ``dispatch_action`` and whose element triggers ``on_character_entered``:
        a block_actions carrying the value, with the view's state holding it too.

        Raises LookupError when the input would not dispatch (Slack sends nothing then).
        """
        view = self._open_view(view_id)
        block = next((b for b in view.blocks if b.get("block_id") == block_id and b.get("type") == "input"), None)
        element = (block or {}).get("element") or {}
        if block is None or element.get("action_id") != action_id:
            raise LookupError(f"no input {block_id}/{action_id} is shown in view {view_id}")
        triggers = (element.get("dispatch_action_config") or {}).get("trigger_actions_on") or ["on_enter_pressed"]
        if not block.get("dispatch_action") or "on_character_entered" not in triggers:
            raise LookupError(f"input {block_id}/{action_id} does not dispatch as characters are entered")
        view.state_values[block_id] = {action_id: element_state(element, text)}
        action = {**payloads.element_action(element, block_id, self._state.ts.next()), "value": text}
        payload = payloads.view_actions(self._state, user_id=user or view.user, view=view, action=action,
                                        trigger=self._state.issue_trigger(user or view.user))
        return await self._deliver("interactive", payload, accepts_response_payload=False)

    async def submit_view(self, view_id: str, values: dict[str, dict[str, Any]] | None = None, *,
                          user: str | None = None, bad_signature: bool = False) -> Delivery:
        """Fill the modal's inputs (``{block_id: {action_id: entry}}``) and press its submit button.

        Entries are what a person picks: text, an option's value, a user id, a list for
        multi-selects. A required input left empty raises ValueError, since Slack's client
        would not submit the form.
        """
        state = self._state
        view = self._open_view(view_id)
        if "submit" not in view.definition:
            raise ValueError(f"view {view_id} has no submit button")
        user = user or view.user
        view.state_values = submitted_values(view.definition, values or {})
        payload = payloads.view_submission(state, user_id=user, view=view, trigger=state.issue_trigger(user))
        delivery = await self._deliver("interactive", payload, accepts_response_payload=True,
                                       bad_signature=bad_signature)
        delivery.outcome = self._after_submission(view, delivery)
        return delivery

    async def write(self, channel: str, text: str, *, user: str,
                    thread_ts: str | None = None) -> tuple[Message, Delivery]:
        """``user`` writes a message (in a thread with ``thread_ts``); the app gets the message event."""
        message = self._slack.post_as(user, channel, text, thread_ts=thread_ts)
        where = self._state.resolve_channel(message.channel, for_posting=False)
        return message, await self.send_event(payloads.message_event(self._state, message, where))

    async def open_home(self, user: str) -> Delivery:
        """``user`` opens the app's Home tab: the app gets ``app_home_opened``."""
        self._require_user(user)
        return await self.send_event(home_tabs.app_home_opened_event(self._state, user))

    async def pick_in_view(self, view_id: str, action_id: str, value: str, *, user: str | None = None,
                           block_id: str | None = None) -> Delivery:
        """Pick the option with ``value`` in a select inside a modal or Home tab (block_actions from the view)."""
        view = self._open_view(view_id)
        element, found_block = _find_element(view.blocks, action_id, block_id)
        selected = element_state(element, value).get("selected_option")
        if selected is None:
            raise ValueError(f"{action_id} is a {element.get('type')}, not something with options")
        user = user or view.user
        action = payloads.element_action(element, found_block, self._state.ts.next(), selected)
        payload = payloads.view_actions(self._state, user_id=user, view=view, action=action,
                                        trigger=self._state.issue_trigger(user))
        return await self._deliver("interactive", payload, accepts_response_payload=False)

    async def send_event(self, event: dict[str, Any]) -> Delivery:
        """Deliver any Events API event (wrapped in its event_callback)."""
        payload = payloads.event_callback(self._state, event, int(time.time()))
        return await self._deliver("events_api", payload, accepts_response_payload=False)

    # --- helpers ------------------------------------------------------------------------

    def _require_user(self, user: str) -> None:
        if user not in self._state.workspace.users:
            raise LookupError(f"no user {user} in the sandbox workspace")

    def _open_view(self, view_id: str) -> View:
        view = self._state.views.get(view_id) or self._state.homes.get(view_id)  # a modal or a Home tab
        if view is None or view.closed:
            raise LookupError(f"view {view_id} is not open")
        return view

    def _apply(self, channel_id: str, user: str, response: dict[str, Any], source: str,
               original_ts: str | None = None) -> str:
        try:
            return apply_response(self._state, channel_id=channel_id, user=user, payload=response,
                                  source=source, original_ts=original_ts)
        except ResponseRejected as rejected:
            return f"rejected:{rejected.reason}"

    async def _message_action(self, channel: str, message_ts: str, action_id: str, value: str | None, *,
                              user: str, block_id: str | None, bad_signature: bool = False) -> Delivery:
        state = self._state
        where = state.resolve_channel(channel, for_posting=False)
        self._require_user(user)
        message = state.timeline(where.id).get(message_ts)
        if message is None or message.deleted:
            raise LookupError(f"no message {message_ts} in {channel}")
        element, found_block = _find_element(message.blocks or [], action_id, block_id)
        selected = None
        if value is not None:
            selected = element_state(element, value).get("selected_option")
            if selected is None:
                raise ValueError(f"{action_id} is a {element.get('type')}, not something with options")
        action = payloads.element_action(element, found_block, state.ts.next(), selected)
        response_url = self._slack.response_urls.issue(state, "actions", channel=where.id, user=user,
                                                       message_ts=message.ts)
        payload = payloads.message_actions(state, user_id=user, channel=where, message=message, action=action,
                                           trigger=state.issue_trigger(user), response_url=response_url,
                                           state_values={})
        return await self._deliver("interactive", payload, accepts_response_payload=False,
                                   bad_signature=bad_signature)

    def _after_submission(self, view: View, delivery: Delivery) -> str:
        """Apply the app's answer to a view submission the way Slack does."""
        views = self._state.views
        if not delivery.acked:
            return "not_acknowledged"  # Slack keeps the modal open and shows a connection error
        response = delivery.response or {}
        action = response.get("response_action")
        if action == "errors":
            view.errors = dict(response.get("errors") or {})
            return "errors"
        if action in ("update", "push"):
            definition = response.get("view")
            if validate_view(definition):
                return "invalid_view"  # Slack shows the user an error; the modal stays as it was
            assert isinstance(definition, dict)
            definition = {**definition, "blocks": with_generated_ids(definition["blocks"])}
            try:
                if action == "update":
                    views.update(view, definition, self._state.clock(), None)
                else:
                    views.push(view.user, definition, self._state.clock())
            except ApiError as error:
                return f"rejected:{error.error}"
            return "updated" if action == "update" else "pushed"
        views.close(view, everything=action == "clear")
        return "cleared" if action == "clear" else "closed"

    async def _deliver(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool,
                       bad_signature: bool = False, timestamp: int | None = None) -> Delivery:
        if self.request_url:
            return await self._post(kind, payload, bad_signature=bad_signature, timestamp=timestamp)
        started = time.monotonic()
        envelope_id, ack = await self._slack.socket_mode.deliver(
            kind, payload, ack_timeout=self.ack_timeout, accepts_response_payload=accepts_response_payload)
        return Delivery(kind, payload, "socket", ack=ack, envelope_id=envelope_id,
                        seconds=ack.seconds if ack else time.monotonic() - started)

    async def _post(self, kind: str, payload: dict[str, Any], *, bad_signature: bool,
                    timestamp: int | None) -> Delivery:
        assert self.request_url is not None
        # Commands come form-encoded, interactions as a form field "payload" holding JSON, events as JSON.
        content_type = "application/x-www-form-urlencoded"
        if kind == "slash_commands":
            body = urlencode(payload).encode()
        elif kind == "interactive":
            body = urlencode({"payload": json.dumps(payload)}).encode()
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        secret = self._state.credentials.signing_secret
        headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT,
                   **signed_headers(secret + "-wrong" if bad_signature else secret, body, timestamp=timestamp)}
        delivery = Delivery(kind, payload, "http")
        started = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=self.ack_timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.post(self.request_url, data=body, headers=headers) as answer:
                delivery.status = answer.status
                raw = await answer.text()
                delivery.body = _parse_body(raw)
        except (TimeoutError, aiohttp.ClientError):
            delivery.status = None  # no answer in time: Slack shows the user an error
        delivery.seconds = time.monotonic() - started
        self._slack.recorder.write(
            emulator=self._slack.name, direction="outbound", method="POST",
            path=urlsplit(self.request_url).path, query={}, body={"kind": kind, "payload": payload},
            headers=headers, status=delivery.status, response=delivery.body,
            duration_ms=round(delivery.seconds * 1000, 2),
        )
        return delivery


def _parse_body(raw: str) -> Any:
    if raw.startswith("{"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _find_element(blocks: list[dict[str, Any]], action_id: str, block_id: str | None) -> tuple[dict[str, Any], str]:
    """The element ``action_id`` (in ``block_id`` if given) as shown; a person can only touch what is shown."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section":
            candidates = [block.get("accessory")]
        elif block.get("type") == "input":
            candidates = [block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element, str(block.get("block_id"))
    raise LookupError(f"no element with action_id {action_id!r} is shown there")
