"""Token and cost counters of the drafts plugin, on the desk's ``/metrics``.

* ``socialdesk_drafts_requests_total{purpose,outcome}``: calls to the endpoint (purpose
  draft or translation; outcome ok, timeout, rate_limited, failed, refused, unreachable, empty);
* ``socialdesk_drafts_tokens_total{purpose,kind}``: tokens the endpoint reported (kind
  prompt or completion);
* ``socialdesk_drafts_cost_total{purpose}``: those tokens at ``price_per_1k_*_tokens``
  (the endpoint's currency), only counted when a price is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter

from socialdesk.core.per_desk import PerDesk
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.plugins.drafts.endpoint import Completion
from socialdesk.plugins.drafts.settings import DraftsSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


class DraftUsage:
    def __init__(self, app: DeskApp) -> None:
        registry = metrics_for(app).registry
        self.requests = Counter("socialdesk_drafts_requests", "Calls to the drafts endpoint, by outcome",
                                ["purpose", "outcome"], registry=registry)
        self.tokens = Counter("socialdesk_drafts_tokens", "Tokens the drafts endpoint reported",
                              ["purpose", "kind"], registry=registry)
        self.cost = Counter("socialdesk_drafts_cost", "Cost of the drafts endpoint's tokens at the configured prices",
                            ["purpose"], registry=registry)

    def failed(self, purpose: str, outcome: str) -> None:
        self.requests.labels(purpose, outcome).inc()

    def answered(self, purpose: str, completion: Completion, settings: DraftsSettings) -> None:
        self.requests.labels(purpose, "ok").inc()
        self.tokens.labels(purpose, "prompt").inc(completion.prompt_tokens)
        self.tokens.labels(purpose, "completion").inc(completion.completion_tokens)
        prompt_price, completion_price = settings.price_per_1k_prompt_tokens, settings.price_per_1k_completion_tokens
        if prompt_price is not None or completion_price is not None:
            self.cost.labels(purpose).inc(completion.prompt_tokens / 1000 * (prompt_price or 0.0)
                                          + completion.completion_tokens / 1000 * (completion_price or 0.0))


usage_for: PerDesk[DraftUsage] = PerDesk(DraftUsage)
