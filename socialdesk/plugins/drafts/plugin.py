"""The drafts plugin's hooks: settings, start-up checks, the reply form's blocks and listeners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block

from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.extras import OptionalExtra
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.secrets import MissingSecret
from socialdesk.core.slack.settings import PLUGIN_NAME as SLACK_PLUGIN
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.drafts.settings import PLUGIN_NAME, DraftsSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


@hookimpl
def socialdesk_settings_model() -> type[DraftsSettings]:
    return DraftsSettings


def socialdesk_optional_extra() -> OptionalExtra:
    """The model is asked through the official client: ``pip install 'socialdesk[drafts]'``."""
    return OptionalExtra("drafts", ("openai",))


@hookimpl
def socialdesk_startup_problems(app: DeskApp) -> list[str]:
    settings: DraftsSettings = app.settings(PLUGIN_NAME)
    problems = settings.missing()
    if SLACK_PLUGIN not in app.config.enabled:
        problems.append(f"plugins.{PLUGIN_NAME}: drafts appear in Slack's reply form; enable [plugins.{SLACK_PLUGIN}] "
                        f"too, or set plugins.{PLUGIN_NAME}.enabled = false")
    if settings.api_key_env:
        try:
            app.config.secret(settings.api_key_env, f"plugins.{PLUGIN_NAME}.api_key_env")
        except MissingSecret as exc:
            problems.append(f"{exc} (or, for an endpoint that takes no key, write "
                            f"plugins.{PLUGIN_NAME}.api_key_env = \"\")")
    return problems


@hookimpl
async def socialdesk_check_online(app: DeskApp) -> OnlineCheck:
    """The key works and the endpoint serves the configured model."""
    from socialdesk.plugins.drafts.endpoint import DraftEndpoint, DraftUnavailable

    settings: DraftsSettings = app.settings(PLUGIN_NAME)
    key = (app.config.secret(settings.api_key_env, f"plugins.{PLUGIN_NAME}.api_key_env").get_secret_value()
           if settings.api_key_env else None)
    endpoint = DraftEndpoint(settings, key)
    try:
        served = await endpoint.models()
    except DraftUnavailable as exc:
        return OnlineCheck(PLUGIN_NAME, problems=(str(exc),))
    finally:
        await endpoint.close()
    seen = (f"endpoint {settings.base_url}: {len(served)} model(s)",)
    if settings.model in served:
        return OnlineCheck(PLUGIN_NAME, seen=seen + (f"model {settings.model} is served",))
    listed = ", ".join(served[:10]) + (" ..." if len(served) > 10 else "")
    return OnlineCheck(PLUGIN_NAME, seen=seen, problems=(
        f"the endpoint does not serve plugins.{PLUGIN_NAME}.model = {settings.model!r}; it serves: {listed or 'none'}",))


@hookimpl
def socialdesk_reply_form_blocks(ticket: TicketSnapshot, user_id: str, generation: int, app: DeskApp) -> list[Block]:
    from socialdesk.plugins.drafts.form import draft_blocks
    from socialdesk.plugins.drafts.form_state import Status, forms_for
    from socialdesk.plugins.drafts.listeners import initial_state

    forms = forms_for(app)
    state = forms.get(ticket.id, user_id)
    if generation == 0 and not (state is not None and state.refreshing):
        # A form opening: show what is about to be asked for. Kept from now on, so that a
        # macro picked before the form_opened hook ran is remembered (its generation).
        state = forms.start(ticket.id, user_id, initial_state(ticket, app.settings(PLUGIN_NAME)))
    elif state is None:
        # A rebuild of a form this replica did not open (HTTP mode, several replicas):
        # nothing is being asked here, so offer the buttons instead of "working".
        state = initial_state(ticket, app.settings(PLUGIN_NAME))
        state.draft_status = state.translation_status = Status.IDLE
    else:
        state.generation = max(state.generation, generation)
    return draft_blocks(ticket.id, state)


@hookimpl
async def socialdesk_reply_form_opened(ticket_id: int, user_id: str, view: dict[str, Any], channel: str | None,
                                       app: DeskApp) -> None:
    from socialdesk.plugins.drafts.listeners import form_opened

    await form_opened(app, ticket_id, user_id, view, channel)


@hookimpl
def socialdesk_slack_listeners(bolt: Any, app: DeskApp) -> None:
    from socialdesk.plugins.drafts.listeners import register

    register(bolt, app)


@hookimpl
async def socialdesk_stop_services(app: DeskApp) -> None:
    from socialdesk.plugins.drafts.drafting import drafter_for
    from socialdesk.plugins.drafts.form_state import forms_for

    forms = forms_for.existing(app)
    if forms is not None:
        await forms.stop()
    drafter = drafter_for.forget(app)
    if drafter is not None:
        await drafter.close()
