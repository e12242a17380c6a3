"""The demo's plugins.toml: the real plugins, pointed at the sandbox emulators."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from socialdesk.demo.forums import forum_settings
from socialdesk.sandbox.cluster import Sandbox

DESK_CHANNEL = "C0SOCIAL01"  # #social-desk in the sandbox workspace
AGENT = "U0AGENT001"  # Alice Agent
SECOND_AGENT = "U0AGENT002"  # Bob Responder
LEAD = "U0LEAD0001"  # Carol Lead, a desk admin
ONCALL_GROUP = "S0ONCALL1"


def demo_config(sandbox: Sandbox, workdir: Path) -> dict[str, Any]:
    """What an admin would write in plugins.toml, with the sandbox's addresses."""
    return {
        "desk": {
            "database_url": f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
            "channel": DESK_CHANNEL,
            "agents": [AGENT, SECOND_AGENT],
            "admins": [LEAD],
            "oncall_group": ONCALL_GROUP,
            "outbox": {"poll_interval_seconds": 0.1},
        },
        "plugins": {
            "slack": {"enabled": True, "mode": "socket", "api_url": sandbox.slack.api_url},
            "x": {"enabled": True, "api_base": sandbox.x.base_url, "poll_interval": 15},
            "discord": {"enabled": True, "api_base": sandbox.discord.api_base,
                        "gateway_url": sandbox.discord.gateway_url},
            **(forum_settings({"reddit": sandbox.forums.reddit.base_url,
                               "discourse": sandbox.forums.discourse.base_url,
                               "shop_callback": sandbox.forums.webhook.callback_url("shop")})
               if sandbox.forums else {}),
            "mastodon": {"enabled": True, "api_base": sandbox.mastodon.base_url},
            "bluesky": {"enabled": True, "service": sandbox.bluesky.base_url, "poll_interval": 15},
            # Drafts in the reply form, from the sandbox's model endpoint (with the drafts extra installed).
            **({"drafts": {"enabled": True, "base_url": sandbox.openai.api_url, "model": "sandbox-chat",
                           "voice_notes": "Warm and brief. Never promise dates we do not know."}}
               if sandbox.openai is not None and importlib.util.find_spec("openai") else {}),
        },
    }


def render_toml(raw: dict[str, Any]) -> str:
    """A readable plugins.toml for the demo's working directory (two levels of tables)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    def table(name: str, body: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        nested = {k: v for k, v in body.items() if isinstance(v, dict)}
        lines.extend(f"{k} = {value(v)}" for k, v in body.items() if not isinstance(v, dict))
        lines.append("")
        for key, sub in nested.items():
            table(f"{name}.{key}", sub)

    table("desk", raw["desk"])
    for plugin, settings in raw["plugins"].items():
        table(f"plugins.{plugin}", settings)
    return "\n".join(lines)
