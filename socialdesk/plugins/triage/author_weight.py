"""Default plugin: who is writing — VIPs, verified accounts and follower tiers raise priority.

A mention from a VIP or a large audience is more urgent whatever it says: an unanswered
complaint there is seen by many. Each weight is an ``escalate`` step with a short reason
for the card ("VIP", "verified account", "12k followers"). Only the highest follower
tier that an author reaches counts.
"""

from __future__ import annotations

from pydantic import Field, PrivateAttr, field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Author, Mention
from socialdesk.core.triage import TriageContribution

PLUGIN_NAME = "author_weight"


class FollowerTier(StrictModel):
    min_followers: int = Field(ge=1)
    escalate: int = Field(ge=0, le=3)


DEFAULT_TIERS = (FollowerTier(min_followers=10_000, escalate=1), FollowerTier(min_followers=100_000, escalate=2))


class AuthorWeightSettings(StrictModel):
    vips: list[str] = []  # "platform:handle" or "platform:id"
    vip_escalate: int = Field(2, ge=0, le=3)
    verified_escalate: int = Field(1, ge=0, le=3)
    follower_tiers: list[FollowerTier] = Field(default_factory=lambda: list(DEFAULT_TIERS))
    # A big audience makes a mention more urgent, not an emergency: verified accounts and
    # follower tiers raise it to P2 at most (1 lets them reach P1). VIPs are not capped.
    escalate_up_to: int = Field(2, ge=1, le=4)
    _vips: frozenset[tuple[str, str]] = PrivateAttr()

    @field_validator("vips")
    @classmethod
    def _platform_and_who(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            platform, _, who = entry.partition(":")
            if not platform.strip() or not who.strip().lstrip("@"):
                raise ValueError(f"{entry!r} must be 'platform:handle' or 'platform:id', such as 'x:bigcustomer'")
        return entries

    @field_validator("follower_tiers")
    @classmethod
    def _distinct(cls, tiers: list[FollowerTier]) -> list[FollowerTier]:
        thresholds = [t.min_followers for t in tiers]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("two tiers have the same min_followers; keep one")
        return sorted(tiers, key=lambda t: t.min_followers)

    @model_validator(mode="after")
    def _index(self) -> AuthorWeightSettings:
        self._vips = frozenset(_author_key(e) for e in self.vips)
        return self

    def is_vip(self, author: Author) -> bool:
        platform = author.platform.casefold()
        return ((platform, author.handle.casefold().lstrip("@")) in self._vips
                or (platform, author.external_id.casefold()) in self._vips)

    def tier(self, followers: int | None) -> FollowerTier | None:
        reached = [t for t in self.follower_tiers if followers is not None and followers >= t.min_followers]
        return reached[-1] if reached else None


def _author_key(entry: str) -> tuple[str, str]:
    platform, _, who = entry.partition(":")
    return platform.strip().casefold(), who.strip().lstrip("@").casefold()


def followers_label(followers: int) -> str:
    """Short and human: 950 -> "950 followers", 12_345 -> "12k", 1_250_000 -> "1.2M"."""
    if followers >= 1_000_000:
        amount = f"{followers / 1_000_000:.1f}".removesuffix(".0") + "M"
    elif followers >= 10_000:
        amount = f"{followers // 1_000}k"
    elif followers >= 1_000:
        amount = f"{followers / 1_000:.1f}".removesuffix(".0") + "k"
    else:
        amount = str(followers)
    return f"{amount} followers"


def weigh(author: Author, settings: AuthorWeightSettings) -> list[TriageContribution]:
    verdict = []
    if settings.vip_escalate and settings.is_vip(author):
        verdict.append(TriageContribution(escalate=settings.vip_escalate, reasons=("VIP",), tags=("vip",)))
    cap = settings.escalate_up_to
    if settings.verified_escalate and author.verified:
        verdict.append(TriageContribution(escalate=settings.verified_escalate, escalate_limit=cap,
                                          reasons=("verified account",)))
    tier = settings.tier(author.followers)
    if tier is not None and tier.escalate and author.followers is not None:
        verdict.append(TriageContribution(escalate=tier.escalate, escalate_limit=cap,
                                          reasons=(followers_label(author.followers),)))
    return verdict


@hookimpl
def socialdesk_settings_model() -> type[AuthorWeightSettings]:
    return AuthorWeightSettings


@hookimpl
def socialdesk_triage(mention: Mention, app) -> list[TriageContribution]:  # type: ignore[no-untyped-def]
    settings: AuthorWeightSettings = app.settings(PLUGIN_NAME)
    return weigh(mention.author, settings)
