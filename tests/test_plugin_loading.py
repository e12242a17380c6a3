"""A built-in plugin's module (and the client library it imports) loads only when the
plugin is enabled, configured or inspected: a replica carries no disabled platform's
library (atproto alone is about 48 MiB)."""

from __future__ import annotations

import subprocess
import sys

PLATFORM_LIBRARIES = ("atproto", "mastodon", "discord", "tweepy", "asyncpraw")


def _loaded_after(code: str) -> list[str]:
    probe = ("import sys\n"
             "from socialdesk.core.config import parse_config\n"
             "from socialdesk.core.plugin_catalog import discover_plugins\n"
             "from socialdesk.core.plugin_manager import build_plugin_manager\n"
             "catalog = discover_plugins()\n"
             f"{code}\n"
             f"print(sorted(m for m in {PLATFORM_LIBRARIES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(done.stdout.splitlines()[-1])  # noqa: S307  (our own probe's list literal)


def test_disabled_platforms_load_no_client_library() -> None:
    assert _loaded_after("build_plugin_manager(catalog, parse_config({}, catalog))") == []


def test_an_enabled_platform_loads_its_library_and_only_its_own() -> None:
    assert _loaded_after(
        "build_plugin_manager(catalog, parse_config({'plugins': {'mastodon': {'enabled': True, "
        "'api_base': 'https://mastodon.example'}}}, catalog))") == ["mastodon"]


def test_a_disabled_plugins_settings_are_still_checked() -> None:
    """A table written for a disabled plugin is validated (and loads the plugin to do it)."""
    assert _loaded_after(
        "from socialdesk.core.config import ConfigError\n"
        "try:\n"
        "    parse_config({'plugins': {'bluesky': {'enabled': False, 'no_such_key': 1}}}, catalog)\n"
        "except ConfigError as exc:\n"
        "    assert 'no_such_key' in str(exc.lines()), exc.lines()\n"
        "else:\n"
        "    raise SystemExit('accepted an unknown key')") == ["atproto"]


def test_listing_plugins_still_describes_the_disabled_ones() -> None:
    from socialdesk.core.plugin_catalog import discover_plugins
    from socialdesk.core.plugin_manager import hooks_implemented

    hooks = hooks_implemented(discover_plugins())
    assert "socialdesk_send_reply" in hooks["bluesky"] and "socialdesk_send_reply" in hooks["mastodon"]
