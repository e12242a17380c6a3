"""Near-duplicate clustering of recent mentions: MinHash over word shingles, in a sliding window.

A mention's text is normalised (case, accents, links, @handles and numbers folded away,
so "order 48213" and "order 99120" read the same), cut into overlapping word shingles
and summarised as a MinHash signature (``datasketch``). An LSH index over the signatures
finds the earlier mentions whose estimated Jaccard similarity reaches the threshold
without comparing against every one of them.

A *storm* is declared when such a cluster holds ``min_authors`` different people inside
the window; one person repeating themselves is not a storm. The storm's key is derived
from its founding (earliest) mention, so the same storm always gets the same key: after
a restart the index is rebuilt from the store with each message's storm key, and new
mentions join the storm that already exists.

Memory is bounded twice: entries older than the window (measured from the newest
mention seen) are dropped, and at most ``max_entries`` are kept (oldest dropped first).
Not thread-safe: one desk triages on one event loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # datasketch (with numpy and scipy) is imported when the first index is built
    from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
# Members of one storm kept in the LSH index: enough for any near text to find the storm,
# few enough that a storm of thousands does not make every lookup return thousands.
STORM_SAMPLE = 32
TITLE_CHARS = 500

_LINK = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)[@#]\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"\w+")

Key = tuple[str, str]  # (platform, external_id)


def normalise(text: str) -> list[str]:
    """The words of ``text`` that say what happened, without who or which order number."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _LINK.sub(" ", plain)
    plain = _HANDLE.sub(" ", plain)
    plain = _NUMBER.sub(" 0 ", plain)
    return _WORD.findall(plain)


def shingles(words: list[str], size: int) -> set[bytes]:
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


@dataclass(frozen=True, slots=True)
class StormVerdict:
    """What the index says about one mention: part of which storm, if any."""

    storm_key: str | None = None
    title: str | None = None
    members: tuple[tuple[str, str], ...] = ()  # (platform, conversation_id) linked on declaration


@dataclass(slots=True)
class Entry:
    key: Key
    conversation_id: str
    author: str | None  # None for an incident's title (counts as no one)
    at: datetime
    signature: MinHash
    text: str
    storm_key: str | None = None


@dataclass
class StormIndex:
    window: timedelta
    similarity: float
    min_authors: int
    max_entries: int
    shingle_words: int = 2
    min_words: int = 4
    max_candidates: int = 256  # comparisons per mention at most
    _entries: OrderedDict[Key, Entry] = field(default_factory=OrderedDict)
    _titles: OrderedDict[str, str] = field(default_factory=OrderedDict)  # storm key -> its founding text
    _lsh: MinHashLSH | None = None
    _newest: datetime | None = None
    _indexed: set[Key] = field(default_factory=set)  # entries in the LSH index
    _sampled: Counter[str] = field(default_factory=Counter)  # storm key -> its members in the LSH index
    _empty: MinHash | None = None

    def __post_init__(self) -> None:
        from datasketch import MinHash, MinHashLSH  # ~40 MiB: only once storms are being looked for

        self._lsh = MinHashLSH(threshold=self.similarity, num_perm=NUM_PERM)
        self._empty = MinHash(num_perm=NUM_PERM)  # copied: cheaper than making permutations each time

    def __len__(self) -> int:
        return len(self._entries)

    def signature(self, text: str) -> MinHash | None:
        """The MinHash of ``text``, or None when it is too short to compare meaningfully."""
        words = normalise(text)
        if len(words) < self.min_words:
            return None
        assert self._empty is not None
        signature = self._empty.copy()
        signature.update_batch(sorted(shingles(words, self.shingle_words)))
        return signature

    def add(self, key: Key, conversation_id: str, author: str | None, at: datetime, text: str,
            storm_key: str | None = None) -> StormVerdict:
        """Index one mention and say whether it belongs to a storm (idempotent per ``key``)."""
        known = self._entries.get(key)
        if known is not None:
            if known.storm_key is None:
                return StormVerdict()
            return StormVerdict(known.storm_key, self._titles.get(known.storm_key) or _title(known.text))
        signature = self.signature(text)
        if signature is None:
            return StormVerdict()
        self._expire(at)
        if self._newest is not None and at < self._newest - self.window:
            return StormVerdict()  # older than anything a live storm could contain
        near = self._near(key[0], signature, at)
        entry = Entry(key, conversation_id, author, at, signature, text, storm_key)
        if storm_key is None:
            verdict = self._judge(entry, near)
        else:  # rebuilt from the store: already part of this storm
            verdict = StormVerdict(storm_key, self._titles.setdefault(storm_key, _title(text)))
        self._insert(entry)
        return verdict

    def _near(self, platform: str, signature: MinHash, at: datetime) -> list[Entry]:
        """The indexed mentions near ``signature``: every one outside a storm (they may need
        linking), but one verified member per storm is enough to join it, which keeps a
        storm of thousands from costing thousands of comparisons per mention."""
        assert self._lsh is not None
        found: list[Entry] = []
        storms_seen: set[str] = set()
        checked = 0
        for candidate_key in self._lsh.query(signature):
            entry = self._entries.get(candidate_key)
            if entry is None or entry.key[0] != platform or abs(entry.at - at) > self.window:
                continue
            if entry.storm_key is not None and entry.storm_key in storms_seen:
                continue
            if checked >= self.max_candidates:
                break
            checked += 1
            # LSH proposes candidates; the signature estimate decides.
            if entry.signature.jaccard(signature) >= self.similarity:
                found.append(entry)
                if entry.storm_key is not None:
                    storms_seen.add(entry.storm_key)
        return found

    def _judge(self, entry: Entry, near: list[Entry]) -> StormVerdict:
        storms = sorted((e for e in near if e.storm_key), key=lambda e: (e.at, e.key))
        if storms:  # an existing storm: join it (the oldest, if the text is near two)
            storm_key = storms[0].storm_key
            assert storm_key is not None
            return self._declare(storm_key, entry, near, self._titles.get(storm_key) or _title(storms[0].text))
        authors = {e.author for e in near if e.author is not None}
        if entry.author is not None:
            authors.add(entry.author)
        if len(authors) < self.min_authors:
            return StormVerdict()
        cluster = sorted([*near, entry], key=lambda e: (e.at, e.key))
        founder = cluster[0]
        return self._declare(f"storm:{founder.key[0]}:{founder.key[1]}", entry, near, _title(founder.text))

    def _declare(self, storm_key: str, entry: Entry, near: list[Entry], title: str) -> StormVerdict:
        """``entry`` joins the storm, with the near mentions not yet in one (their tickets get linked)."""
        joining = [e for e in near if e.storm_key is None and e.author is not None]
        for member in (*joining, entry):
            member.storm_key = storm_key
            if member.key in self._indexed:
                self._sampled[storm_key] += 1
        self.remember_title(storm_key, title)
        members = tuple(dict.fromkeys((e.key[0], e.conversation_id) for e in joining))
        return StormVerdict(storm_key, title, members)

    def remember_title(self, storm_key: str, title: str) -> None:
        self._titles[storm_key] = title
        self._titles.move_to_end(storm_key)
        while len(self._titles) > self.max_entries:
            self._titles.popitem(last=False)

    def _insert(self, entry: Entry) -> None:
        assert self._lsh is not None
        self._entries[entry.key] = entry
        if entry.storm_key is None or self._sampled[entry.storm_key] < STORM_SAMPLE:
            self._lsh.insert(entry.key, entry.signature, check_duplication=False)
            self._indexed.add(entry.key)
            if entry.storm_key is not None:
                self._sampled[entry.storm_key] += 1
        if self._newest is None or entry.at > self._newest:
            self._newest = entry.at
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def _expire(self, at: datetime) -> None:
        """Drop entries that fell out of the window (the front is roughly the oldest)."""
        newest = max(at, self._newest) if self._newest else at
        horizon = newest - self.window
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.at >= horizon:
                break
            self._drop(oldest.key)

    def _drop(self, key: Key) -> None:
        assert self._lsh is not None
        entry = self._entries.pop(key, None)
        if key in self._indexed:
            self._indexed.discard(key)
            self._lsh.remove(key)
            if entry is not None and entry.storm_key is not None:
                self._sampled[entry.storm_key] -= 1
                if self._sampled[entry.storm_key] <= 0:
                    del self._sampled[entry.storm_key]


def _title(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= TITLE_CHARS else shown[:TITLE_CHARS - 1] + "…"
