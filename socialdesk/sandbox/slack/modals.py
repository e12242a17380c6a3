"""Modal views: what views.open/update/push keep, and the ``state.values`` Slack submits.

Slack keeps a stack of up to three views per modal (the root and two pushed views);
each change gets a new ``hash`` so an app can refuse to overwrite a newer version.
"""

from __future__ import annotations

import copy
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiError
from socialdesk.sandbox.slack.ids import IdFactory
from socialdesk.sandbox.slack.workspace import Workspace

MAX_STACK = 3


@dataclass
class View:
    id: str
    user: str
    definition: dict[str, Any]  # what the app sent, minus nothing
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier definitions, oldest first
    errors: dict[str, str] | None = None  # last response_action=errors, shown under the inputs
    state_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: bool = False

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id", ""))

    @property
    def external_id(self) -> str:
        return str(self.definition.get("external_id", ""))

    @property
    def title(self) -> str:
        return str((self.definition.get("title") or {}).get("text", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.definition.get("blocks") or [])

    def as_slack(self, workspace: Workspace) -> dict[str, Any]:
        d = self.definition
        return {
            "id": self.id, "team_id": workspace.team.id, "type": d.get("type", "modal"),
            "blocks": copy.deepcopy(d.get("blocks", [])), "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""), "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash, "title": copy.deepcopy(d.get("title")), "clear_on_close": d.get("clear_on_close", False),
            "notify_on_close": d.get("notify_on_close", False), "close": copy.deepcopy(d.get("close")),
            "submit": copy.deepcopy(d.get("submit")), "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id, "app_id": workspace.bot.app_id, "external_id": d.get("external_id", ""),
            "app_installed_team_id": workspace.team.id, "bot_id": workspace.bot.bot_id,
        }


def _new_hash(now: float) -> str:
    return f"{now:.6f}.{secrets.token_hex(4)}"


class ViewStore:
    """Open views by id (bounded: the oldest closed views are forgotten first)."""

    def __init__(self, ids: IdFactory, max_views: int = 500) -> None:
        self._ids = ids
        self._max = max_views
        self._views: OrderedDict[str, View] = OrderedDict()
        self._stacks: dict[str, list[str]] = {}  # root view id -> ids, bottom first

    def all(self) -> list[View]:
        return list(self._views.values())

    def get(self, view_id: str) -> View | None:
        return self._views.get(view_id)

    def find(self, *, view_id: str | None, external_id: str | None) -> View:
        if view_id:
            view = self._views.get(view_id)
        else:
            view = next((v for v in self._views.values() if external_id and v.external_id == external_id), None)
        if view is None or view.closed:
            raise ApiError("not_found")
        return view

    def open(self, user: str, definition: dict[str, Any], now: float) -> View:
        self._check_external_id(definition)
        view_id = self._ids.next("V")
        view = View(view_id, user, copy.deepcopy(definition), _new_hash(now), root_view_id=view_id)
        self._remember(view)
        self._stacks[view_id] = [view_id]
        return view

    def push(self, user: str, definition: dict[str, Any], now: float) -> View:
        """Push onto the user's topmost open modal, as views.push does from a trigger in it."""
        top = next((v for v in reversed(self._views.values()) if v.user == user and not v.closed), None)
        if top is None:
            raise ApiError("not_found")
        stack = self._stacks[top.root_view_id]
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        self._check_external_id(definition)
        view = View(self._ids.next("V"), user, copy.deepcopy(definition), _new_hash(now),
                    root_view_id=top.root_view_id, previous_view_id=stack[-1])
        self._remember(view)
        stack.append(view.id)
        return view

    def update(self, view: View, definition: dict[str, Any], now: float, expected_hash: str | None) -> View:
        if expected_hash and expected_hash != view.hash:
            raise ApiError("hash_conflict")
        if definition.get("external_id") and definition.get("external_id") != view.external_id:
            self._check_external_id(definition)
        view.history.append(view.definition)
        del view.history[:-50]
        view.definition = copy.deepcopy(definition)
        view.hash = _new_hash(now)
        view.errors = None
        return view

    def close(self, view: View, *, everything: bool = False) -> None:
        """Close ``view`` (the top of its stack), or the whole stack for response_action=clear."""
        stack = self._stacks.get(view.root_view_id, [])
        closing = list(stack) if everything else [view.id]
        for view_id in closing:
            if view_id in self._views:
                self._views[view_id].closed = True
            if view_id in stack:
                stack.remove(view_id)

    def _check_external_id(self, definition: dict[str, Any]) -> None:
        external_id = definition.get("external_id")
        if external_id and any(v.external_id == external_id and not v.closed for v in self._views.values()):
            raise ApiError("duplicate_external_id")

    def _remember(self, view: View) -> None:
        self._views[view.id] = view
        while len(self._views) > self._max:
            oldest = next((k for k, v in self._views.items() if v.closed), next(iter(self._views)))
            dropped = self._views.pop(oldest)
            self._stacks.pop(dropped.id, None)


# --- what the user entered, as Slack reports it in view.state.values ------------------------

_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE = {"users_select": ("selected_user", "initial_user"),
           "conversations_select": ("selected_conversation", "initial_conversation"),
           "channels_select": ("selected_channel", "initial_channel"),
           "datepicker": ("selected_date", "initial_date"),
           "timepicker": ("selected_time", "initial_time"),
           "datetimepicker": ("selected_date_time", "initial_date_time")}
_MULTI = {"multi_users_select": ("selected_users", "initial_users"),
          "multi_conversations_select": ("selected_conversations", "initial_conversations"),
          "multi_channels_select": ("selected_channels", "initial_channels")}


def _all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _pick(element: dict[str, Any], value: Any) -> dict[str, Any]:
    if isinstance(value, dict):  # a whole option: what an external_select's options endpoint supplied
        return copy.deepcopy(value)
    for option in _all_options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise ValueError(f"{element.get('action_id')!r} has no option with value {value!r}")


def element_state(element: dict[str, Any], entry: Any) -> dict[str, Any]:
    """The state Slack reports for ``element`` after the user entered ``entry``.

    ``entry`` is what a person would pick: text for inputs, an option's value for selects
    and radio buttons (or a whole option object for external selects), a list of those for
    checkboxes and multi-selects, an id for user/conversation pickers. ``None`` leaves the
    element at its initial value.
    """
    kind = str(element.get("type"))
    state: dict[str, Any] = {"type": kind}
    if kind in _TEXT_INPUTS:
        state["value"] = element.get("initial_value") if entry is None else str(entry)
    elif kind in ("static_select", "external_select", "radio_buttons"):
        initial = element.get("initial_option")
        state["selected_option"] = copy.deepcopy(initial) if entry is None else _pick(element, entry)
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        initial = element.get("initial_options") or []
        state["selected_options"] = (copy.deepcopy(initial) if entry is None
                                     else [_pick(element, v) for v in entry])
    elif kind in _SINGLE:
        key, initial_key = _SINGLE[kind]
        state[key] = element.get(initial_key) if entry is None else entry
    elif kind in _MULTI:
        key, initial_key = _MULTI[kind]
        state[key] = list(element.get(initial_key) or []) if entry is None else list(entry)
    else:
        state["value"] = entry
    return state


def is_empty(state: dict[str, Any]) -> bool:
    values = [v for k, v in state.items() if k != "type"]
    return all(v in (None, "", []) for v in values)


def submitted_values(definition: dict[str, Any], entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``view.state.values`` for a submission: every input block, keyed block_id -> action_id.

    Raises ValueError for a required input left empty: Slack's client refuses to submit then.
    """
    values: dict[str, dict[str, Any]] = {}
    for block in definition.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        state = element_state(element, (entries.get(block_id) or {}).get(action_id))
        if is_empty(state) and not block.get("optional", False):
            raise ValueError(f"input {block_id}/{action_id} is required; Slack would not submit the view")
        values[block_id] = {action_id: state}
    unknown = {b for b in entries if b not in values}
    if unknown:
        raise ValueError(f"no input blocks with block_id {sorted(unknown)} in this view")
    return values
