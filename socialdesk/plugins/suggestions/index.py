"""The in-memory TF-IDF index of one process, kept up to date from ``past_answer_vectors``.

The database is the truth: a replica reads the rows it has not seen yet (by id, a range
scan of the primary key) before each lookup, so an answer indexed on another replica is
suggested here too, and a form opening costs one small query, never a scan of the
tickets. Rows are grouped by language: a French conversation is only compared with
French ones. Inverse document frequencies are re-computed when a language's collection
has grown by a twentieth since they were last computed; in between, new terms get the
weight of a term seen once, so every cosine is computed with one consistent weighting.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.core.per_desk import PerDesk
from socialdesk.plugins.suggestions import store
from socialdesk.plugins.suggestions.vectors import idf, weight

if TYPE_CHECKING:
    from socialdesk.core.store.database import Database

NO_LANGUAGE = ""  # tickets the language plugin could not place are compared with each other
IDF_REFRESH_GROWTH = 0.05
# Terms in more than half of a language's conversations (with enough of them) carry almost
# no weight and the longest postings: skipping them keeps a lookup fast on a big desk.
COMMON_TERM_SHARE = 0.5
COMMON_TERM_MIN_DOCUMENTS = 20
MAX_CANDIDATES = 200
LOAD_BATCH = 2000
# Row ids are handed out before their transactions commit (PostgreSQL sequences): the
# settled mark never passes a row younger than this, so a slow commit is not skipped.
SETTLE_LAG = timedelta(minutes=2)


@dataclass
class _Collection:
    """The conversations of one language."""

    vectors: dict[int, dict[str, int]] = field(default_factory=dict)  # row id -> term counts
    postings: dict[str, set[int]] = field(default_factory=dict)  # term -> row ids
    weights_for: int = -1  # the collection size the idf below was computed for
    idf: dict[str, float] = field(default_factory=dict)
    unseen_idf: float = 1.0
    norms: dict[int, float] = field(default_factory=dict)

    def add(self, row_id: int, vector: Mapping[str, int]) -> None:
        self.vectors[row_id] = dict(vector)
        for term in vector:
            self.postings.setdefault(term, set()).add(row_id)

    def _weights(self) -> None:
        size = len(self.vectors)
        if self.weights_for >= 0 and size <= self.weights_for * (1 + IDF_REFRESH_GROWTH):
            return
        self.idf = {term: idf(size, len(rows)) for term, rows in self.postings.items()}
        self.unseen_idf = idf(size, 1)
        self.weights_for, self.norms = size, {}

    def _term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def _norm(self, row_id: int) -> float:
        found = self.norms.get(row_id)
        if found is None:
            vector = self.vectors[row_id]
            found = math.sqrt(sum(weight(c, self._term_idf(t)) ** 2 for t, c in vector.items()))
            self.norms[row_id] = found
        return found

    def search(self, query: Mapping[str, int], min_similarity: float,
               exclude: frozenset[int]) -> list[tuple[int, float]]:
        """(row id, cosine) of the rows at least ``min_similarity`` alike, best first."""
        if not query or not self.vectors:
            return []
        self._weights()
        size = len(self.vectors)
        query_weights = {t: weight(c, self._term_idf(t)) for t, c in query.items()}
        query_norm = math.sqrt(sum(w * w for w in query_weights.values()))
        dots: dict[int, float] = {}
        for term, query_weight in query_weights.items():
            rows = self.postings.get(term)
            if not rows or (size >= COMMON_TERM_MIN_DOCUMENTS and len(rows) > size * COMMON_TERM_SHARE):
                continue
            term_idf = self._term_idf(term)
            for row_id in rows:
                dots[row_id] = dots.get(row_id, 0.0) + query_weight * weight(self.vectors[row_id][term], term_idf)
        scored = ((row_id, dot / (query_norm * self._norm(row_id))) for row_id, dot in dots.items()
                  if row_id not in exclude)
        return heapq.nlargest(MAX_CANDIDATES, (s for s in scored if s[1] >= min_similarity), key=lambda s: s[1])


@dataclass
class IndexStats:
    """What the index has read, for tests and logs: ``rows_read`` grows by the new rows only."""

    reads: int = 0  # queries for new rows
    rows_read: int = 0


class AnswerIndex:
    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}
        self._seen: set[int] = set()
        self._settled_id = 0  # every row up to this id has been read
        self._lock = asyncio.Lock()
        self.stats = IndexStats()

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, row_id: int, language: str | None, vector: Mapping[str, int]) -> None:
        if row_id in self._seen:
            return
        self._seen.add(row_id)
        self._collections.setdefault(language or NO_LANGUAGE, _Collection()).add(row_id, vector)

    async def catch_up(self, database: Database, now: datetime) -> int:
        """Read the rows written since the last call (on any replica); returns how many were new."""
        async with self._lock:
            added = 0
            while True:
                rows = await store.vectors_after(database, self._settled_id, LOAD_BATCH)
                self.stats.reads += 1
                self.stats.rows_read += len(rows)
                settling = True
                for row in rows:
                    if row.id not in self._seen:
                        self.add(row.id, row.language, row.terms)
                        added += 1
                    settling = settling and row.indexed_at <= now - SETTLE_LAG
                    if settling:
                        self._settled_id = row.id
                if len(rows) < LOAD_BATCH or not settling:
                    return added

    def search(self, language: str | None, query: Mapping[str, int], min_similarity: float,
               exclude: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        collection = self._collections.get(language or NO_LANGUAGE)
        return collection.search(query, min_similarity, exclude) if collection else []


index_for: PerDesk[AnswerIndex] = PerDesk(lambda app: AnswerIndex())  # this process's index, one per desk
