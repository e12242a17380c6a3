"""Text written by strangers, stored exactly as written on SQLite and PostgreSQL.

PostgreSQL's ``text`` cannot hold ``\\x00`` and neither database driver can encode a lone
UTF-16 surrogate (a JSON ``\\ud83d`` without its pair), yet both arrive in real posts.
Such characters are written as an escape sequence introduced by U+FFFF (a Unicode
noncharacter: never meaningful in text, valid UTF-8 for both databases) and turned
back on read, so what the platform sent is what the desk reads back:

    U+FFFF itself   ->  U+FFFF "e"
    NUL             ->  U+FFFF "0"
    lone surrogate  ->  U+FFFF "s" + four hex digits

Text without any of the three is stored unchanged, so ordinary rows stay readable and
indexable, and equality lookups (an id, a handle) bind through the same escaping.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

ESCAPE = "\uffff"
_NEEDS_ESCAPE = re.compile("[\uffff\x00\ud800-\udfff]")
_ESCAPED = re.compile("\uffff(?:(e)|(0)|s([0-9a-f]{4}))")


def _escape_one(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == ESCAPE:
        return ESCAPE + "e"
    if char == "\x00":
        return ESCAPE + "0"
    return f"{ESCAPE}s{ord(char):04x}"


def _unescape_one(match: re.Match[str]) -> str:
    if match.group(1):
        return ESCAPE
    if match.group(2):
        return "\x00"
    return chr(int(match.group(3), 16))


def to_storable(text: str) -> str:
    """``text`` as both databases can store it (unchanged unless it holds NUL, U+FFFF or a lone surrogate)."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    # Any surrogate code point is escaped on its own (a decoded JSON pair is one code
    # point already), so even two halves kept apart in a Python str come back as they were.
    return _NEEDS_ESCAPE.sub(_escape_one, text)


def from_storable(stored: str) -> str:
    """The text :func:`to_storable` was given."""
    if ESCAPE not in stored:
        return stored
    return _ESCAPED.sub(_unescape_one, stored)


def _map_strings(value: Any, convert: Any) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [_map_strings(item, convert) for item in value]
    if isinstance(value, dict):
        return {convert(k) if isinstance(k, str) else k: _map_strings(v, convert) for k, v in value.items()}
    return value


class LosslessText(TypeDecorator[str]):
    """A ``Text``/``String`` column for a stranger's text: any Python str goes in and comes back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else to_storable(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else from_storable(value)


class LosslessString(LosslessText):
    """:class:`LosslessText` over ``VARCHAR(length)``."""

    impl = String
    cache_ok = True


class LosslessJSON(TypeDecorator[Any]):
    """A JSON column whose strings (keys and values) may hold what :class:`LosslessText` escapes:
    PostgreSQL refuses ``\\u0000`` and unpaired surrogate escapes in JSON as well."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _map_strings(value, to_storable)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return _map_strings(value, from_storable)
