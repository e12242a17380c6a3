"""What a card shows about its sent reply's corrections: Edit and Delete under it (or why
not, on the button), the edit or delete under way, and the outcome.

Buttons carry the reply id. Delete, and an X "edit" (delete, then a new reply), ask for
confirmation in Slack's own dialog before anything is sent to the desk.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
)

from socialdesk.core.reply_change import ReplyCapabilities
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, link, one_line
from socialdesk.core.store.ticket_queries import LatestReply
from socialdesk.core.ticket import ENDED_STATUSES, ReplyStatus, TicketSnapshot

CORRECTION_STATUSES = (ReplyStatus.CHANGING, ReplyStatus.EDITED, ReplyStatus.DELETED)


class CorrectionActions:
    EDIT = "desk.reply_edit"  # value: reply id
    DELETE = "desk.reply_delete"  # value: reply id
    UNAVAILABLE = "desk.reply_change_unavailable"  # value: reply id; answers why not


def correction_line(r: LatestReply, platform: str) -> str | None:
    """The card's reply line for a reply being or having been corrected."""
    said = fit(cut(one_line(r.text), 200), 1200, mrkdwn=True)
    where = escape_mrkdwn(platform)
    if r.status == ReplyStatus.CHANGING:
        return f"⏳ <@{r.agent}>'s reply is being edited or deleted on {where}: “{said}”"
    if r.status == ReplyStatus.EDITED:
        shown = link(r.platform_url, "view it") if r.platform_url else "posted"
        return f"↩️ <@{r.agent}> replied (edited): “{said}” · {shown}"
    if r.status == ReplyStatus.DELETED:
        return f"🗑️ <@{r.agent}>'s reply was deleted from {where}: “{said}”"
    return None


def repost_warning(platform: str) -> str:
    return (f"{platform} cannot edit a post: saving deletes your reply there and posts the new text as a new "
            "reply (likes and answers to the old one are lost).")


def correction_blocks(ticket: TicketSnapshot, r: LatestReply | None, capabilities: ReplyCapabilities) -> list[Block]:
    """Edit and Delete under a sent (or edited) reply; nothing for other replies or ended tickets."""
    if r is None or r.status not in (ReplyStatus.SENT, ReplyStatus.EDITED) or ticket.status in ENDED_STATUSES:
        return []
    platform = ticket.platform
    value = str(r.id)
    elements: list[ButtonElement] = []
    if capabilities.editable:
        confirm = None
        if not capabilities.can_edit:  # X: an edit is a delete and a new reply
            confirm = ConfirmObject(title="Edit by reposting?", text=cut(repost_warning(platform), 300),
                                    confirm="Continue", deny="Keep it")
        elements.append(ButtonElement(text="Edit reply", action_id=CorrectionActions.EDIT, value=value,
                                      confirm=confirm))
    if capabilities.can_delete:
        elements.append(ButtonElement(
            text="Delete reply", action_id=CorrectionActions.DELETE, value=value, style="danger",
            confirm=ConfirmObject(title="Delete the reply?", style="danger", confirm="Delete", deny="Keep it",
                                  text=cut(f"Your reply is deleted from {platform} for everyone. "
                                           "This cannot be undone.", 300))))
    if not capabilities.editable and not capabilities.can_delete:
        elements.append(ButtonElement(text=cut(f"Can't edit or delete on {platform}", 75),
                                      action_id=CorrectionActions.UNAVAILABLE, value=value))
    elif not capabilities.editable:
        elements.append(ButtonElement(text=cut(f"Can't edit on {platform}", 75),
                                      action_id=CorrectionActions.UNAVAILABLE, value=value))
    blocks: list[Block] = [ActionsBlock(block_id=f"sent:{r.id}", elements=elements)]
    if r.error:  # a correction that failed: the reply is as it was
        blocks.insert(0, ContextBlock(elements=[MarkdownTextObject(
            text=f"⚠️ {fit(one_line(r.error), 500, mrkdwn=True)}", verbatim=True)]))
    return blocks
