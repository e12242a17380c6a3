"""A post's ``lang``: X detects it; the sandbox guesses from the script, or takes what the test says.

Good enough to exercise the desk's language routing: kana means Japanese, Hangul
Korean, Han Chinese, and so on; Latin-script text is "en"; text with nothing but
mentions, links and hashtags is "und", as on X.
"""

from __future__ import annotations

import re

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)
_NOT_WORDS = re.compile(r"https?://\S+|[@#$\uff20\uff03]\w+")


def guess_lang(text: str) -> str:
    words = _NOT_WORDS.sub(" ", text)
    for lang, script in _SCRIPTS:
        if script.search(words):
            return lang
    return "en" if re.search(r"[^\W\d_]", words) else "und"
