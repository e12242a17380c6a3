"""App Home tabs: ``views.publish`` and the ``app_home_opened`` event.

Each user has at most one Home view per app; ``views.publish`` replaces it (same view id,
a new ``hash``). A ``hash`` that is not the current one is refused with
``hash_conflict``, as Slack does to protect a newer publish. Home views carry up to 100
blocks and no title, submit or close (those belong to modals). Every publish is kept
(``history``) so tests can see what a user was shown, and when.
"""

from __future__ import annotations

import copy
import secrets
from typing import TYPE_CHECKING, Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError, invalid_arguments
from socialdesk.sandbox.slack.blockkit import (
    VIEW_BLOCK_LIMIT,
    Problems,
    _extra,
    _string,
    check_blocks,
    with_generated_ids,
)
from socialdesk.sandbox.slack.ids import IdFactory
from socialdesk.sandbox.slack.modals import View

if TYPE_CHECKING:
    from socialdesk.sandbox.slack.state import SlackState

_HOME_PROPS = {"type", "blocks", "private_metadata", "callback_id", "external_id"}
MAX_HOME_HISTORY = 100


def validate_home_view(view: Any) -> list[str]:
    """Problems with a Home tab view payload (views.publish)."""
    p = Problems()
    ptr = "/view"
    if not isinstance(view, dict):
        p.add("must provide an object", ptr)
        return p.found
    _extra(p, view, _HOME_PROPS, ptr)
    for key in ("type", "blocks"):
        if key not in view:
            p.add(f"missing required field: {key}", ptr)
    if view.get("type") is not None and view.get("type") != "home":
        p.add('must be "home"', f"{ptr}/type")
    _string(p, view, "private_metadata", ptr, max_len=3000)
    _string(p, view, "callback_id", ptr, max_len=255)
    _string(p, view, "external_id", ptr, max_len=255)
    if "blocks" in view:
        check_blocks(p, view["blocks"], f"{ptr}/blocks", surface="home", limit=VIEW_BLOCK_LIMIT)
    return p.found


class HomeTabs:
    """The Home view published for each user (one per user, updated in place)."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self._by_user: dict[str, View] = {}
        self._by_id: dict[str, View] = {}
        self.publishes: list[tuple[str, float]] = []  # (user, when), every successful publish

    def of(self, user: str) -> View | None:
        return self._by_user.get(user)

    def get(self, view_id: str) -> View | None:
        return self._by_id.get(view_id)

    def publish(self, user: str, definition: dict[str, Any], now: float, expected_hash: str | None) -> View:
        view = self._by_user.get(user)
        if view is None:
            view_id = self._ids.next("V")
            view = View(view_id, user, copy.deepcopy(definition), _new_hash(now), root_view_id=view_id)
            self._by_user[user] = self._by_id[view_id] = view
        else:
            if expected_hash and expected_hash != view.hash:
                raise ApiError("hash_conflict")
            view.history.append(view.definition)
            del view.history[:-MAX_HOME_HISTORY]
            view.definition = copy.deepcopy(definition)
            view.hash = _new_hash(now)
        self.publishes.append((user, now))
        del self.publishes[:-1000]
        return view


def _new_hash(now: float) -> str:
    return f"{now:.6f}.{secrets.token_hex(4)}"


def publish_view(state: SlackState, call: ApiCall) -> dict[str, Any]:
    user = call.text("user_id")
    if not user:
        raise invalid_arguments(["missing required field: user_id"])
    if user not in state.workspace.users:
        raise ApiError("user_not_found")
    view = call.structured("view", "invalid_arguments")
    if view is None:
        raise invalid_arguments(["missing required field: view"])
    problems = validate_home_view(view)
    if problems:
        raise invalid_arguments(problems)
    definition = {**view, "blocks": with_generated_ids(view["blocks"])}
    published = state.homes.publish(user, definition, state.clock(), call.text("hash"))
    return {"ok": True, "view": published.as_slack(state.workspace)}


def app_home_opened_event(state: SlackState, user: str) -> dict[str, Any]:
    """What Slack sends when ``user`` opens the app's Home tab (``view`` once one was published)."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user,
                             "channel": state.workspace.dm_channel(user).id, "tab": "home",
                             "event_ts": state.ts.next()}
    published = state.homes.of(user)
    if published is not None:
        event["view"] = published.as_slack(state.workspace)
    return event


METHODS = {"views.publish": publish_view}
