"""Drafts in the reply form, through the real Bolt app against the Slack and OpenAI emulators.

The form opens at once; the draft (and a translation) arrive with views.update; only the
agent's "Use this draft" puts a draft in the reply box, and only Send sends it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.plugins.drafts.form import DraftActions, DraftBlocks
from socialdesk.sandbox.openai import Answer, OpenAIEmulator
from tests.slack.conftest import ALICE, Desk, eventually
from tests.store_queries import Reply, count

KEY_ENV = "SANDBOX_OPENAI_API_KEY"
DRAFT = "Sorry about the wait! Could you send us your order number in a DM so we can check it?"


@pytest.fixture
async def llm(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator() as emulator:
        monkeypatch.setenv(KEY_ENV, emulator.api_key)
        yield emulator


def drafts(llm: OpenAIEmulator, **settings: Any) -> dict[str, Any]:
    return {"drafts": {"enabled": True, "base_url": llm.api_url, "model": "sandbox-chat", "api_key_env": KEY_ENV,
                       **settings}}


def block(view: Any, block_id: str) -> dict[str, Any] | None:
    return next((b for b in view.blocks if b.get("block_id") == block_id), None)


def shown(view: Any, block_id: str) -> str:
    found = block(view, block_id)
    if found is None:
        return ""
    if found["type"] == "context":  # outside text is escaped for mrkdwn: "_" shows as a look-alike
        return " ".join(e.get("text", "") for e in found["elements"]).replace("ˍ", "_")
    return str(found["text"]["text"])


def reply_box(view: Any) -> dict[str, Any]:
    return next(b for b in view.blocks if b.get("block_id", "").startswith(Inputs.REPLY_TEXT))


async def open_form(desk: Desk, tid: int, user: str = ALICE) -> Any:
    await desk.click(tid, Actions.REPLY, user=user)
    return await desk.view(user, Callbacks.REPLY)


async def draft_shown(view: Any) -> str:
    await eventually(lambda: block(view, DraftBlocks.DRAFT) is not None, message="draft in the form")
    return shown(view, DraftBlocks.DRAFT)


async def test_a_draft_is_shown_and_sent_only_after_the_agents_send(start_desk, llm: OpenAIEmulator) -> None:
    llm.queue(Answer(DRAFT))
    desk = await start_desk("http", plugins=drafts(llm))
    tid = await desk.mention("My order never arrived and nobody answers")
    await desk.card(tid)
    view = await open_form(desk, tid)
    assert "Drafting a reply" in shown(view, DraftBlocks.STATUS)  # the form is there before the draft
    assert await draft_shown(view) == DRAFT
    assert "not sent" in shown(view, DraftBlocks.STATUS) and "Passes the reply checks" in shown(view, DraftBlocks.PROBLEMS)
    assert reply_box(view)["element"].get("initial_value") is None  # the box is the agent's until they ask
    await desk.settled()
    assert desk.platform.posted == [] and await count(desk.app, Reply) == 0

    delivery = await desk.driver.click_in_view(view.id, DraftActions.USE)
    assert delivery.acked
    await eventually(lambda: reply_box(view)["block_id"] == f"{Inputs.REPLY_TEXT}_1", message="draft in the box")
    assert reply_box(view)["element"]["initial_value"] == DRAFT
    await desk.settled()
    assert desk.platform.posted == [] and await count(desk.app, Reply) == 0  # still only a draft

    sent = await desk.driver.submit_view(view.id, {})
    assert sent.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == DRAFT
    assert len(llm.completions) == 1  # one draft, asked once

    metrics = metrics_for(desk.app).exposition().decode()
    assert 'socialdesk_drafts_requests_total{outcome="ok",purpose="draft"} 1.0' in metrics
    assert 'socialdesk_drafts_tokens_total{kind="completion",purpose="draft"} 21.0' in metrics


async def test_a_draft_over_the_limit_or_with_another_customers_email_is_flagged(start_desk,
                                                                                  llm: OpenAIEmulator) -> None:
    llm.queue(Answer("We are so sorry. " * 20),
              Answer("Please write to jane.doe@example.org or see https://evil.example.net/fix for details."))
    desk = await start_desk("http", plugins=drafts(llm, allowed_link_hosts=["help.acme.example"],
                                                   price_per_1k_prompt_tokens=0.5,
                                                   price_per_1k_completion_tokens=1.5))
    tid = await desk.mention("The app crashes when I log in")
    await desk.card(tid)
    view = await open_form(desk, tid)
    await draft_shown(view)
    problems = shown(view, DraftBlocks.PROBLEMS)
    assert "Fix before sending" in problems and "280 characters at most on testnet, this reply has 339" in problems

    await desk.driver.click_in_view(view.id, DraftActions.DRAFT)  # "Draft again"
    await eventually(lambda: "jane.doe" in shown(view, DraftBlocks.DRAFT), message="second draft")
    problems = shown(view, DraftBlocks.PROBLEMS)
    assert "an e-mail address that is not in this conversation" in problems
    assert "links to evil.example.net; only help.acme.example may be linked" in problems
    assert "280 characters" not in problems
    metrics = metrics_for(desk.app).exposition().decode()
    assert "socialdesk_drafts_cost_total" in metrics
    cost = next(line for line in metrics.splitlines() if line.startswith('socialdesk_drafts_cost_total{purpose="draft"}'))
    assert float(cost.split()[-1]) > 0


@pytest.mark.parametrize(("fault", "reason"), [
    (Answer(delay_seconds=4), "did not answer within 1 s"),
    (Answer(status=429, retry_after=7), "rate limited; try again in 7 s"),
    (Answer(status=500), "failed (HTTP 500)"),
])
async def test_an_endpoint_that_times_out_or_fails_leaves_the_form_working(start_desk, llm: OpenAIEmulator,
                                                                           fault: Answer, reason: str) -> None:
    llm.queue(fault)
    desk = await start_desk("http", plugins=drafts(llm, timeout_seconds=1))
    tid = await desk.mention()
    await desk.card(tid)
    view = await open_form(desk, tid)
    await eventually(lambda: "No draft" in shown(view, DraftBlocks.STATUS), message="the failure shown")
    assert reason in shown(view, DraftBlocks.STATUS)
    assert block(view, DraftBlocks.DRAFT) is None
    buttons = block(view, DraftBlocks.BUTTONS)
    assert buttons and [e["action_id"] for e in buttons["elements"]] == [DraftActions.DRAFT]  # ask again
    sent = await desk.driver.submit_view(view.id, {reply_box(view)["block_id"]: {Inputs.TEXT_ACTION: "On it!"}})
    assert sent.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == "On it!"
    outcome = {"did": "timeout", "rat": "rate_limited", "fai": "failed"}[reason[:3]]
    assert f'socialdesk_drafts_requests_total{{outcome="{outcome}",purpose="draft"}} 1.0' in \
        metrics_for(desk.app).exposition().decode()


async def test_no_prompt_contains_a_secret(start_desk, llm: OpenAIEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = await start_desk("http", plugins=drafts(llm, agent_languages=["en"]))
    slack = desk.slack
    secrets = [llm.api_key, slack.bot_token, slack.app_token, slack.signing_secret]
    # A customer who pastes a token they found, and one in French (a translation is asked too).
    tid = await desk.mention(f"My order never arrived. Here is the key you asked for: {slack.bot_token} "
                             f"and {slack.signing_secret}")
    await desk.card(tid)
    view = await open_form(desk, tid)
    await draft_shown(view)
    fr = await desk.mention("Bonjour, ma commande n'est jamais arrivée et personne ne me répond depuis une semaine.")
    await desk.card(fr)
    view = await open_form(desk, fr)
    await draft_shown(view)
    await eventually(lambda: len(llm.completions) >= 3, message="two drafts and a translation")
    for request in llm.requests:
        body = request.body.decode()
        headers = json.dumps(request.headers)
        for secret in secrets:
            assert secret not in body and secret not in headers
    assert "[redacted]" in json.dumps(llm.completions[0]) or "***" in json.dumps(llm.completions[0])


async def test_a_message_in_another_language_is_translated_with_the_original_visible(start_desk,
                                                                                     llm: OpenAIEmulator) -> None:
    original = "Bonjour, ma commande n'est jamais arrivée et personne ne me répond depuis une semaine."
    llm.rule("into English", "Hello, my order never arrived and nobody has answered me for a week.")
    llm.rule("Write the reply in French", "Bonjour ! Désolés pour l'attente, pouvez-vous nous écrire en DM ?")
    desk = await start_desk("http", plugins=drafts(llm, agent_languages=["en", "de"], draft_on_open=False))
    tid = await desk.mention(original)
    assert (await desk.app.service.get_ticket(tid)).language == "fr"
    await desk.card(tid)
    view = await open_form(desk, tid)
    await eventually(lambda: block(view, DraftBlocks.TRANSLATION) is not None
                     and block(view, DraftBlocks.TRANSLATION)["type"] == "section", message="translation")
    assert shown(view, DraftBlocks.TRANSLATION) == "Hello, my order never arrived and nobody has answered me for a week."
    assert any(b.get("type") == "section" and b["text"]["text"] == original for b in view.blocks)  # the original
    assert "Machine translation from French" in shown(view, DraftBlocks.STATUS + "_tr")
    assert block(view, DraftBlocks.DRAFT) is None  # draft_on_open = false: only on request
    buttons = [e["action_id"] for e in block(view, DraftBlocks.BUTTONS)["elements"]]
    assert buttons == [DraftActions.DRAFT, DraftActions.DRAFT_IN_LANGUAGE]

    await desk.driver.click_in_view(view.id, DraftActions.DRAFT_IN_LANGUAGE)
    assert await draft_shown(view) == "Bonjour ! Désolés pour l'attente, pouvez-vous nous écrire en DM ?"
    assert "in French" in shown(view, DraftBlocks.STATUS)
    assert shown(view, DraftBlocks.TRANSLATION).startswith("Hello, my order")  # still there
    translation_request = next(c for c in llm.completions if "into English" in c["messages"][0]["content"])
    assert json.loads(translation_request["messages"][1]["content"]) == {"text": original}


async def test_a_macro_picked_while_drafting_keeps_its_text_and_the_draft_still_arrives(start_desk,
                                                                                       llm: OpenAIEmulator) -> None:
    llm.queue(Answer(DRAFT, delay_seconds=1.5))
    desk = await start_desk("http", plugins=drafts(llm))
    tid = await desk.mention(handle="jo_customer")
    await desk.card(tid)
    view = await open_form(desk, tid)
    await desk.pick_in_view(view.id, Inputs.MACRO_ACTION, "refund")  # the form changes under the draft
    await eventually(lambda: reply_box(view)["block_id"] == f"{Inputs.REPLY_TEXT}_1", message="macro filled in")
    assert await draft_shown(view) == DRAFT  # put in after a hash conflict, at the newest generation
    # Same box id: Slack keeps the value of an input whose block id it has seen (the macro text).
    assert reply_box(view)["block_id"] == f"{Inputs.REPLY_TEXT}_1"
    assert any(b.get("block_id") == f"{Inputs.REPLY_TEXT}_1"
               and b["element"].get("initial_value") == "Hi @jo_customer, refunds take 5-7 days."
               for earlier in view.history for b in earlier["blocks"])  # the macro's fill, before the draft
    await desk.driver.click_in_view(view.id, DraftActions.USE)
    await eventually(lambda: reply_box(view)["block_id"] == f"{Inputs.REPLY_TEXT}_2", message="draft in the box")
    assert reply_box(view)["element"]["initial_value"] == DRAFT


async def test_use_this_draft_works_on_a_replica_that_did_not_draft_it(start_desk, llm: OpenAIEmulator) -> None:
    from socialdesk.plugins.drafts.form_state import forms_for

    llm.queue(Answer(DRAFT))
    desk = await start_desk("http", plugins=drafts(llm))
    tid = await desk.mention()
    await desk.card(tid)
    view = await open_form(desk, tid)
    await draft_shown(view)
    forms_for(desk.app).start(tid, ALICE, forms_for(desk.app).get(tid, ALICE).__class__())  # as if another replica
    await desk.driver.click_in_view(view.id, DraftActions.USE)
    await eventually(lambda: reply_box(view)["block_id"] == f"{Inputs.REPLY_TEXT}_1", message="draft in the box")
    assert reply_box(view)["element"]["initial_value"] == DRAFT
    assert len(llm.completions) == 1


async def test_a_draft_cut_at_max_tokens_is_flagged(start_desk, llm: OpenAIEmulator) -> None:
    llm.queue(Answer(" ".join(f"word{n}" for n in range(40))))
    desk = await start_desk("http", plugins=drafts(llm, max_tokens=16))
    tid = await desk.mention()
    await desk.card(tid)
    view = await open_form(desk, tid)
    assert await draft_shown(view) == " ".join(f"word{n}" for n in range(16))
    assert "the model stopped at plugins.drafts.max_tokens (16): the draft may be cut short" in \
        shown(view, DraftBlocks.PROBLEMS)
    assert llm.completions[0]["max_tokens"] == 16


async def test_the_prompt_carries_the_desks_own_similar_past_answer(start_desk, llm: OpenAIEmulator) -> None:
    # The drafts plugin learns from the suggestions plugin (both on): the desk's earlier
    # answer to a similar conversation is in the prompt, masked as the form shows it.
    from socialdesk.core.extensions import Actor
    from socialdesk.core.ticket import TicketStatus
    from tests.slack.conftest import BOB, NO_STORMS

    llm.queue(Answer(DRAFT))
    desk = await start_desk("http", plugins={**NO_STORMS, **drafts(llm), "suggestions": {"lookup_budget_seconds": 2.0}})
    earlier = await desk.mention("My parcel never arrived, where is it? Mail me at jo@example.com",
                                 author_id="id-jo", handle="jo_customer")
    await desk.app.service.reply(earlier, Actor(BOB), "Hi @jo_customer, so sorry! DM us the tracking number.",
                                 close_after=True)

    async def closed() -> bool:
        return (await desk.app.service.get_ticket(earlier)).status == TicketStatus.CLOSED

    await eventually(closed, message="the earlier conversation answered and closed")
    tid = await desk.mention("my parcel never arrived", author_id="id-sam", handle="sam")
    await desk.card(tid)
    await draft_shown(await open_form(desk, tid))
    prompt = json.dumps(llm.completions[0]["messages"])
    assert "Hi {author}, so sorry! DM us the tracking number." in prompt
    assert "jo@example.com" not in prompt and "jo_customer" not in prompt
