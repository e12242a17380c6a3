"""Contract: our Standard Webhooks signing against the spec's test vector
(/work/shared/specs/standard-webhooks/NOTE.md, from the reference library's tests)."""

from __future__ import annotations

from socialdesk.core.push.signatures import (
    standard_secret_key,
    standard_signature,
    standard_signature_valid,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signing_matches_the_spec_vector():
    assert standard_signature(standard_secret_key(SECRET), MESSAGE_ID, TIMESTAMP, BODY) == SIGNATURE


def test_verification_accepts_any_listed_v1_signature_and_nothing_else():
    key = standard_secret_key(SECRET)
    assert standard_signature_valid(key, MESSAGE_ID, TIMESTAMP, BODY, SIGNATURE)
    # Several signatures (a secret being rotated): one valid is enough.
    assert standard_signature_valid(key, MESSAGE_ID, TIMESTAMP, BODY, "v1,Zm9v " + SIGNATURE)
    assert not standard_signature_valid(key, MESSAGE_ID, TIMESTAMP + 1, BODY, SIGNATURE)
    assert not standard_signature_valid(key, MESSAGE_ID, TIMESTAMP, BODY + b" ", SIGNATURE)
    assert not standard_signature_valid(key, MESSAGE_ID, TIMESTAMP, BODY, SIGNATURE.replace("v1,", "v1a,"))
    assert not standard_signature_valid(key, MESSAGE_ID, TIMESTAMP, BODY, "")
