"""py3langid's model, held in about a third of the memory py3langid's own loader takes.

py3langid finds its byte n-gram features with a DFA (Aho-Corasick, every transition
spelled out): 38,346 distinct rows of 256 next states as 32-bit integers (37 MiB), plus a
row index and an output per state as Python lists (8 MiB). The DFA's state after reading a
text is the trie node of the longest suffix of that text that is a prefix of some feature
(at most 6 bytes), and its output is that node's feature, so a dictionary from each node's
bytes to its feature gives exactly the same counts: at each position, the longest of the
six trailing slices that is a node. That dictionary is ~13 MiB. The naive Bayes table
(float16, 27 MiB) is kept as it is, and shared by every set of candidate languages.

The scoring, normalisation and candidate restriction are py3langid's own
(``LanguageIdentifier``); only the feature counting is replaced. ``tests/triage/
test_language_model.py`` checks that the counts and verdicts equal py3langid's on real
tweets in eight languages and on random bytes.
"""

from __future__ import annotations

import lzma
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and py3langid are imported when the model is first loaded
    import numpy as np
    from py3langid.langid import LanguageIdentifier

# The deepest node of py3langid's feature trie (checked when the model is read).
MAX_NODE_BYTES = 8
_CHUNK = 4096
_BYTES = [bytes((b,)) for b in range(256)]


@dataclass(frozen=True, slots=True)
class FeatureNodes:
    """Every trie node of the DFA: its bytes -> the feature counted when a text's longest
    node-suffix is this node (-1: none)."""

    outputs: dict[bytes, int]
    longest: int

    def counts(self, text: bytes) -> Counter[int] | None:
        """{feature index: occurrences} in ``text``, as py3langid's DFA walk counts them."""
        outputs, longest = self.outputs, self.longest
        found: list[int] = []
        length = 0  # of the node ending at the previous byte
        for end in range(1, len(text) + 1):
            # The node ending here is at most one byte longer than the previous one (drop
            # its last byte and it is a node ending there): try the longest first.
            length = min(length + 1, longest)
            while length:
                feature = outputs.get(text[end - length:end])
                if feature is not None:
                    if feature >= 0:
                        found.append(feature)
                    break
                length -= 1
        return Counter(found) if found else None


def feature_nodes(rows: np.ndarray, row_of_state: np.ndarray, output: np.ndarray) -> FeatureNodes:
    """Recover each DFA state's bytes by a breadth-first walk from the start state: the
    first time a state is reached, the path is its trie node (no shorter text reaches it)."""
    import numpy as np

    rows = rows.reshape(-1, 256)
    depth = np.full(len(row_of_state), -1, dtype=np.int32)
    depth[0] = 0
    spelled: list[bytes] = [b""] * len(row_of_state)
    frontier = np.array([0], dtype=np.int64)
    level = 0
    while len(frontier):
        level += 1
        if level > MAX_NODE_BYTES:
            raise ValueError(f"language model: trie deeper than {MAX_NODE_BYTES} bytes")
        reached_now: list[np.ndarray] = []
        for chunk in range(0, len(frontier), _CHUNK):  # bounded temporaries (a few MiB)
            parents = frontier[chunk:chunk + _CHUNK]
            targets = rows[row_of_state[parents]]  # parents x 256 bytes
            origin, byte = np.nonzero(depth[targets] == -1)
            reached, first = np.unique(targets[origin, byte], return_index=True)
            depth[reached] = level  # any parent at this depth spells the same bytes
            for state, parent, last in zip(reached.tolist(), parents[origin[first]].tolist(),
                                           byte[first].tolist()):
                spelled[state] = spelled[parent] + _BYTES[last]
            reached_now.append(reached)
        frontier = np.concatenate(reached_now) if reached_now else np.array([], dtype=np.int64)
    if (depth < 0).any():
        raise ValueError("language model: states the start state never reaches")
    outputs = dict(zip(spelled[1:], output[1:].tolist()))
    return FeatureNodes(outputs, int(depth.max()))


def _identifier_class() -> type[LanguageIdentifier]:
    from py3langid.langid import LanguageIdentifier

    class CompactIdentifier(LanguageIdentifier):  # type: ignore[misc]
        """py3langid's identifier counting features with ``FeatureNodes``."""

        __slots__ = ("nodes",)

        def _raw_score(self, text: bytes) -> Any:
            import numpy as np

            visits = self.nodes.counts(text)
            if visits:
                return self._sparse_score(visits, self.nb_ptc)
            fill = 0.0 if self._norm_probs else float(np.finfo(np.float32).min)
            return np.full(len(self.nb_classes), fill, dtype=np.float32)

    return CompactIdentifier


@dataclass(frozen=True, slots=True)
class BaseModel:
    nb_ptc: Any
    nb_pc: Any
    labels: tuple[str, ...]
    nodes: FeatureNodes


@cache
def base_model() -> BaseModel:
    """The shipped model, read once per process (about a second) and only read afterwards."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    # Unpacked to a temporary file (as py3langid does), so that each array is read once and
    # the DFA's transient arrays are gone before the table is read.
    with tempfile.TemporaryFile(suffix=".npz") as unpacked:
        with lzma.open(MODEL_DIR / MODEL_FILE) as packed:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
        unpacked.seek(0)
        with np.load(unpacked, allow_pickle=False) as data:
            nodes = feature_nodes(data["nextmove"], data["nextmove_row"], data["out_feat"])
            return BaseModel(np.asarray(data["ptc"]), np.asarray(data["pc"]), tuple(data["classes"].tolist()),
                             nodes)


@cache
def identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """An identifier over ``languages`` (every language for ``()``), normalised
    probabilities; all of them share the base model's arrays."""
    model = base_model()
    found = _identifier_class()(model.nb_ptc, model.nb_pc, list(model.labels), None, None, norm_probs=True,
                                tk_row=())
    found.nodes = model.nodes
    if languages:
        found.set_languages(list(languages))
    return found


def known_languages() -> frozenset[str]:
    return frozenset(base_model().labels)
