"""The drafts blocks of the reply form: the translated message, the draft, its problems, buttons.

They sit above the reply box. Everything the model wrote is shown as plain text (it
cannot format, mention or link in Slack) and labelled as machine output; the original
message stays where it is, above them.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit
from socialdesk.plugins.drafts.form_state import FormState, Status
from socialdesk.plugins.drafts.prompt import language_name


class DraftActions:
    """action ids of the drafts buttons (their value is the ticket number)."""

    USE = "desk.draft_use"
    DRAFT = "desk.draft_new"
    DRAFT_IN_LANGUAGE = "desk.draft_in_language"


class DraftBlocks:
    TRANSLATION = "drafts_translation"
    DRAFT = "drafts_draft"
    PROBLEMS = "drafts_problems"
    STATUS = "drafts_status"
    BUTTONS = "drafts_buttons"


MAX_SHOWN = 2900  # a section's text holds 3000
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value
DRAFT_VALUE_PREFIX = "draft:"


def use_value(ticket_id: int, text: str) -> str:
    """The draft rides in its button when it fits, so that any replica can put it in the box."""
    carried = DRAFT_VALUE_PREFIX + text
    return carried if len(carried) <= MAX_BUTTON_VALUE else str(ticket_id)


def draft_in_value(value: str | None) -> str | None:
    return value.removeprefix(DRAFT_VALUE_PREFIX) if value and value.startswith(DRAFT_VALUE_PREFIX) else None


def _context(block_id: str, text: str) -> ContextBlock:
    # The caller escapes what came from outside (escape_mrkdwn); the markup around it is ours.
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=cut(text, 2900), verbatim=True)])


def translation_blocks(state: FormState) -> list[Block]:
    if not state.language:
        return []
    language = escape_mrkdwn(language_name(state.language))
    if state.translation_status == Status.READY and state.translation:
        return [
            _context(DraftBlocks.STATUS + "_tr", f"🌐 *Machine translation from {language}* (the original is above):"),
            SectionBlock(block_id=DraftBlocks.TRANSLATION,
                         text=PlainTextObject(text=fit(cut(state.translation, 2000), MAX_SHOWN), emoji=False)),
        ]
    if state.translation_status == Status.WORKING:
        return [_context(DraftBlocks.TRANSLATION, f"🌐 Written in {language}: translating…")]
    if state.translation_status == Status.FAILED:
        return [_context(DraftBlocks.TRANSLATION,
                         f"🌐 Written in {language}; no translation: {escape_mrkdwn(state.translation_failure or '')}")]
    return [_context(DraftBlocks.TRANSLATION, f"🌐 Written in {language}.")]


def _buttons(ticket_id: int, state: FormState) -> ActionsBlock:
    value = str(ticket_id)
    elements = []
    if state.draft_status == Status.READY and state.draft is not None:
        elements.append(ButtonElement(text="Use this draft", action_id=DraftActions.USE,
                                      value=use_value(ticket_id, state.draft.text), style="primary"))
        elements.append(ButtonElement(text="Draft again", action_id=DraftActions.DRAFT, value=value))
    elif state.draft_status != Status.WORKING:
        elements.append(ButtonElement(text="✨ Draft a reply", action_id=DraftActions.DRAFT, value=value))
    if state.language and state.draft_status != Status.WORKING:
        elements.append(ButtonElement(text=cut(f"Draft in {language_name(state.language)}", 75),
                                      action_id=DraftActions.DRAFT_IN_LANGUAGE, value=value))
    return ActionsBlock(block_id=DraftBlocks.BUTTONS, elements=elements)


def draft_blocks(ticket_id: int, state: FormState) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), *translation_blocks(state)]
    if state.draft_status == Status.WORKING:
        blocks.append(_context(DraftBlocks.STATUS, "✨ Drafting a reply… the form works meanwhile; "
                                                   "write your own if you like."))
    elif state.draft_status == Status.FAILED:
        blocks.append(_context(DraftBlocks.STATUS, f"✨ No draft: {escape_mrkdwn(state.draft_failure or '')}. "
                                                   "Write the reply yourself, or ask again."))
    elif state.draft_status == Status.READY and state.draft is not None:
        draft = state.draft
        label = "✨ *Draft* from the language model"
        if draft.language:
            label += f", in {escape_mrkdwn(language_name(draft.language))}"
        blocks.append(_context(DraftBlocks.STATUS, label + " — *not sent*: review it, press _Use this draft_, "
                                                            "edit, then Send."))
        blocks.append(SectionBlock(block_id=DraftBlocks.DRAFT,
                                   text=PlainTextObject(text=fit(cut(draft.text, 2900), MAX_SHOWN), emoji=False)))
        if draft.problems:
            lines = "\n".join(f"⚠️ {escape_mrkdwn(p)}" for p in draft.problems)
            blocks.append(_context(DraftBlocks.PROBLEMS, f"*Fix before sending:*\n{lines}"))
        else:
            blocks.append(_context(DraftBlocks.PROBLEMS, "✅ Passes the reply checks."))
    buttons = _buttons(ticket_id, state)
    if buttons.elements:
        blocks.append(buttons)
    return blocks
