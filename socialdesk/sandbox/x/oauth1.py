"""OAuth 1.0a HMAC-SHA1 signatures (RFC 5849), checked the way a server checks them.

Written from the RFC rather than with oauthlib, which is what tweepy signs with: two
independent implementations agreeing is the point of the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qsl, quote, unquote

_PARAM = re.compile(r'([A-Za-z0-9_]+)\s*=\s*"([^"]*)"')


def percent_encode(value: str) -> str:
    """RFC 5849 section 3.6: everything but ALPHA, DIGIT, '-', '.', '_', '~' is encoded."""
    return quote(value, safe="~")


def parse_authorization(header: str) -> dict[str, str] | None:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth ...`` header, decoded."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "oauth":
        return None
    return {name: unquote(value) for name, value in _PARAM.findall(rest) if name != "realm"}


def base_string(method: str, base_uri: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 section 3.4.1: METHOD & base-URI & normalised parameters."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join((method.upper(), percent_encode(base_uri), percent_encode(normalized)))


def hmac_sha1(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def signed_parameters(oauth: dict[str, str], raw_query: str, form_body: str | None) -> list[tuple[str, str]]:
    """Every parameter the signature covers: the header's (but the signature), the query's, a form body's."""
    params = [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
    params += parse_qsl(raw_query, keep_blank_values=True)
    if form_body:
        params += parse_qsl(form_body, keep_blank_values=True)
    return params


def signature_matches(expected_signature: str, method: str, base_uris: list[str], params: list[tuple[str, str]],
                      consumer_secret: str, token_secret: str) -> bool:
    """True when the signature was made for one of ``base_uris`` with these secrets."""
    expected = expected_signature.encode()
    return any(
        hmac.compare_digest(hmac_sha1(base_string(method, uri, params), consumer_secret, token_secret).encode(), expected)
        for uri in base_uris
    )
