"""The id a button or menu option carries: digits only, no longer than any id."""

from __future__ import annotations

from socialdesk.core.slack.interaction import id_in


def test_an_id_is_read_only_from_plain_bounded_digits() -> None:
    assert id_in("42") == 42 and id_in(42) == 42
    assert id_in("999999999999") == 999_999_999_999  # twelve digits
    for not_an_id in (None, "", "-1", "4 2", "42x", "1e3", "1" * 13):
        assert id_in(not_an_id) is None
