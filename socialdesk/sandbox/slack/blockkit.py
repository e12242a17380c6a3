"""Block Kit validation close to Slack's own: the limits and shapes Slack enforces.

Problems are reported the way Slack words them, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``; the Web API
layer wraps them into ``invalid_blocks`` (messages) or ``invalid_arguments`` (views).

Limits come from Slack's Block Kit reference (blocks, block elements, composition
objects, view payloads). ``action_id`` must be unique within its containing block and
``block_id`` within the message or view, as the reference states.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable
from typing import Any

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100

_STYLES = ("primary", "danger")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Problems:
    """Collects problems as Slack reports them: message plus JSON pointer."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.found.append(f"{message} [json-pointer:{pointer}]")

    def __bool__(self) -> bool:
        return bool(self.found)


# --- composition objects ------------------------------------------------------------------

_TEXT_PROPS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}


def utf16_length(text: str) -> int:
    """Slack counts text limits in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _extra(p: Problems, obj: dict[str, Any], allowed: set[str], ptr: str) -> None:
    for key in obj:
        if key not in allowed:
            p.add(f"invalid additional property: {key}", ptr)


def _string(p: Problems, obj: dict[str, Any], key: str, ptr: str, *, max_len: int,
            required: bool = False, min_len: int = 0) -> None:
    value = obj.get(key)
    if value is None:
        if required:
            p.add(f"missing required field: {key}", ptr)
        return
    if not isinstance(value, str):
        p.add("must be a string", f"{ptr}/{key}")
    elif utf16_length(value) > max_len:
        p.add(f"must be less than {max_len + 1} characters", f"{ptr}/{key}")
    elif len(value) < min_len:
        p.add(f"must be more than {min_len - 1} characters", f"{ptr}/{key}")


def _bool(p: Problems, obj: dict[str, Any], key: str, ptr: str) -> None:
    if key in obj and not isinstance(obj[key], bool):
        p.add("must be a boolean", f"{ptr}/{key}")


def _text(p: Problems, obj: dict[str, Any], key: str, ptr: str, *, max_len: int,
          plain_only: bool = False, required: bool = False) -> None:
    """A text object at ``obj[key]``: plain_text or mrkdwn, 1..max_len characters."""
    if key not in obj or obj[key] is None:
        if required:
            p.add(f"missing required field: {key}", ptr)
        return
    _text_object(p, obj[key], f"{ptr}/{key}", max_len=max_len, plain_only=plain_only)


def _text_object(p: Problems, value: Any, here: str, *, max_len: int, plain_only: bool = False) -> None:
    if not isinstance(value, dict):
        p.add("must provide an object", here)
        return
    kind = value.get("type")
    allowed_kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(kind, str) or kind not in allowed_kinds:
        p.add("failed to match all allowed schemas", here)
        p.add("must be one of " + ", ".join(f'"{k}"' for k in allowed_kinds), f"{here}/type")
        return
    _extra(p, value, _TEXT_PROPS[kind], here)
    text = value.get("text")
    if text is None:
        p.add("missing required field: text", here)
    elif not isinstance(text, str):
        p.add("must be a string", f"{here}/text")
    elif utf16_length(text) > max_len:
        p.add("failed to match all allowed schemas", here)
        p.add(f"must be less than {max_len + 1} characters", f"{here}/text")
    elif not text:
        p.add("must be more than 0 characters", f"{here}/text")
    _bool(p, value, "emoji", here)
    _bool(p, value, "verbatim", here)


def _list(p: Problems, obj: dict[str, Any], key: str, ptr: str, *, max_items: int,
          min_items: int = 0, required: bool = False) -> list[Any]:
    value = obj.get(key)
    if value is None:
        if required:
            p.add(f"missing required field: {key}", ptr)
        return []
    if not isinstance(value, list):
        p.add("must provide an array", f"{ptr}/{key}")
        return []
    if len(value) > max_items:
        p.add(f"no more than {max_items} items allowed", f"{ptr}/{key}")
    elif len(value) < min_items:
        p.add(f"must provide at least {min_items} items", f"{ptr}/{key}")
    return value


def _confirm(p: Problems, obj: dict[str, Any], ptr: str) -> None:
    value = obj.get("confirm")
    if value is None:
        return
    here = f"{ptr}/confirm"
    if not isinstance(value, dict):
        p.add("must provide an object", here)
        return
    _extra(p, value, {"title", "text", "confirm", "deny", "style"}, here)
    _text(p, value, "title", here, max_len=100, plain_only=True, required=True)
    _text(p, value, "text", here, max_len=300, required=True)
    _text(p, value, "confirm", here, max_len=30, plain_only=True, required=True)
    _text(p, value, "deny", here, max_len=30, plain_only=True, required=True)
    _style(p, value, here)


def _style(p: Problems, obj: dict[str, Any], ptr: str) -> None:
    if "style" in obj and obj["style"] not in _STYLES:
        p.add('must be one of "primary", "danger"', f"{ptr}/style")


def _option(p: Problems, option: Any, ptr: str, *, mrkdwn: bool = False, url: bool = False) -> None:
    if not isinstance(option, dict):
        p.add("must provide an object", ptr)
        return
    _extra(p, option, {"text", "value", "description"} | ({"url"} if url else set()), ptr)
    _text(p, option, "text", ptr, max_len=75, plain_only=not mrkdwn, required=True)
    _string(p, option, "value", ptr, max_len=150, required=True)
    _text(p, option, "description", ptr, max_len=75, plain_only=not mrkdwn)
    _string(p, option, "url", ptr, max_len=3000)


def _options(p: Problems, obj: dict[str, Any], ptr: str, *, max_items: int, min_items: int = 1,
             groups: bool = False, mrkdwn: bool = False, url: bool = False) -> None:
    has_groups = groups and "option_groups" in obj
    if not has_groups:
        for i, option in enumerate(_list(p, obj, "options", ptr, max_items=max_items, min_items=min_items,
                                         required=not groups)):
            _option(p, option, f"{ptr}/options/{i}", mrkdwn=mrkdwn, url=url)
        if groups and "options" not in obj:
            p.add("must provide either options or option_groups", ptr)
        return
    if "options" in obj:
        p.add("must provide only one of options, option_groups", ptr)
    for gi, group in enumerate(_list(p, obj, "option_groups", ptr, max_items=100, min_items=1)):
        here = f"{ptr}/option_groups/{gi}"
        if not isinstance(group, dict):
            p.add("must provide an object", here)
            continue
        _extra(p, group, {"label", "options"}, here)
        _text(p, group, "label", here, max_len=75, plain_only=True, required=True)
        for i, option in enumerate(_list(p, group, "options", here, max_items=100, min_items=1, required=True)):
            _option(p, option, f"{here}/options/{i}")


# --- block elements -----------------------------------------------------------------------

_SELECT = {"type", "action_id", "placeholder", "confirm", "focus_on_load"}
_INPUT = {"type", "action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"}

_ELEMENT_PROPS: dict[str, set[str]] = {
    "button": {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"},
    "static_select": _SELECT | {"options", "option_groups", "initial_option"},
    "multi_static_select": _SELECT | {"options", "option_groups", "initial_options", "max_selected_items"},
    "external_select": _SELECT | {"initial_option", "min_query_length"},
    "multi_external_select": _SELECT | {"initial_options", "min_query_length", "max_selected_items"},
    "users_select": _SELECT | {"initial_user"},
    "multi_users_select": _SELECT | {"initial_users", "max_selected_items"},
    "conversations_select": _SELECT | {"initial_conversation", "default_to_current_conversation",
                                       "response_url_enabled", "filter"},
    "multi_conversations_select": _SELECT | {"initial_conversations", "default_to_current_conversation",
                                             "max_selected_items", "filter"},
    "channels_select": _SELECT | {"initial_channel", "response_url_enabled"},
    "multi_channels_select": _SELECT | {"initial_channels", "max_selected_items"},
    "overflow": {"type", "action_id", "options", "confirm"},
    "datepicker": {"type", "action_id", "initial_date", "confirm", "focus_on_load", "placeholder"},
    "timepicker": {"type", "action_id", "initial_time", "confirm", "focus_on_load", "placeholder", "timezone"},
    "datetimepicker": {"type", "action_id", "initial_date_time", "confirm", "focus_on_load"},
    "plain_text_input": _INPUT | {"multiline", "min_length", "max_length"},
    "email_text_input": set(_INPUT),
    "url_text_input": set(_INPUT),
    "number_input": _INPUT | {"is_decimal_allowed", "min_value", "max_value"},
    "rich_text_input": set(_INPUT),
    "checkboxes": {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"},
    "radio_buttons": {"type", "action_id", "options", "initial_option", "confirm", "focus_on_load"},
    "file_input": {"type", "action_id", "filetypes", "max_files"},
    "workflow_button": {"type", "text", "workflow", "action_id", "style", "accessibility_label"},
    "image": {"type", "image_url", "slack_file", "alt_text"},
}

_SELECTS = {k for k in _ELEMENT_PROPS if k.endswith("_select")}
ACTIONS_ELEMENTS = _SELECTS | {"button", "checkboxes", "datepicker", "datetimepicker", "overflow",
                               "radio_buttons", "timepicker", "workflow_button"}
SECTION_ACCESSORIES = (ACTIONS_ELEMENTS - {"datetimepicker"}) | {"image"}
INPUT_ELEMENTS = _SELECTS | {"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input",
                             "number_input", "plain_text_input", "radio_buttons", "rich_text_input",
                             "timepicker", "url_text_input"}


def _element(p: Problems, element: Any, ptr: str, allowed: set[str]) -> str | None:
    """Validate one element; returns its action_id (for the uniqueness check), if any."""
    if not isinstance(element, dict):
        p.add("must provide an object", ptr)
        return None
    kind = element.get("type")
    if kind is None:
        p.add("missing required field: type", ptr)
        return None
    if kind not in allowed or kind not in _ELEMENT_PROPS:
        p.add(f"unsupported type: {kind}", f"{ptr}/type")
        return None
    _extra(p, element, _ELEMENT_PROPS[kind], ptr)
    _string(p, element, "action_id", ptr, max_len=255, min_len=1)
    _confirm(p, element, ptr)
    _text(p, element, "placeholder", ptr, max_len=150, plain_only=True)
    _bool(p, element, "focus_on_load", ptr)
    _ELEMENT_CHECKS.get(kind, _no_more)(p, element, ptr)
    action_id = element.get("action_id")
    return action_id if isinstance(action_id, str) else None


def _no_more(p: Problems, element: dict[str, Any], ptr: str) -> None:
    return None


def _button(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _text(p, e, "text", ptr, max_len=75, plain_only=True, required=True)
    _string(p, e, "url", ptr, max_len=3000)
    _string(p, e, "value", ptr, max_len=2000)
    _string(p, e, "accessibility_label", ptr, max_len=75)
    _style(p, e, ptr)


def _static_select(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _options(p, e, ptr, max_items=100, groups=True)
    _max_selected(p, e, ptr)


def _max_selected(p: Problems, e: dict[str, Any], ptr: str) -> None:
    value = e.get("max_selected_items")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        p.add("must be an integer greater than 0", f"{ptr}/max_selected_items")


def _overflow(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _options(p, e, ptr, max_items=5, min_items=1, url=True)


def _choices(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _options(p, e, ptr, max_items=10, mrkdwn=True)


def _plain_text_input(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _string(p, e, "initial_value", ptr, max_len=3000)
    _bool(p, e, "multiline", ptr)
    for key, lowest in (("min_length", 0), ("max_length", 1)):
        value = e.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not lowest <= value <= 3000):
            p.add(f"must be an integer between {lowest} and 3000", f"{ptr}/{key}")
    low, high = e.get("min_length"), e.get("max_length")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        p.add("min_length must not be greater than max_length", ptr)
    _dispatch_action_config(p, e, ptr)


DISPATCH_TRIGGERS = ("on_enter_pressed", "on_character_entered")


def _dispatch_action_config(p: Problems, e: dict[str, Any], ptr: str) -> None:
    """``{"trigger_actions_on": [...]}``: when an input inside a ``dispatch_action`` block sends block_actions."""
    config = e.get("dispatch_action_config")
    if config is None:
        return
    here = f"{ptr}/dispatch_action_config"
    if not isinstance(config, dict):
        p.add("must be an object", here)
        return
    _extra(p, config, {"trigger_actions_on"}, here)
    triggers = config.get("trigger_actions_on")
    if triggers is not None and (not isinstance(triggers, list) or not triggers
                                 or any(t not in DISPATCH_TRIGGERS for t in triggers)):
        p.add(f"trigger_actions_on must be a non-empty list of {', '.join(DISPATCH_TRIGGERS)}",
              f"{here}/trigger_actions_on")


def _number_input(p: Problems, e: dict[str, Any], ptr: str) -> None:
    if "is_decimal_allowed" not in e:
        p.add("missing required field: is_decimal_allowed", ptr)
    _bool(p, e, "is_decimal_allowed", ptr)


def _datepicker(p: Problems, e: dict[str, Any], ptr: str) -> None:
    value = e.get("initial_date")
    if value is not None and not (isinstance(value, str) and _DATE.match(value)):
        p.add("must be a date in the format YYYY-MM-DD", f"{ptr}/initial_date")


def _timepicker(p: Problems, e: dict[str, Any], ptr: str) -> None:
    value = e.get("initial_time")
    if value is not None and not (isinstance(value, str) and _TIME.match(value)):
        p.add("must be a time in the format HH:mm", f"{ptr}/initial_time")


def _image_element(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _string(p, e, "alt_text", ptr, max_len=2000, required=True)
    if "image_url" not in e and "slack_file" not in e:
        p.add("must provide either image_url or slack_file", ptr)
    _string(p, e, "image_url", ptr, max_len=3000)


def _workflow_button(p: Problems, e: dict[str, Any], ptr: str) -> None:
    _text(p, e, "text", ptr, max_len=75, plain_only=True, required=True)
    if "workflow" not in e:
        p.add("missing required field: workflow", ptr)
    _style(p, e, ptr)


_ELEMENT_CHECKS: dict[str, Callable[[Problems, dict[str, Any], str], None]] = {
    "button": _button,
    "static_select": _static_select,
    "multi_static_select": _static_select,
    "overflow": _overflow,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "plain_text_input": _plain_text_input,
    "number_input": _number_input,
    "datepicker": _datepicker,
    "timepicker": _timepicker,
    "image": _image_element,
    "workflow_button": _workflow_button,
    **{k: _max_selected for k in _SELECTS if k.startswith("multi_") and k != "multi_static_select"},
}


# --- blocks ---------------------------------------------------------------------------------

def _section(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "text", "fields", "accessory", "expand"}, ptr)
    if "text" not in block and "fields" not in block:
        p.add("must provide either text or fields", ptr)
    _text(p, block, "text", ptr, max_len=3000)
    for i, field in enumerate(_list(p, block, "fields", ptr, max_items=10, min_items=1)):
        _text_object(p, field, f"{ptr}/fields/{i}", max_len=2000)
    _bool(p, block, "expand", ptr)
    if "accessory" in block:
        action_id = _element(p, block["accessory"], f"{ptr}/accessory", SECTION_ACCESSORIES)
        return [action_id] if action_id else []
    return []


def _header(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "text"}, ptr)
    _text(p, block, "text", ptr, max_len=150, plain_only=True, required=True)
    return []


def _divider(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id"}, ptr)
    return []


def _context(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "elements"}, ptr)
    for i, element in enumerate(_list(p, block, "elements", ptr, max_items=10, min_items=1, required=True)):
        here = f"{ptr}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            _element(p, element, here, {"image"})
        elif isinstance(element, dict) and element.get("type") in _TEXT_PROPS:
            _text_object(p, element, here, max_len=3000)
        else:
            p.add("failed to match all allowed schemas", here)
    return []


def _actions(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "elements"}, ptr)
    action_ids: list[str] = []
    for i, element in enumerate(_list(p, block, "elements", ptr, max_items=25, min_items=1, required=True)):
        action_id = _element(p, element, f"{ptr}/elements/{i}", ACTIONS_ELEMENTS)
        if action_id is None:
            continue
        if action_id in action_ids:
            p.add(f"duplicate action_id: {action_id}", f"{ptr}/elements/{i}/action_id")
        action_ids.append(action_id)
    return action_ids


def _image(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "image_url", "slack_file", "alt_text", "title"}, ptr)
    _image_element(p, block, ptr)
    _text(p, block, "title", ptr, max_len=2000, plain_only=True)
    return []


def _input(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"}, ptr)
    _text(p, block, "label", ptr, max_len=2000, plain_only=True, required=True)
    _text(p, block, "hint", ptr, max_len=2000, plain_only=True)
    _bool(p, block, "optional", ptr)
    _bool(p, block, "dispatch_action", ptr)
    if "element" not in block:
        p.add("missing required field: element", ptr)
        return []
    action_id = _element(p, block["element"], f"{ptr}/element", INPUT_ELEMENTS)
    return [action_id] if action_id else []


def _rich_text(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "elements"}, ptr)
    _list(p, block, "elements", ptr, max_items=10_000, required=True)
    return []


def _markdown(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "text"}, ptr)
    _string(p, block, "text", ptr, max_len=12_000, min_len=1, required=True)
    return []


def _video(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "alt_text", "author_name", "description", "provider_icon_url",
                      "provider_name", "title", "title_url", "thumbnail_url", "video_url"}, ptr)
    for key in ("alt_text", "thumbnail_url", "video_url"):
        _string(p, block, key, ptr, max_len=3000, required=True)
    _text(p, block, "title", ptr, max_len=200, plain_only=True, required=True)
    _text(p, block, "description", ptr, max_len=200, plain_only=True)
    _string(p, block, "author_name", ptr, max_len=50)
    return []


def _file(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    _extra(p, block, {"type", "block_id", "external_id", "source"}, ptr)
    _string(p, block, "external_id", ptr, max_len=255, required=True)
    if block.get("source") != "remote":
        p.add('must be "remote"', f"{ptr}/source")
    return []


def _loosely(p: Problems, block: dict[str, Any], ptr: str) -> list[str]:
    """Newer block types the desk does not build: only type and block_id are checked."""
    return []


_BlockCheck = Callable[[Problems, dict[str, Any], str], list[str]]
# type -> (check, surfaces it may appear on)
_BLOCKS: dict[str, tuple[_BlockCheck, frozenset[str]]] = {
    "section": (_section, frozenset({"message", "modal", "home"})),
    "header": (_header, frozenset({"message", "modal", "home"})),
    "divider": (_divider, frozenset({"message", "modal", "home"})),
    "context": (_context, frozenset({"message", "modal", "home"})),
    "actions": (_actions, frozenset({"message", "modal", "home"})),
    "image": (_image, frozenset({"message", "modal", "home"})),
    "input": (_input, frozenset({"message", "modal", "home"})),
    "rich_text": (_rich_text, frozenset({"message", "modal", "home"})),
    "video": (_video, frozenset({"message", "modal", "home"})),
    "markdown": (_markdown, frozenset({"message"})),
    "file": (_file, frozenset({"message"})),
    "table": (_loosely, frozenset({"message"})),
    "context_actions": (_loosely, frozenset({"message"})),
}


def check_blocks(p: Problems, blocks: Any, ptr: str, *, surface: str, limit: int) -> None:
    if not isinstance(blocks, list):
        p.add("must provide an array", ptr)
        return
    if len(blocks) > limit:
        p.add(f"no more than {limit} items allowed", ptr)
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{ptr}/{i}"
        if not isinstance(block, dict):
            p.add("must provide an object", here)
            continue
        kind = block.get("type")
        if kind is None:
            p.add("missing required field: type", here)
            continue
        check = _BLOCKS.get(kind)
        if check is None or surface not in check[1]:
            p.add(f"unsupported type: {kind}", f"{here}/type")
            continue
        _string(p, block, "block_id", here, max_len=255, min_len=1)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                p.add(f"duplicate block_id: {block_id}", f"{here}/block_id")
            seen_block_ids.add(block_id)
        check[0](p, block, here)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Problems with a message's ``blocks`` (chat.postMessage, chat.update, response_url)."""
    p = Problems()
    check_blocks(p, blocks, "/blocks", surface="message", limit=MESSAGE_BLOCK_LIMIT)
    return p.found


_VIEW_PROPS = {"type", "title", "blocks", "close", "submit", "private_metadata", "callback_id",
               "clear_on_close", "notify_on_close", "external_id", "submit_disabled"}


def validate_view(view: Any) -> list[str]:
    """Problems with a modal view payload (views.open, views.update, views.push)."""
    p = Problems()
    ptr = "/view"
    if not isinstance(view, dict):
        p.add("must provide an object", ptr)
        return p.found
    _extra(p, view, _VIEW_PROPS, ptr)
    for key in ("type", "blocks"):
        if key not in view:
            p.add(f"missing required field: {key}", ptr)
    kind = view.get("type")
    if kind is not None and kind != "modal":
        p.add('must be "modal"', f"{ptr}/type")
    _text(p, view, "title", ptr, max_len=24, plain_only=True, required=True)
    _text(p, view, "close", ptr, max_len=24, plain_only=True)
    _text(p, view, "submit", ptr, max_len=24, plain_only=True)
    _string(p, view, "private_metadata", ptr, max_len=3000)
    _string(p, view, "callback_id", ptr, max_len=255)
    _string(p, view, "external_id", ptr, max_len=255)
    for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
        _bool(p, view, key, ptr)
    if "blocks" in view:
        check_blocks(p, view["blocks"], f"{ptr}/blocks", surface="modal", limit=VIEW_BLOCK_LIMIT)
        blocks = view["blocks"] if isinstance(view["blocks"], list) else []
        if "submit" not in view and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
            p.add("must provide submit when the view has input blocks", ptr)
    return p.found


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of valid ``blocks`` with the block_id/action_id Slack generates where the app set none.

    Slack returns these generated ids in the stored message or view, and sends them back in
    interaction payloads, so apps that do not set ids still get stable ones.
    """
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", secrets.token_urlsafe(4)[:5])
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements = block.get("elements") or []
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            elements = [block["accessory"]]
        elif block.get("type") == "input" and isinstance(block.get("element"), dict):
            elements = [block["element"]]
        for element in elements:
            if isinstance(element, dict) and element.get("type") in _ELEMENT_PROPS and element.get("type") != "image":
                element.setdefault("action_id", secrets.token_urlsafe(4)[:5])
    return out
