"""An old answer made reusable: the old customer's names become ``{author}`` only where
they are whole words, the old ticket's ref ``{ticket}``."""

from __future__ import annotations

from socialdesk.plugins.suggestions.templating import with_variables
from socialdesk.plugins.suggestions.vectors import cosine, terms


def test_names_are_replaced_as_whole_words_only() -> None:
    text = "Hi @Jo_Smith! jo_smith, Jo Smith here: @jo_smithers and jo_smith2 are someone else. #12 not #123"
    assert with_variables(text, handle="jo_smith", display_name="Jo Smith", ticket_ref="#12") == (
        "Hi {author}! {author}, {author} here: @jo_smithers and jo_smith2 are someone else. {ticket} not #123")


def test_a_one_letter_name_is_left_alone_but_its_handle_is_not() -> None:
    assert with_variables("Hi @a, a refund is on its way", handle="a", display_name="A",
                          ticket_ref="#1") == "Hi {author}, a refund is on its way"


def test_without_an_author_only_the_ref_changes() -> None:
    assert with_variables("See #7.", handle=None, display_name=None, ticket_ref="#7") == "See {ticket}."


def test_terms_fold_case_links_handles_and_numbers() -> None:
    assert terms(["@Acme my ORDER 123 https://x.co/a never came"]) == terms(["@other my order 9 http://y.z never came"])
    a, b = terms(["my order never arrived"]), terms(["where is my parcel"])
    assert cosine(a, a, 2, {t: 1 for t in a}) > 0.999 and 0 < cosine(a, b, 2, {"my": 2}) < 0.5
