"""Domain errors: each carries a message an agent can read as it is."""

from __future__ import annotations


class DeskError(Exception):
    """Base class; ``str(error)`` is shown to the agent or admin unchanged."""


class TicketNotFound(DeskError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"#{ticket_id} does not exist")
        self.ticket_id = ticket_id


class IllegalTransition(DeskError):
    """The ticket's state does not allow the action (closed, spam, claimed by someone else...)."""


class ClaimedByOther(IllegalTransition):
    def __init__(self, ticket_id: int, assignee: str, hint: str = "") -> None:
        message = f"#{ticket_id} is claimed by <@{assignee}>"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.ticket_id = ticket_id
        self.assignee = assignee


class ReplyRejected(DeskError):
    """The reply failed validation; nothing was written or sent."""

    def __init__(self, ticket_id: int, problems: list[str]) -> None:
        super().__init__(f"Reply to #{ticket_id} not sent: " + "; ".join(problems))
        self.ticket_id = ticket_id
        self.problems = problems


class NoPlatformPlugin(DeskError):
    def __init__(self, platform: str) -> None:
        super().__init__(
            f"no enabled plugin handles the '{platform}' platform; "
            f"enable it in plugins.toml under [plugins.{platform}]"
        )
        self.platform = platform
