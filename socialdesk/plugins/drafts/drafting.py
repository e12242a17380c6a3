"""Drafting a reply and translating a customer's message for one desk, through its endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from socialdesk.core.per_desk import PerDesk
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.settings import PLUGIN_NAME as SLACK_PLUGIN
from socialdesk.plugins.drafts.checks import draft_problems
from socialdesk.plugins.drafts.endpoint import Completion, DraftEndpoint, DraftUnavailable
from socialdesk.plugins.drafts.examples import similar_answers
from socialdesk.plugins.drafts.prompt import DraftRequest, Turn, draft_messages, translation_messages
from socialdesk.plugins.drafts.secret_values import desk_secrets
from socialdesk.plugins.drafts.settings import PLUGIN_NAME, DraftsSettings
from socialdesk.plugins.drafts.usage import usage_for

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

MAX_MACROS_IN_PROMPT = 3
MAX_EXAMPLES = 3
TRANSLATION_MAX_TOKENS = 1000
_WORD = re.compile(r"\w{3,}")


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    problems: list[str] = field(default_factory=list)
    language: str | None = None  # written in this language on request (None: the customer's own)


def needs_translation(language: str | None, settings: DraftsSettings) -> bool:
    """A message in a language the desk's agents do not write (an unknown language is left alone)."""
    return bool(language) and language not in settings.agent_languages


def matching_macros(macros: dict[str, str], suggested: str | None, said: str) -> dict[str, str]:
    """The triage's suggested macro, then those sharing most words with what the customer said."""
    words = {w.casefold() for w in _WORD.findall(said)}
    scored = sorted(((len(words & {w.casefold() for w in _WORD.findall(f"{name} {text}")}), name)
                     for name, text in macros.items() if name != suggested), reverse=True)
    chosen = ([suggested] if suggested in macros else []) + [name for score, name in scored if score > 0]
    return {name: macros[name] for name in chosen[:MAX_MACROS_IN_PROMPT]}


class Drafter:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: DraftsSettings = app.settings(PLUGIN_NAME)
        key_env = self.settings.api_key_env
        api_key = (app.config.secret(key_env, f"plugins.{PLUGIN_NAME}.api_key_env").get_secret_value()
                   if key_env else None)
        self.endpoint = DraftEndpoint(self.settings, api_key)
        self.usage = usage_for(app)

    async def _complete(self, purpose: str, messages: list[dict[str, str]],
                        max_tokens: int | None = None) -> Completion:
        try:
            completion = await self.endpoint.complete(messages, max_tokens=max_tokens)
        except DraftUnavailable as exc:
            self.usage.failed(purpose, exc.kind)
            raise
        self.usage.answered(purpose, completion, self.settings)
        return completion

    async def draft(self, ticket_id: int, *, language: str | None = None) -> Draft:
        """A draft of the public reply to ``ticket_id`` (in ``language`` if given), with its problems."""
        service = self.app.service
        details = await service.ticket_details(ticket_id)
        ticket = details.ticket
        said = [m for m in await service.messages_of(ticket_id) if m.direction in ("inbound", "outbound")]
        said = said[-self.settings.max_conversation_messages:]
        # The model sees what the agent sees: personal data masked as on the card.
        turns = tuple([Turn("customer" if m.direction == "inbound" else "agent",
                            await masked(self.app, m.text) if m.direction == "inbound" else m.text) for m in said])
        last_customer = next((t.text for t in reversed(turns) if t.who == "customer"), "")
        slack = self.app.settings(SLACK_PLUGIN)
        macros = dict(getattr(slack, "macros", None) or {})
        author = details.author
        request = DraftRequest(
            platform=ticket.platform,
            customer=(author.display_name or author.handle) if author else "",
            conversation=turns, limits=await self.app.hooks.reply_limits(ticket.platform),
            voice_notes=self.settings.voice_notes,
            macros=matching_macros(macros, ticket.suggested_macro, last_customer),
            examples=tuple(await similar_answers(self.app, ticket_id, MAX_EXAMPLES)),
            language=language, allowed_link_hosts=tuple(self.settings.allowed_link_hosts))
        completion = await self._complete("draft", draft_messages(request, desk_secrets(self.app)))
        text = completion.text
        problems = await draft_problems(self.app, ticket, text, [m.text for m in said],
                                        self.settings.allowed_link_hosts)
        if completion.truncated:
            problems.append(f"the model stopped at plugins.{PLUGIN_NAME}.max_tokens "
                            f"({self.settings.max_tokens}): the draft may be cut short")
        return Draft(text, problems, language)

    async def translate(self, text: str, target_language: str) -> str:
        messages = translation_messages(text, target_language, desk_secrets(self.app))
        return (await self._complete("translation", messages, TRANSLATION_MAX_TOKENS)).text

    async def close(self) -> None:
        await self.endpoint.close()


drafter_for: PerDesk[Drafter] = PerDesk(Drafter)
