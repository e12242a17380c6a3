"""A desk with the csat plugin on for the test platform, and helpers to close tickets."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from socialdesk.core.extensions import Actor
from socialdesk.core.plugin_catalog import PluginEntry
from tests.conftest import mention
from tests.csat.survey_double import SurveyDouble

AGENT = Actor("U1")
_ids = itertools.count(1)


def csat_config(**settings: Any) -> dict[str, Any]:
    return {"plugins": {"csat": {"enabled": True, "platforms": ["testnet"], **settings}}}


@pytest.fixture
def surveys() -> SurveyDouble:
    return SurveyDouble()


@pytest.fixture
def make_csat_app(make_app, surveys):
    async def factory(enabled: bool = True, **settings: Any):
        config = csat_config(**settings) if enabled else {}
        return await make_app(config, extra=[PluginEntry("survey_double", surveys, "test", True)])

    return factory


@pytest.fixture
async def app(make_csat_app):
    return await make_csat_app()


async def answered_ticket(app, external_id: str | None = None, *, author_id: str = "u1") -> int:
    """A ticket with one reply sent, still open."""
    external_id = external_id or f"q{next(_ids)}"
    text = f"Order {external_id} never arrived"  # distinct texts: repeated ones look like spam to triage
    tid = (await app.service.ingest(mention(external_id, author_id=author_id, text=text))).ticket_id
    await app.service.claim(tid, AGENT)
    await app.service.reply(tid, AGENT, "Sorted, sorry about that!")
    await app.outbox_runner().drain()
    return tid


async def closed_ticket(app, external_id: str | None = None, *, author_id: str = "u1") -> int:
    tid = await answered_ticket(app, external_id, author_id=author_id)
    await app.service.close(tid, AGENT)
    return tid
