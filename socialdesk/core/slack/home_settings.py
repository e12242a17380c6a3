"""``[plugins.slack.home]``: the App Home tab's refresh policy and what it lists."""

from __future__ import annotations

from pydantic import Field

from socialdesk.core.config import StrictModel


class HomeSettings(StrictModel):
    enabled: bool = True
    # Only agents who opened their Home within this many minutes get refreshes when tickets
    # change (Slack shows the last published view to the others the next time they open it,
    # and opening it publishes a fresh one).
    recent_minutes: float = Field(30.0, gt=0, le=24 * 60)
    # Changes within this window become one views.publish per agent (views.publish is Tier 4,
    # about 100 a minute per workspace).
    debounce_seconds: float = Field(2.0, ge=0, le=300)
    # SLA clocks due within this many minutes are listed as about to breach.
    breach_soon_minutes: float = Field(30.0, gt=0, le=7 * 24 * 60)
    # Rows per page; each row takes two of the view's 100 blocks.
    rows_per_page: int = Field(20, ge=5, le=40)
