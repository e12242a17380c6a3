"""``[plugins.csat]``: when and how the satisfaction survey is sent after a close."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator, model_validator

from socialdesk.core.config import StrictModel

PLUGIN_NAME = "csat"
DEFAULT_QUESTION = ("Thanks for contacting us, {name}! How did we do? "
                    "Reply with a number from 1 (bad) to 5 (great).")
MAX_QUESTION_CHARS = 1000
_DURATION = re.compile(r"^\s*(\d{1,6})\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"must be a duration such as \"30s\", \"10m\", \"2h\" or \"3d\" (got {value!r})")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class CsatSettings(StrictModel):
    delay: Duration = timedelta(minutes=10)  # after the close, so a last "thanks!" lands first
    question: str = DEFAULT_QUESTION
    platforms: list[str] = ["x", "discord"]
    # "reply": in the conversation, where the answer arrives like any mention. "dm" is
    # refused for now: no platform plugin reads direct messages, so answers would be lost.
    prefer: Literal["dm", "reply"] = "reply"
    expire_after: Duration = timedelta(days=3)

    @field_validator("question")
    @classmethod
    def _check_question(cls, question: str) -> str:
        if not question.strip():
            raise ValueError("must not be empty: write the one question the customer answers with 1 to 5")
        if len(question) > MAX_QUESTION_CHARS:
            raise ValueError(f"must be at most {MAX_QUESTION_CHARS} characters (got {len(question)})")
        try:
            question.format(name="Sam")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"may only use the placeholder {{name}} (the customer's name); write {{{{ and }}}} for literal "
                f"braces ({type(exc).__name__}: {exc})"
            ) from None
        return question

    @field_validator("prefer")
    @classmethod
    def _check_prefer(cls, prefer: str) -> str:
        if prefer == "dm":
            raise ValueError(
                "\"dm\" is not available: the X and Discord plugins do not read direct messages, so the "
                "customer's answer would never reach the desk; use prefer = \"reply\" (the survey is posted in "
                "the customer's conversation)")
        return prefer

    @model_validator(mode="after")
    def _check_times(self) -> CsatSettings:
        if self.expire_after <= timedelta(0):
            raise ValueError("expire_after must be longer than 0, such as \"3d\"")
        if self.delay >= self.expire_after:
            raise ValueError("delay must be shorter than expire_after, or every survey expires before it is sent")
        return self

    def question_for(self, name: str) -> str:
        return self.question.format(name=name)
