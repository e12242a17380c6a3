"""MinHash clustering: near-duplicates from different people cluster, nothing else does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from socialdesk.plugins.storms.index import StormIndex, normalise

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
COMPLAINT = "@acme my order {n} never arrived and nobody answers the support chat, what is going on?"


def index(**overrides: object) -> StormIndex:
    settings = {"window": timedelta(minutes=10), "similarity": 0.6, "min_authors": 3, "max_entries": 1000}
    settings.update(overrides)
    return StormIndex(**settings)  # type: ignore[arg-type]


def add(ix: StormIndex, n: int, author: str, *, text: str | None = None, at: datetime | None = None):  # type: ignore[no-untyped-def]
    return ix.add(("x", f"m{n}"), f"c{n}", author, at or T0 + timedelta(seconds=n),
                  text or COMPLAINT.format(n=40000 + n))


def test_normalising_folds_handles_links_numbers_case_and_accents() -> None:
    assert normalise("@Acme Ordér #4411 NEVER arrived https://t.co/x") == ["order", "never", "arrived"]
    assert normalise("order 12,50 and 99") == ["order", "0", "and", "0"]


def test_near_duplicates_from_different_people_become_one_storm_with_the_earlier_members_linked() -> None:
    ix = index()
    assert add(ix, 1, "ann").storm_key is None
    assert add(ix, 2, "bob", text="@acme My order 55512 never arrived and nobody answers the support chat!!").storm_key is None
    third = add(ix, 3, "cat")
    assert third.storm_key == "storm:x:m1"  # named after its founding mention
    assert set(third.members) == {("x", "c1"), ("x", "c2")}
    assert third.title and third.title.startswith("@acme my order 40001")
    fourth = add(ix, 4, "dan")
    assert fourth.storm_key == "storm:x:m1" and fourth.members == ()  # already linked ones are not repeated


def test_one_person_repeating_themselves_is_not_a_storm() -> None:
    ix = index()
    verdicts = [add(ix, n, "ann") for n in range(1, 8)]
    assert all(v.storm_key is None for v in verdicts)
    # two people, however often, are not enough either
    assert add(ix, 8, "bob").storm_key is None
    assert add(ix, 9, "cat").storm_key == "storm:x:m1"


def test_unrelated_texts_do_not_cluster() -> None:
    ix = index()
    texts = ["I love the new dark mode in the app, great work",
             "How do I change the e-mail address on my account?",
             "Your store in Berlin was closed today although the website says open",
             "Is there a student discount for the yearly plan?"]
    assert all(add(ix, n, f"p{n}", text=t).storm_key is None for n, t in enumerate(texts))
    assert add(ix, 10, "ann").storm_key is None  # the complaint itself has no kin yet


def test_short_texts_never_start_a_storm() -> None:
    ix = index()
    assert all(add(ix, n, f"p{n}", text="thanks!").storm_key is None for n in range(5))
    assert len(ix) == 0


def test_mentions_outside_the_window_do_not_count() -> None:
    ix = index(window=timedelta(minutes=10))
    add(ix, 1, "ann", at=T0)
    add(ix, 2, "bob", at=T0 + timedelta(minutes=1))
    # the third person writes 20 minutes later: the first two have expired
    assert add(ix, 3, "cat", at=T0 + timedelta(minutes=21)).storm_key is None
    assert len(ix) == 1
    assert add(ix, 4, "dan", at=T0 + timedelta(minutes=22)).storm_key is None
    assert add(ix, 5, "eve", at=T0 + timedelta(minutes=23)).storm_key == "storm:x:m3"


def test_memory_is_bounded_by_max_entries() -> None:
    ix = index(max_entries=100)
    for n in range(300):
        add(ix, n, f"p{n}", text=f"unrelated words number {n} " + " ".join(f"w{n}x{k}" for k in range(6)))
    assert len(ix) == 100


def test_the_same_mention_asked_twice_gets_the_same_answer() -> None:
    ix = index()
    for n, who in enumerate(("ann", "bob", "cat"), 1):
        add(ix, n, who)
    again = add(ix, 3, "cat")
    assert again.storm_key == "storm:x:m1" and again.members == ()
    assert len(ix) == 3


def test_rebuilt_entries_keep_their_storm_and_new_mentions_join_it() -> None:
    ix = index()
    ix.add(("x", "m1"), "c1", "ann", T0, COMPLAINT.format(n=1), "storm:x:m1")
    assert add(ix, 2, "bob").storm_key == "storm:x:m1"  # no need to count authors again


def test_a_storm_on_another_platform_is_another_storm() -> None:
    ix = index()
    for n, who in enumerate(("ann", "bob", "cat"), 1):
        add(ix, n, who)
    other = ix.add(("discord", "d1"), "dc1", "dave", T0, COMPLAINT.format(n=7))
    assert other.storm_key is None


def test_a_long_storm_keeps_one_key_and_a_bounded_lookup_sample() -> None:
    from socialdesk.plugins.storms.index import STORM_SAMPLE

    ix = index(window=timedelta(minutes=1))
    keys = {add(ix, n, f"p{n}", at=T0 + timedelta(seconds=n)).storm_key for n in range(600)}  # ten minutes
    assert keys == {None, "storm:x:m0"}  # the first two, then the storm, which outlives its founders
    assert len(ix._indexed) <= STORM_SAMPLE + 2
    assert len(ix) <= 61  # one minute of mentions
