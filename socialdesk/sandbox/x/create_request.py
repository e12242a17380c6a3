"""The body of POST /2/tweets, checked like X checks it.

X validates the JSON against its schema first (messages in the style
``$.reply.in_reply_to_tweet_id: is missing but it is required``, all problems at once),
then the text: empty or over 280 weighted characters is refused before anything is
stored. Media, polls, places, cards, communities and edits are not emulated: asking
for them is a 400 that says so, rather than a post that silently lacks them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from socialdesk.sandbox.x.problems import TOO_LONG, invalid_request, parameter_error
from socialdesk.plugins.x.weighted_length import has_invalid_characters, normalize, weighted_length

SNOWFLAKE = re.compile(r"^[0-9]{1,19}$")
REPLY_SETTINGS = ("following", "mentionedUsers", "subscribers", "verified")
_BOOLEANS = ("for_super_followers_only", "nullcast", "made_with_ai", "paid_partnership", "share_with_followers")
_NOT_EMULATED = ("media", "poll", "geo", "card_uri", "community_id", "edit_options")
_KNOWN = ("text", "reply", "quote_tweet_id", "reply_settings", "direct_message_deep_link", *_BOOLEANS, *_NOT_EMULATED)
_REPLY_KEYS = ("in_reply_to_tweet_id", "exclude_reply_user_ids", "auto_populate_reply_metadata")
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object",
               type(None): "null"}


@dataclass(frozen=True)
class CreateRequest:
    text: str
    in_reply_to_tweet_id: str | None = None
    quote_tweet_id: str | None = None
    reply_settings: str | None = None


def _type_error(path: str, value: Any, expected: str) -> dict[str, Any]:
    found = _JSON_TYPES.get(type(value), "value")
    return parameter_error(path, json.dumps(value), f"{path}: {found} found, {expected} expected")


def _undefined(path: str, value: Any) -> dict[str, Any]:
    return parameter_error(path, json.dumps(value),
                           f"{path}: is not defined in the schema and the schema does not allow additional properties")


def parse_create_request(raw: bytes, max_length: int = 280) -> CreateRequest:
    """The request, or X's 400 invalid-request answer."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        raise invalid_request([{"message": "Request body is not valid JSON."}]) from None
    if not isinstance(body, dict):
        raise invalid_request([_type_error("$", body, "object")])
    errors: list[dict[str, Any]] = []
    for key in body:
        if key not in _KNOWN:
            errors.append(_undefined(f"$.{key}", body[key]))
    text = body.get("text", "")
    if not isinstance(text, str):
        errors.append(_type_error("$.text", text, "string"))
        text = ""
    reply_to = _reply_target(body.get("reply"), errors)
    quote = body.get("quote_tweet_id")
    if quote is not None and not (isinstance(quote, str) and SNOWFLAKE.match(quote)):
        errors.append(parameter_error("$.quote_tweet_id", json.dumps(quote),
                                      "$.quote_tweet_id: does not match the regex pattern ^[0-9]{1,19}$"))
    settings = body.get("reply_settings")
    if settings is not None and settings not in REPLY_SETTINGS:
        errors.append(parameter_error("$.reply_settings", json.dumps(settings),
                                      f"$.reply_settings: does not have a value in the enumeration {list(REPLY_SETTINGS)}"))
    for flag in _BOOLEANS:
        if flag in body and not isinstance(body[flag], bool):
            errors.append(_type_error(f"$.{flag}", body[flag], "boolean"))
    if "direct_message_deep_link" in body and not isinstance(body["direct_message_deep_link"], str):
        errors.append(_type_error("$.direct_message_deep_link", body["direct_message_deep_link"], "string"))
    for feature in _NOT_EMULATED:
        if feature in body:
            errors.append(parameter_error(f"$.{feature}", json.dumps(body[feature]),
                                          f"$.{feature}: not emulated by the socialdesk sandbox"))
    if errors:
        raise invalid_request(errors)
    _check_text(text, max_length)
    return CreateRequest(text=text, in_reply_to_tweet_id=reply_to, quote_tweet_id=quote, reply_settings=settings)


def _reply_target(reply: Any, errors: list[dict[str, Any]]) -> str | None:
    if reply is None:
        return None
    if not isinstance(reply, dict):
        errors.append(_type_error("$.reply", reply, "object"))
        return None
    for key in reply:
        if key not in _REPLY_KEYS:
            errors.append(_undefined(f"$.reply.{key}", reply[key]))
    target = reply.get("in_reply_to_tweet_id")
    if target is None:
        errors.append(parameter_error("$.reply", json.dumps(reply),
                                      "$.reply.in_reply_to_tweet_id: is missing but it is required"))
        return None
    if not (isinstance(target, str) and SNOWFLAKE.match(target)):
        errors.append(parameter_error("$.reply.in_reply_to_tweet_id", json.dumps(target),
                                      "$.reply.in_reply_to_tweet_id: does not match the regex pattern ^[0-9]{1,19}$"))
        return None
    excluded = reply.get("exclude_reply_user_ids", [])
    if not (isinstance(excluded, list) and all(isinstance(u, str) and SNOWFLAKE.match(u) for u in excluded)):
        errors.append(parameter_error("$.reply.exclude_reply_user_ids", json.dumps(excluded),
                                      "$.reply.exclude_reply_user_ids: must be an array of user ids"))
    return target


def _check_text(text: str, max_length: int) -> None:
    if not normalize(text).strip():
        raise invalid_request([parameter_error("text", text, "Tweet text is empty.")])
    if has_invalid_characters(normalize(text)):
        raise invalid_request([parameter_error("text", text, "Tweet text contains invalid characters.")])
    if weighted_length(text) > max_length:
        raise invalid_request([{"message": TOO_LONG}])
