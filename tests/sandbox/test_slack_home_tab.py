"""The Slack emulator's App Home: views.publish (with slack_sdk) and app_home_opened (to a Bolt
app), answering as Slack does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, Option, SectionBlock, StaticSelectElement
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.sandbox.slack import RateLimits, SlackEmulator
from tests.sandbox.test_slack_emulator import ALICE, BOB, api_error, eventually, serve_http


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(rate_limits=RateLimits.off()) as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


def home(text: str, *blocks: Any) -> View:
    return View(type="home", blocks=[SectionBlock(text=text), *blocks])


async def test_publish_keeps_one_view_per_user_and_refuses_a_stale_hash(slack: SlackEmulator,
                                                                       client: AsyncWebClient) -> None:
    first = (await client.views_publish(user_id=ALICE, view=home("one")))["view"]
    assert first["type"] == "home" and first["id"].startswith("V") and first["hash"]
    second = (await client.views_publish(user_id=ALICE, view=home("two"), hash=first["hash"]))["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    stale = await api_error(client.views_publish(user_id=ALICE, view=home("three"), hash=first["hash"]))
    assert stale.response["error"] == "hash_conflict"
    other = (await client.views_publish(user_id=BOB, view=home("bob's")))["view"]
    assert other["id"] != first["id"]
    published = slack.home(ALICE)
    assert published is not None and published.blocks[0]["text"]["text"] == "two"
    assert [h["blocks"][0]["text"]["text"] for h in published.history] == ["one"]


@pytest.mark.parametrize("view, problem", [
    ({"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}, 'must be "home"'),
    ({"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 101},
     "no more than 100 items allowed"),
    ({"type": "home", "blocks": [], "submit": {"type": "plain_text", "text": "Go"}}, "submit"),
    ({"type": "home", "blocks": [{"type": "markdown", "text": "x"}]}, "unsupported type: markdown"),
])
async def test_invalid_home_views_are_refused(client: AsyncWebClient, view: dict[str, Any], problem: str) -> None:
    error = await api_error(client.views_publish(user_id=ALICE, view=view))
    assert error.response["error"] == "invalid_arguments"
    assert any(problem in m for m in error.response["response_metadata"]["messages"]), error.response


async def test_publish_for_an_unknown_user(client: AsyncWebClient) -> None:
    error = await api_error(client.views_publish(user_id="U0NOBODY99", view=home("x")))
    assert error.response["error"] == "user_not_found"


async def test_opening_the_home_tab_and_picking_in_it_reach_a_bolt_app(slack: SlackEmulator,
                                                                      client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=slack.signing_secret, process_before_response=True)
    seen: list[dict[str, Any]] = []
    picks: list[dict[str, Any]] = []

    @app.event("app_home_opened")
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append(event)
        select = StaticSelectElement(action_id="pick", options=[Option(text="One", value="1"),
                                                                 Option(text="Two", value="2")])
        await client.views_publish(user_id=event["user"], view=home(
            f"opened {len(seen)}", ActionsBlock(block_id="row", elements=[
                select, ButtonElement(text="Go", action_id="go", value="42")])))

    @app.action("pick")
    async def picked(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        picks.append(body)

    async with serve_http(app) as url:
        driver = slack.driver(url)
        delivery = await driver.open_home(ALICE)
        assert delivery.acked
        assert seen[0]["tab"] == "home" and seen[0]["user"] == ALICE and "view" not in seen[0]
        again = await driver.open_home(ALICE)
        assert again.acked and seen[1]["view"]["type"] == "home"  # the view published before
        view = slack.home(ALICE)
        assert view is not None and view.blocks[0]["text"]["text"] == "opened 2"
        assert (await driver.pick_in_view(view.id, "pick", "2")).acked
        await eventually(lambda: len(picks) == 1)
    body = picks[0]
    assert body["container"] == {"type": "view", "view_id": view.id}
    assert body["view"]["type"] == "home" and body["actions"][0]["selected_option"]["value"] == "2"
