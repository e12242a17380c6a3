"""The Bluesky (AT Protocol) sandbox: ``BlueskyEmulator`` and what configures it.

Modules, one concept each: emulator (the server and its test/demo API), xrpc (the
methods, their parameters and checks), network (accounts, posts, who is notified),
sessions (app-password logins, access/refresh JWTs), rate_limits (the PDS's limits and
``RateLimit-*`` headers), ids (DIDs, TIDs, CIDs, at:// URIs), errors (XRPC error
bodies). Bluesky's length counting is the plugin's (``socialdesk.plugins.bluesky.post_length``),
used here so both count alike.
"""

from socialdesk.sandbox.bluesky.emulator import BlueskyEmulator
from socialdesk.sandbox.bluesky.rate_limits import Limit, RateLimits
from socialdesk.sandbox.bluesky.sessions import SessionSettings

__all__ = ["BlueskyEmulator", "Limit", "RateLimits", "SessionSettings"]
