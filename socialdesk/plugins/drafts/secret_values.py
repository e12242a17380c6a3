"""The values of every secret this desk is configured with, to keep them out of prompts.

Secrets live in environment variables named by ``*_env`` keys (the desk's and every
plugin's, nested tables included); their values are read here only to be removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


def _env_names(value: Any) -> Iterator[str]:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).endswith("_env") and isinstance(item, str):
                yield item
            else:
                yield from _env_names(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _env_names(item)


def desk_secrets(app: DeskApp, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    names = set(_env_names(app.config.desk)) | {n for s in app.config.plugin_settings.values() for n in _env_names(s)}
    # Longest first: a secret that contains another is removed whole.
    return tuple(sorted({env[n] for n in names if env.get(n)}, key=len, reverse=True))
