"""The reply modal's live counter: what is left of the platform's limit, counted its own way.

The reply box dispatches a block_actions each time the agent types (``on_character_entered``);
:mod:`socialdesk.core.slack.reply_counter_actions` answers with ``views.update``, replacing
only the counter's context block. The text itself is never sent back: Slack keeps what a
person typed in an input whose block id is unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from socialdesk.core.platform import ReplyLimits

COUNTER_BLOCK = "reply_counter"
CHARACTER_ENTERED = {"trigger_actions_on": ["on_character_entered"]}
# What views.update takes back from a view Slack sent us (the rest is Slack's own bookkeeping).
_VIEW_KEYS = ("type", "callback_id", "title", "submit", "close", "private_metadata", "clear_on_close",
              "notify_on_close", "external_id", "blocks")


def counter_line(used: int, limits: ReplyLimits) -> str:
    """``212 of 280 weighted characters left`` or ``12 over the limit — shorten before sending``."""
    left = limits.max_length - used
    if left >= 0:
        return f"✏️ {left:,} of {limits.max_length:,} {limits.unit} left on {limits.platform}"
    return (f"⚠️ *{-left:,} over the limit* of {limits.max_length:,} {limits.unit} on {limits.platform} — "
            "shorten before sending")


def counter_block(line: str) -> ContextBlock:
    # The line is the desk's own words and numbers (platform names come from plugins, not strangers).
    return ContextBlock(block_id=COUNTER_BLOCK, elements=[MarkdownTextObject(text=line, verbatim=True)])


def with_counter(view: dict[str, Any], line: str, after_block: str) -> dict[str, Any]:
    """A views.update definition: ``view`` (as Slack sent it in a payload) with the counter
    block replaced, or inserted after ``after_block`` when the view has none yet."""
    definition = {key: copy.deepcopy(view[key]) for key in _VIEW_KEYS if view.get(key) not in (None, "")}
    blocks: list[dict[str, Any]] = list(definition.get("blocks") or [])
    fresh = counter_block(line).to_dict()
    at = next((i for i, b in enumerate(blocks) if b.get("block_id") == COUNTER_BLOCK), None)
    if at is not None:
        blocks[at] = fresh
    else:
        box = next((i for i, b in enumerate(blocks) if b.get("block_id") == after_block), len(blocks) - 1)
        blocks.insert(box + 1, fresh)
    definition["blocks"] = blocks
    return definition
