"""``[plugins.suggestions]``: how many similar past answers the reply form shows, and which."""

from __future__ import annotations

from pydantic import Field

from socialdesk.core.config import StrictModel

PLUGIN_NAME = "suggestions"


class SuggestionsSettings(StrictModel):
    count: int = Field(3, ge=1, le=5, description="how many past answers the reply form shows")
    min_similarity: float = Field(0.2, gt=0, le=1, description="weaker matches are not shown (TF-IDF cosine)")
    min_csat: int = Field(3, ge=1, le=5, description="answers whose conversation was rated lower are never suggested")
    max_age_days: int | None = Field(365, ge=1, le=36500,
                                     description="answers older than this are not suggested; none = any age")
    lookup_budget_seconds: float = Field(
        1.0, gt=0, le=2.0,
        description="the form opens without suggestions rather than wait longer (Slack allows 3 s to open it)")
