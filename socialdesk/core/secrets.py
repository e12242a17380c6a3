"""Secrets come from the environment only; a secret written into plugins.toml is refused."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import SecretStr

from socialdesk.core.errors import DeskError

# Keys whose value is a secret. Their ``<key>_env`` twin names the variable instead.
_SECRET_KEY = re.compile(
    r"(^|_)(token|secret|password|passwd|api_key|apikey|private_key|access_key|signing_secret|client_secret|consumer_secret)$"
)

# Values that are secrets whatever their key is called.
_SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}")),
    ("a Slack app-level token", re.compile(r"\bxapp-[A-Za-z0-9-]{8,}")),
    ("an X bearer token", re.compile(r"^A{10,}[A-Za-z0-9%]{20,}$")),
    ("a Discord bot token", re.compile(r"^[MNO][A-Za-z\d_-]{22,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}$")),
    # Doorkeeper's tokens: 32 random bytes, URL-safe base64 (lower case and digits rule out variable names)
    ("a Mastodon access token", re.compile(r"^(?=[^a-z]*[a-z])(?=\D*\d)[A-Za-z0-9_-]{43}$")),
    ("a database password", re.compile(r"^[a-z][a-z0-9+]*://[^:/@\s]+:[^@\s]+@")),
)


class MissingSecret(DeskError):
    """An environment variable named in plugins.toml is not set."""


def describe_literal_secret(key: str, value: Any) -> str | None:
    """Why ``key = value`` must not be in the file, or ``None`` when it may."""
    if not isinstance(value, str):
        return None
    if key.endswith("_env"):  # names a variable; but a token pasted here is still a secret in the file
        for what, shape in _SECRET_SHAPES:
            if shape.search(value):
                return (
                    f"this value looks like {what}; {key} takes the NAME of the environment variable "
                    f"that holds it, such as {key.removesuffix('_env').upper()}, not the value itself"
                )
        return None
    if _SECRET_KEY.search(key) and value:
        return (
            f"secrets are not read from plugins.toml; put the value in an environment variable "
            f'and write {key}_env = "VARIABLE_NAME" instead'
        )
    for what, shape in _SECRET_SHAPES:
        if shape.search(value):
            return (
                f"this value looks like {what}; secrets are not read from plugins.toml: put it in an "
                f'environment variable and write {key}_env = "VARIABLE_NAME" instead'
            )
    return None


def iter_literal_secrets(table: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str, str]]:
    """Yield (key path, the secret value, message) for every secret written literally in ``table``.

    The value is only for scrubbing it out of other messages; never show it.
    """
    for key, value in table.items():
        here = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            yield from iter_literal_secrets(value, here)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from iter_literal_secrets(item, f"{here}.{index}")
                else:
                    problem = describe_literal_secret(str(key), item)
                    if problem:
                        yield f"{here}.{index}", item, problem
        else:
            problem = describe_literal_secret(str(key), value)
            if problem:
                yield here, value, problem


def find_literal_secrets(table: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (key path, message) for every secret written literally anywhere in ``table``."""
    for here, _value, problem in iter_literal_secrets(table, path):
        yield here, problem


def read_secret(env_name: str, named_by: str, environ: Mapping[str, str] | None = None) -> SecretStr:
    """The secret in ``$env_name``; ``named_by`` is the key path that named it, for the error."""
    value = (os.environ if environ is None else environ).get(env_name, "")
    if not value:
        raise MissingSecret(
            f"environment variable {env_name} (named by {named_by}) is not set; export it before starting"
        )
    return SecretStr(value)


_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bx(?:ox[abposr]|app)-[A-Za-z0-9-]{8,}"), "***"),
    (re.compile(r"(?i)\b(bearer|bot)\s+[A-Za-z0-9%._~+/=-]{16,}"), r"\1 ***"),
    (re.compile(r"[MNO][A-Za-z\d_-]{22,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"), "***"),
    (re.compile(r"(?<=://)([^:/@\s]+):[^@\s]+(?=@)"), r"\1:***"),  # password in a URL
    # What client libraries log of Slack requests (slack-bolt prints a rejected request's
    # whole body; slack_sdk's retry log prints the URL it posts to):
    # a response_url (https://hooks.slack.com/commands/T1/123/SECRET) is a live credential
    # for a few minutes, whether plain, labelled or URL-encoded inside a form body;
    (re.compile(r"((?:/|%2F)(?:commands|actions|app|services|workflows)(?:/|%2F)[A-Z0-9]+(?:/|%2F)[0-9]+(?:/|%2F))"
                r"[A-Za-z0-9_-]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(response_url\\?[\"']?\s*[:=]\s*\\?[\"']?)[^\s&\"'\\,}]+"), r"\1***"),
    # the legacy verification token in every payload (form field or JSON key);
    (re.compile(r"(?<![A-Za-z_])(token=)[^&\s\"'\\]+"), r"\1***"),
    (re.compile(r"(\\?[\"']token\\?[\"']\s*:\s*\\?[\"'])[^\"'\\]+"), r"\1***"),
    # request signatures (Slack's v0=..., OAuth 1.0a header parameters as tweepy sends them).
    (re.compile(r"\bv0=[0-9a-f]{16,}"), "v0=***"),
    (re.compile(r"(oauth_(?:token|signature|consumer_key|verifier)=\\?\"?)[^\"\\,&\s]+"), r"\1***"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "***"),  # a JWT (Bluesky sessions)
)


def redact(text: str) -> str:
    """``text`` with anything shaped like a token or password replaced by ``***``."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text
