"""The X (Twitter) API v2 sandbox: ``XEmulator`` and what configures it.

Modules, one concept each: emulator (the server and its test/demo API), api (the
endpoints), timeline (accounts and posts), fields (field selection and expansions),
query (search query language), pagination, params (query-parameter checks),
create_request (POST /2/tweets body checks), auth + oauth1 (who is calling),
rate_limits, problems (X's error bodies), lost_responses (answers dropped after
processing), entities (t.co links, mentions, hashtags), ids (snowflakes), language
(``lang`` guesses). X's length counting (twitter-text) is the X plugin's:
``socialdesk.plugins.x.weighted_length``, used here so both count alike.
"""

from socialdesk.sandbox.x.api import ApiSettings
from socialdesk.sandbox.x.auth import PUBLIC_ORIGINS, AppCredentials, UserCredentials
from socialdesk.sandbox.x.emulator import XEmulator
from socialdesk.sandbox.x.rate_limits import DEFAULT_LIMITS, Limit, RateLimits
from socialdesk.plugins.x.weighted_length import MAX_WEIGHTED_LENGTH, weighted_length

__all__ = [
    "DEFAULT_LIMITS", "MAX_WEIGHTED_LENGTH", "PUBLIC_ORIGINS", "ApiSettings", "AppCredentials", "Limit",
    "RateLimits", "UserCredentials", "XEmulator", "weighted_length",
]
