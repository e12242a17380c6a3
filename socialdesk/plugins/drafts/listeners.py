"""The drafts side of the reply form: asking the endpoint, then showing its answer with ``views.update``.

The form opens at once (Slack's trigger expires in 3 seconds); drafting and translating
run in the background and each result is put into the open form, with the view's hash
so that a newer version of the form is never overwritten blindly. On a hash conflict
(a macro was picked meanwhile) the form is rebuilt at its newest generation, which keeps
the reply box's block id and therefore what the agent typed. "Use this draft" is the
only thing that puts the draft into the reply box; Send is the only thing that sends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError

from socialdesk.core.slack.actions import build_reply_view
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.modals import Inputs, ModalState, selected
from socialdesk.core.slack.runtime import runtime_for
from socialdesk.plugins.drafts.drafting import drafter_for, needs_translation
from socialdesk.plugins.drafts.endpoint import DraftUnavailable
from socialdesk.plugins.drafts.form import DraftActions, draft_in_value
from socialdesk.plugins.drafts.form_state import FormState, Status, forms_for
from socialdesk.plugins.drafts.settings import PLUGIN_NAME, DraftsSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.ticket import TicketSnapshot

log = logging.getLogger(__name__)


def initial_state(ticket: TicketSnapshot, settings: DraftsSettings, *, view: dict[str, Any] | None = None,
                  channel: str | None = None) -> FormState:
    """What a freshly opened form shows: working on what it will ask for by itself."""
    language = ticket.language if needs_translation(ticket.language, settings) else None
    state = FormState(language=language,
                      translation_status=Status.WORKING if language else Status.IDLE,
                      draft_status=Status.WORKING if settings.draft_on_open else Status.IDLE,
                      channel=channel)
    if view is not None:
        state.view_id, state.view_hash = str(view["id"]), view.get("hash")
        state.generation = ModalState.loads(view.get("private_metadata")).generation
    return state


async def refresh_form(app: DeskApp, ticket_id: int, user_id: str, state: FormState) -> None:
    """Put what ``state`` now holds into the open form."""
    if state.view_id is None:
        return
    rt = runtime_for(app)
    actor = await rt.permissions.actor(user_id)
    if actor is None:
        return
    async with state.lock:
        state.refreshing = True
        try:
            view = await build_reply_view(app, rt, ticket_id, actor, state.channel, generation=state.generation)
            try:
                answer = await rt.client.views_update(view_id=state.view_id, hash=state.view_hash, view=view)
            except SlackApiError as exc:
                if exc.response.get("error") != "hash_conflict":
                    raise
                # Rebuilt at the newest generation the form was rendered with: the box keeps its text.
                view = await build_reply_view(app, rt, ticket_id, actor, state.channel, generation=state.generation)
                answer = await rt.client.views_update(view_id=state.view_id, view=view)
        except SlackApiError as exc:  # the agent closed or sent the form meanwhile
            log.info("reply form not updated with the draft", extra={"ticket": ticket_id,
                                                                      "error": exc.response.get("error")})
            return
        finally:
            state.refreshing = False
        state.view_hash = (answer.get("view") or {}).get("hash") or state.view_hash


async def _latest_customer_text(app: DeskApp, ticket_id: int) -> str:
    inbound = [m for m in await app.service.messages_of(ticket_id) if m.direction == "inbound"]
    if inbound:
        return await masked(app, inbound[-1].text)
    opening = (await app.service.ticket_details(ticket_id)).opening
    return await masked(app, opening.text) if opening else ""


async def translate_into_form(app: DeskApp, ticket_id: int, user_id: str, state: FormState) -> None:
    settings: DraftsSettings = app.settings(PLUGIN_NAME)
    try:
        text = await _latest_customer_text(app, ticket_id)
        state.translation = await drafter_for(app).translate(text, settings.agent_languages[0])
        state.translation_status = Status.READY
    except DraftUnavailable as exc:
        state.translation_status, state.translation_failure = Status.FAILED, str(exc)
    except Exception:
        log.exception("translation failed", extra={"ticket": ticket_id})
        state.translation_status, state.translation_failure = Status.FAILED, "the translation failed unexpectedly"
    await refresh_form(app, ticket_id, user_id, state)


async def draft_into_form(app: DeskApp, ticket_id: int, user_id: str, state: FormState,
                          language: str | None = None) -> None:
    try:
        state.draft = await drafter_for(app).draft(ticket_id, language=language)
        state.draft_status, state.draft_failure = Status.READY, None
    except DraftUnavailable as exc:
        state.draft_status, state.draft_failure = Status.FAILED, str(exc)
    except Exception:
        log.exception("drafting failed", extra={"ticket": ticket_id})
        state.draft_status, state.draft_failure = Status.FAILED, "drafting failed unexpectedly"
    await refresh_form(app, ticket_id, user_id, state)


async def form_opened(app: DeskApp, ticket_id: int, user_id: str, view: dict[str, Any],
                      channel: str | None) -> None:
    settings: DraftsSettings = app.settings(PLUGIN_NAME)
    forms = forms_for(app)
    state = forms.get(ticket_id, user_id)
    if state is not None and state.view_id is None:  # made when the form was built, just before it opened
        state.view_id, state.view_hash, state.channel = str(view["id"]), view.get("hash"), channel
        state.generation = max(state.generation, ModalState.loads(view.get("private_metadata")).generation)
    else:
        ticket = await app.service.get_ticket(ticket_id)
        state = forms.start(ticket_id, user_id, initial_state(ticket, settings, view=view, channel=channel))
    if state.translation_status == Status.WORKING:
        forms.spawn(translate_into_form(app, ticket_id, user_id, state))
    if state.draft_status == Status.WORKING:
        forms.spawn(draft_into_form(app, ticket_id, user_id, state))


def register(bolt: AsyncApp, app: DeskApp) -> None:
    rt = runtime_for(app)

    async def form_of(body: dict[str, Any]) -> tuple[int, str, dict[str, Any], ModalState] | None:
        view = body.get("view") or {}
        user_id = str((body.get("user") or {}).get("id", ""))
        if not view.get("id") or await rt.permissions.actor(user_id) is None:
            return None
        form = ModalState.loads(view.get("private_metadata"))
        return form.ticket_id, user_id, view, form

    def state_of(ticket_id: int, user_id: str, view: dict[str, Any], form: ModalState,
                 ticket: TicketSnapshot) -> FormState:
        forms = forms_for(app)
        state = forms.get(ticket_id, user_id)
        if state is None or state.view_id != view["id"]:
            # A form this process did not see open (another replica, or a restart): start afresh.
            state = forms.start(ticket_id, user_id, initial_state(ticket, app.settings(PLUGIN_NAME), view=view,
                                                                  channel=form.channel))
            state.draft_status = Status.IDLE
            if state.translation_status == Status.WORKING:
                forms.spawn(translate_into_form(app, ticket_id, user_id, state))
        state.view_hash, state.generation = view.get("hash"), max(state.generation, form.generation)
        return state

    async def ask_for_draft(body: dict[str, Any], in_customer_language: bool) -> None:
        found = await form_of(body)
        if found is None:
            return
        ticket_id, user_id, view, form = found
        ticket = await app.service.get_ticket(ticket_id)
        state = state_of(ticket_id, user_id, view, form, ticket)
        if state.draft_status == Status.WORKING:
            return  # one draft at a time per form
        state.draft_status = Status.WORKING
        await refresh_form(app, ticket_id, user_id, state)
        language = state.language if in_customer_language else None
        forms_for(app).spawn(draft_into_form(app, ticket_id, user_id, state, language))

    @bolt.action(DraftActions.DRAFT)
    async def draft_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await ask_for_draft(body, in_customer_language=False)

    @bolt.action(DraftActions.DRAFT_IN_LANGUAGE)
    async def draft_in_language_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await ask_for_draft(body, in_customer_language=True)

    @bolt.action(DraftActions.USE)
    async def use_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The draft goes into the reply box (a new box id makes Slack show it); still not sent."""
        await ack()
        found = await form_of(body)
        if found is None:
            return
        ticket_id, user_id, view, form = found
        forms = forms_for(app)
        state = forms.get(ticket_id, user_id)
        # The draft this replica made, else the one its button carries (the form may have
        # opened on another replica).
        text = state.draft.text if state is not None and state.draft is not None and state.view_id == view["id"] \
            else draft_in_value(body["actions"][0].get("value"))
        actor = await rt.permissions.actor(user_id)
        if text is None or actor is None:
            return
        if state is None or state.view_id != view["id"]:
            ticket = await app.service.get_ticket(ticket_id)
            state = forms.start(ticket_id, user_id, initial_state(ticket, app.settings(PLUGIN_NAME), view=view,
                                                                  channel=form.channel))
            state.draft_status = state.translation_status = Status.IDLE
        close_after = Inputs.CLOSE_AFTER in selected(view, Inputs.OPTIONS, Inputs.OPTIONS_ACTION)
        async with state.lock:
            state.generation = form.generation + 1
            updated = await build_reply_view(app, rt, ticket_id, actor, form.channel, text=text,
                                             close_after=close_after, generation=state.generation)
            try:
                answer = await rt.client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
            except SlackApiError as exc:
                log.info("draft not put into the reply box", extra={"error": exc.response.get("error")})
                return
            state.view_hash = (answer.get("view") or {}).get("hash") or state.view_hash
