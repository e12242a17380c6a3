"""Reading a customer's answer to the satisfaction survey: a score from 1 to 5, maybe a comment.

People answer a one-question survey in many ways: ``5``, ``4/5``, ``3 out of 5``,
``⭐⭐⭐⭐``, ``5 - great job``, ``@acme 5 stars!``. The score must come first (after any
@mentions the platform put in front); what follows it is the comment. Anything else
("I have 5 problems" starts with a word, "2nd order" with a longer token, "10/10" is
not on the scale) is not an answer, and the message stays an ordinary mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SCORE = 5
MAX_COMMENT_CHARS = 1000

# Leading @handles (X puts the people replied to in front) and Discord mention markup.
_LEADING_MENTIONS = re.compile(r"^(?:\s*(?:@\w+|<@[!&]?\d+>))+")
_NUMBER = re.compile(
    r"^(?P<score>\d+)(?!\d)"  # the whole leading number, so "10" is not read as "1"
    r"(?:\s*(?:/|out\s+of|of)\s*(?P<scale>\d+))?"
    r"(?:\s*(?:stars?|⭐️?|★))?",
    re.IGNORECASE,
)
_STARS = re.compile(r"^(?P<stars>(?:(?:⭐|🌟|★)\uFE0F?\s*)+)")
# What may sit between the score and the comment.
_SEPARATORS = " \t\r\n-–—:,.;!|"


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    score: int
    comment: str | None


def parse_answer(text: str) -> SurveyAnswer | None:
    """The score and comment in ``text``, or ``None`` when it is not an answer."""
    body = _LEADING_MENTIONS.sub("", text, count=1).strip()
    stars = _STARS.match(body)
    if stars:
        score = sum(1 for ch in stars.group("stars") if ch in "⭐🌟★")
        rest = body[stars.end():]
    else:
        number = _NUMBER.match(body)
        if number is None:
            return None
        score = int(number.group("score"))
        scale = number.group("scale")
        if scale is not None and int(scale) != MAX_SCORE:
            return None
        rest = body[number.end():]
        if rest[:1].isalnum() or re.match(r"^[.,]\d", rest):
            return None  # "2nd", "5.5", "3,000": a longer token, not a score
    if not 1 <= score <= MAX_SCORE:
        return None
    comment = rest.strip(_SEPARATORS).strip()
    return SurveyAnswer(score, comment[:MAX_COMMENT_CHARS] or None)
