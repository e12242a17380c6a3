"""Run as a separate process by ``test_sigkill.py``: a desk that drains its outbox and is
SIGKILLed by itself right after Bluesky answered a reply, before the desk records it.

argv[1] is a JSON object: database url and engine kwargs, the emulator's base URL, and the
test's (fake) time, so leases are written on the same clock as the test's.
The handle and app password come from the environment, as in production.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime
from typing import Any

from socialdesk.core.app import DeskApp
from socialdesk.core.config import parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.plugin_manager import build_plugin_manager
from socialdesk.core.platform import ReplyRequest, SentReply
from socialdesk.core.store.database import Database
from socialdesk.plugins.bluesky import replies


async def main(settings: dict[str, Any]) -> None:
    catalog = discover_plugins()
    config = parse_config({"plugins": {"bluesky": {"enabled": True, "service": settings["service"]}}}, catalog)
    now = datetime.fromisoformat(settings["now"])
    app = DeskApp(config, build_plugin_manager(catalog, config), Database(settings["url"], **settings["kwargs"]),
                  lambda: now)
    send = replies.send_reply

    async def send_then_die(runtime: Any, request: ReplyRequest) -> SentReply:
        sent = await send(runtime, request)  # Bluesky has the post and answered with its URI...
        print(json.dumps({"posted": sent.platform_id}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the desk dies before recording it
        raise AssertionError("unreachable")

    replies.send_reply = send_then_die  # type: ignore[assignment]
    import socialdesk.plugins.bluesky.plugin as plugin

    plugin.send_reply = send_then_die  # type: ignore[assignment]
    await app.outbox_runner("doomed").drain()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
