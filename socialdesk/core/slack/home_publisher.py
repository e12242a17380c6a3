"""Publishing each agent's App Home (``views.publish``), and keeping it fresh.

An agent's Home is published when they open it, change a filter or page, and — debounced
per agent — when tickets change, but only for agents who opened it within
``home.recent_minutes`` (read from the database, so a change on any replica refreshes the
Homes of agents whose Home was opened through another). A 429 from Slack delays that
agent's next publish by its Retry-After; nothing else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from socialdesk.core.per_desk import PerDesk
from socialdesk.core.slack.home_view import HomeContent, HomeRow, HomeSection, home_view
from socialdesk.core.slack.pacing import retry_after
from socialdesk.core.slack.runtime import SlackRuntime, runtime_for
from socialdesk.core.store import home_queries
from socialdesk.core.store.home_queries import HomeFilters
from socialdesk.core.store.models import HomePreference
from socialdesk.core.ticket import TicketSnapshot

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

MINE_LIMIT = 50
AT_RISK_LIMIT = 50
QUEUE_LIMIT = 200
INCIDENT_LIMIT = 10
# An outcome told at the top of the Home ("You have #42 now") stays through the refreshes
# that follow for this long, so a debounced refresh racing the answer cannot hide it.
NOTICE_SECONDS = 60.0


class HomePublisher:
    def __init__(self, app: DeskApp, rt: SlackRuntime) -> None:
        self.app = app
        self.rt = rt
        self.settings = rt.settings.home
        self._pending: dict[str, asyncio.Task[None]] = {}  # scheduled, not started publishing yet
        self._tasks: set[asyncio.Task[None]] = set()  # every refresh task still running
        self.in_flight = 0  # publishes under way
        self._notices: dict[str, tuple[str, float]] = {}  # user -> (text, when told)
        self._publishing: dict[str, asyncio.Lock] = {}  # user -> their publishes, one at a time
        self._blocked_until: float = 0.0

    # --- preferences ------------------------------------------------------------------

    async def _save(self, user_id: str, *, opened: bool = False, filters: HomeFilters | None = None,
                    page: int | None = None) -> None:
        now = self.app.clock()
        for _ in range(2):  # two replicas may create the same agent's row at once
            try:
                async with self.app.database.transaction() as session:
                    row = await session.get(HomePreference, user_id, with_for_update=True)
                    if row is None:
                        row = HomePreference(user_id=user_id, updated_at=now)
                        session.add(row)
                    if opened:
                        row.opened_at = now
                    if filters is not None:
                        row.platform, row.priority = filters.platform, filters.priority
                    if page is not None:
                        row.page = page
                    row.updated_at = now
                return
            except IntegrityError:
                continue

    async def filters_of(self, user_id: str) -> HomeFilters:
        async with self.app.database.sessions() as session:
            return await home_queries.home_filters(session, user_id)

    # --- what the Home shows -------------------------------------------------------------

    async def _rows(self, tickets: list[TicketSnapshot]) -> list[HomeRow]:
        rows = []
        for summary in await self.app.service.summaries(tickets):
            t = summary.ticket
            holder = await self.rt.agent_name(t.assignee) if t.assignee else None
            rows.append(HomeRow(summary, await self.rt.permalink(t.card_channel, t.card_ts), holder))
        return rows

    async def content(self, user_id: str, *, notice: str | None = None) -> HomeContent:
        now = self.app.clock()
        soon = timedelta(minutes=self.settings.breach_soon_minutes)
        async with self.app.database.sessions() as session:
            filters = await home_queries.home_filters(session, user_id)
            page = await home_queries.home_page(session, user_id)  # the same row: no second read
            mine = await home_queries.held_by(session, user_id, filters, MINE_LIMIT)
            at_risk = await home_queries.sla_at_risk(session, filters, now, soon, AT_RISK_LIMIT)
            queue = await home_queries.unclaimed(session, filters, QUEUE_LIMIT)
            incidents = await home_queries.open_incidents(session, INCIDENT_LIMIT)
        breached = [t for t in at_risk if (home_queries.deadline(t) or now) < now]
        soon_due = [t for t in at_risk if t not in breached]
        sections = [
            HomeSection("mine", "My tickets", await self._rows(mine), "You hold no open tickets."),
            HomeSection("breached", "🚨 SLA breached", await self._rows(breached), "No SLA clock has run out."),
            HomeSection("soon", f"⏱ SLA due within {int(self.settings.breach_soon_minutes)} min",
                        await self._rows(soon_due), "No SLA clock is about to run out."),
            HomeSection("queue", "Unclaimed queue, most urgent first", await self._rows(queue),
                        "The queue is empty. 🎉"),
            HomeSection("incidents", "Open incidents", empty="No open incidents.",
                        incidents=[(i, await self.rt.permalink(i.card_channel, i.card_ts)) for i in incidents]),
        ]
        platforms = sorted(self.app.platforms)
        return HomeContent(user_id, filters, platforms, sections, now, page, notice)

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, user_id: str, *, page: int | None = None, notice: str | None = None) -> bool:
        """Publish ``user_id``'s Home now, at ``page`` if given (stored: every replica's
        refreshes show it), else at the stored page; False if Slack refused (logged)."""
        if page is not None:
            await self._save(user_id, page=page)
        loop = asyncio.get_running_loop()
        if notice is not None:
            self._notices[user_id] = (notice, loop.time())
        told = self._notices.get(user_id)
        if told is not None and loop.time() - told[1] > NOTICE_SECONDS:
            del self._notices[user_id]
            told = None
        self.in_flight += 1
        try:
            # One publish per agent at a time, each reading when its turn comes: a refresh
            # that read before a page or filter change cannot land after the change's view.
            async with self._publishing.setdefault(user_id, asyncio.Lock()):
                content = await self.content(user_id, notice=told[0] if told else None)
                await self.rt.client.views_publish(user_id=user_id,
                                                   view=home_view(content, self.settings.rows_per_page))
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is not None:
                self._blocked_until = asyncio.get_running_loop().time() + wait
                self.schedule(user_id)  # try again once Slack allows it
            log.warning("views.publish failed", extra={"user": user_id, "error": exc.response.get("error")})
            return False
        except (OSError, TimeoutError) as exc:
            log.warning("views.publish failed", extra={"user": user_id, "error": type(exc).__name__})
            return False
        finally:
            self.in_flight -= 1
        return True

    @property
    def idle(self) -> bool:
        """No refresh is scheduled or being published."""
        return not self._tasks and self.in_flight == 0

    async def opened(self, user_id: str) -> None:
        """The agent opened their Home: remember it (refreshes follow for a while) and publish."""
        await self._save(user_id, opened=True)
        await self.publish(user_id)

    async def set_filters(self, user_id: str, filters: HomeFilters) -> None:
        await self._save(user_id, filters=filters, page=0)  # a new filter starts at its first page
        await self.publish(user_id)

    def schedule(self, user_id: str) -> None:
        """Publish ``user_id``'s Home after the debounce window (once, however many changes)."""
        if user_id in self._pending:
            return
        task = self._pending[user_id] = asyncio.ensure_future(self._later(user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, user_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
            wait = max(self.settings.debounce_seconds, self._blocked_until - loop.time())
            await asyncio.sleep(wait)
            self._pending.pop(user_id, None)
            await self.publish(user_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("home refresh failed", extra={"user": user_id})
        finally:
            if self._pending.get(user_id) is asyncio.current_task():
                self._pending.pop(user_id, None)

    async def tickets_changed(self) -> None:
        """Something changed: refresh every recent opener's Home (debounced per agent)."""
        since: datetime = self.app.clock() - timedelta(minutes=self.settings.recent_minutes)
        async with self.app.database.sessions() as session:
            users = await home_queries.recent_openers(session, since)
        for user_id in users:
            self.schedule(user_id)

    async def close(self) -> None:
        tasks = list(self._tasks)
        self._pending.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


publisher_for: PerDesk[HomePublisher] = PerDesk(lambda app: HomePublisher(app, runtime_for(app)))


def existing_publisher(rt: SlackRuntime) -> HomePublisher | None:
    return publisher_for.existing(rt.app)
