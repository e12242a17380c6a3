"""The App Home tab's listeners: opening it, its filters and pages, Claim from a row.

Claim goes through the same path as the card's (:func:`socialdesk.core.slack.takeover.claim`);
a lost claim is told at the top of the republished Home, whose row then offers the
confirmed takeover. Non-agents who open the Home are told who may use the desk.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from socialdesk.core.slack import takeover
from socialdesk.core.slack.home_publisher import existing_publisher, publisher_for
from socialdesk.core.slack.home_view import ALL, CALLBACK, HomeActions
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.runtime import SlackRuntime, existing_runtime
from socialdesk.core.store.home_queries import HomeFilters

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)


def _selected(body: dict[str, Any]) -> str:
    return str((body["actions"][0].get("selected_option") or {}).get("value") or "")


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    if not rt.settings.home.enabled:
        return
    home = publisher_for(app)

    @bolt.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab
        user = str(event.get("user") or "")
        if await rt.permissions.actor(user) is None:
            refusal = View(type="home", callback_id=CALLBACK, blocks=[
                SectionBlock(text=MarkdownTextObject(text=REFUSAL))])
            try:
                await rt.client.views_publish(user_id=user, view=refusal)
            except SlackApiError as exc:
                log.warning("views.publish failed", extra={"user": user, "error": exc.response.get("error")})
            return
        await home.opened(user)

    async def agent(body: dict[str, Any]) -> str | None:
        user = str((body.get("user") or {}).get("id") or "")
        return user if await rt.permissions.actor(user) is not None else None

    @bolt.action(HomeActions.PLATFORM)
    async def platform_picked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = await agent(body)
        if user is None:
            return
        value = _selected(body)
        if value != ALL and value not in app.platforms:
            return  # not an option the Home offered
        current = await home.filters_of(user)
        await home.set_filters(user, HomeFilters(None if value == ALL else value, current.priority))

    @bolt.action(HomeActions.PRIORITY)
    async def priority_picked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = await agent(body)
        if user is None:
            return
        value = _selected(body)
        if value != ALL and value not in ("1", "2", "3", "4"):
            return
        current = await home.filters_of(user)
        await home.set_filters(user, HomeFilters(current.platform, None if value == ALL else int(value)))

    @bolt.action(re.compile("^(" + re.escape(HomeActions.PREVIOUS_PAGE) + "|" + re.escape(HomeActions.NEXT_PAGE) + ")$"))
    async def page_picked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = await agent(body)
        value = str(body["actions"][0].get("value") or "")
        if user is None or not value.isdigit() or len(value) > 4:
            return
        await home.publish(user, page=int(value))

    @bolt.action(HomeActions.REFRESH)
    async def refresh_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = await agent(body)
        if user is not None:
            await home.publish(user)

    @bolt.action(HomeActions.CLAIM)
    async def claim_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        actor = await rt.permissions.actor(user)
        value = str(body["actions"][0].get("value") or "")
        if actor is None or not value.isdigit() or len(value) > 12:
            return
        outcome = await takeover.claim(app, actor, int(value))
        await home.publish(user, notice=outcome.text)


async def refresh_homes(app: DeskApp) -> None:
    """A ticket changed: refresh the Homes of agents who opened theirs recently (debounced)."""
    rt = existing_runtime(app)
    publisher = existing_publisher(rt) if rt is not None else None
    if publisher is not None:
        await publisher.tickets_changed()


async def close_homes(app: DeskApp) -> None:
    rt = existing_runtime(app)
    publisher = existing_publisher(rt) if rt is not None else None
    if publisher is not None:
        await publisher.close()
