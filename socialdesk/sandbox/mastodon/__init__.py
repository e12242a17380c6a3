"""The Mastodon sandbox: ``MastodonEmulator``, an instance on 127.0.0.1 that Mastodon.py talks to.

Modules, one concept each: emulator (the server and its test/demo API), api (the REST
endpoints and the user stream's route), state (accounts, statuses, notifications,
idempotency keys, rendering as Mastodon's JSON), streaming (server-sent events),
auth (tokens and scopes), rate_limits (300 requests per 5 minutes, ``X-RateLimit-*``).
Mastodon's length counting is the plugin's (``socialdesk.plugins.mastodon.status_length``),
used here so both sides count alike.
"""

from socialdesk.sandbox.mastodon.emulator import MastodonEmulator

__all__ = ["MastodonEmulator"]
