"""The Slack emulator's inputs that dispatch as characters are entered: the view definition is
checked as Slack checks it, and typing is reported only where Slack would report it."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.sandbox.slack.blockkit import validate_view


def _view(config: Any, dispatch: bool = True) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text"}
    if config is not None:
        element["dispatch_action_config"] = config
    return {"type": "modal", "title": {"type": "plain_text", "text": "Reply"},
            "submit": {"type": "plain_text", "text": "Send"}, "blocks": [
        {"type": "input", "block_id": "box", "label": {"type": "plain_text", "text": "Your reply"},
         "dispatch_action": dispatch, "element": element}]}


def test_dispatch_action_config_is_checked() -> None:
    assert validate_view(_view({"trigger_actions_on": ["on_character_entered"]})) == []
    assert validate_view(_view({"trigger_actions_on": ["on_enter_pressed", "on_character_entered"]})) == []
    for bad in ({"trigger_actions_on": ["on_keypress"]}, {"trigger_actions_on": []}, {"when": "always"}, "yes"):
        assert validate_view(_view(bad)), bad


@pytest.mark.parametrize(("config", "dispatch"), [(None, True), ({"trigger_actions_on": ["on_enter_pressed"]}, True),
                                                   ({"trigger_actions_on": ["on_character_entered"]}, False)])
async def test_typing_is_reported_only_by_inputs_that_dispatch_on_characters(config: Any, dispatch: bool) -> None:
    from socialdesk.sandbox.slack import SlackEmulator

    async with SlackEmulator() as slack:
        user = next(iter(slack.state.workspace.users))
        view = slack.state.views.open(user, _view(config, dispatch), slack.state.clock())
        with pytest.raises(LookupError, match="does not dispatch"):
            await slack.driver().type_in_view(view.id, "box", "text", "hello")
