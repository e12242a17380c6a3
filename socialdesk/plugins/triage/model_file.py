"""The learned triage model: plain arrays in one ``.npz`` file, and prediction with numpy.

A model file holds only numbers and strings, read with ``allow_pickle=False``: loading a
file never runs code, whoever made it. Its members:

* ``vocabulary``  feature names (:func:`socialdesk.plugins.triage.text_features.analyse`)
* ``idf``         inverse document frequency of each feature (float32)
* ``weights``     one row per feature, then one per dense feature (VADER's four scores);
                  one column per (head, label)
* ``bias``        one per column
* ``meta``        UTF-8 JSON: format, name, heads and their labels, dense features, how it
                  was trained and its held-out figures

Every head is a softmax over its labels (a binary head is stored as two columns), so one
sparse dot product scores all heads at once. The vector is TF-IDF with sublinear term
frequency, L2-normalised, as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialdesk.plugins.triage.text_features import bigrams, token_features, words

FORMAT = 1
MEMBERS = ("vocabulary", "idf", "weights", "bias", "meta")
DENSE_FEATURES = ("vader_compound", "vader_negative", "vader_neutral", "vader_positive")
# Where the base model ships: inside the package, next to its data card.
BASE_MODEL_PATH = Path(__file__).with_name("base_model.npz")
BASE_DATA_CARD_PATH = Path(__file__).with_name("base_model.card.md")
FIX = "run `socialdesk triage train` to rebuild it"
# Words whose feature indices a model remembers. Most of a mention's features are a word's
# own (the word and its character n-grams): remembering them per word spares a dictionary
# lookup per n-gram. Bounded (emptied when full): a flood of made-up words costs at most
# a few MB.
TOKEN_CACHE_SIZE = 20_000


class ModelFileError(Exception):
    """A model file that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class HeadSpec:
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prediction:
    """Probabilities per head and label: ``probabilities["category"]["billing"]``."""

    probabilities: dict[str, dict[str, float]]

    def best(self, head: str) -> tuple[str, float]:
        probs = self.probabilities[head]
        label = max(probs, key=probs.__getitem__)
        return label, probs[label]

    def p(self, head: str, label: str) -> float:
        return self.probabilities[head][label]


def vader_scores(text: str) -> np.ndarray:
    """VADER's compound, negative, neutral and positive scores: the model's dense features."""
    from socialdesk.plugins.triage.sentiment import MAX_CHARS, polarity

    return np.array(polarity(text[:MAX_CHARS]), dtype=np.float32)


@dataclass(slots=True)
class TriageModel:
    vocabulary: list[str]
    idf: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    meta: dict[str, Any]
    heads: tuple[HeadSpec, ...] = ()
    _index: dict[str, int] = field(default_factory=dict)
    _slices: dict[str, slice] = field(default_factory=dict)
    _tokens: dict[str, np.ndarray] = field(default_factory=dict)
    _empty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    _head_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    _column_head: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    def __post_init__(self) -> None:
        self.heads = tuple(HeadSpec(h["name"], tuple(h["labels"])) for h in self.meta["heads"])
        self._index = {name: i for i, name in enumerate(self.vocabulary)}
        start = 0
        for head in self.heads:
            self._slices[head.name] = slice(start, start + len(head.labels))
            start += len(head.labels)
        sizes = [len(head.labels) for head in self.heads]
        self._head_starts = np.cumsum([0, *sizes[:-1]]).astype(np.intp)
        self._column_head = np.repeat(np.arange(len(sizes)), sizes)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "unnamed"))

    # --- prediction ----------------------------------------------------------------------

    def _token_indices(self, token: str) -> np.ndarray:
        found = self._tokens.get(token)
        if found is None:
            index = self._index
            found = np.array([i for i in map(index.get, token_features(token)) if i is not None], dtype=np.int32)
            if len(self._tokens) >= TOKEN_CACHE_SIZE:
                self._tokens.clear()
            self._tokens[token] = found
        return found

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, TF-IDF values, L2-normalised) of the features this model knows:
        the same vector as :func:`~socialdesk.plugins.triage.text_features.analyse` gives."""
        tokens = words(text)
        index = self._index
        parts = [np.array([i for i in map(index.get, bigrams(tokens)) if i is not None], dtype=np.int32)]
        parts += [self._token_indices(t) for t in tokens]
        known = np.concatenate(parts) if parts else self._empty
        if not len(known):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # np.unique(return_counts=True), without its general-case overhead (a mention has ~100 features)
        known.sort()
        new = np.empty(len(known), dtype=bool)
        new[0] = True
        np.not_equal(known[1:], known[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        idx, tf = known[starts], np.diff(starts, append=len(known))
        values = (1.0 + np.log(tf, dtype=np.float32)) * self.idf[idx]
        norm = math.sqrt(float(np.dot(values, values)))
        return idx, values / norm if norm else values

    def scores(self, text: str) -> np.ndarray:
        idx, values = self.features(text)
        vocab_size = len(self.vocabulary)
        dense = vader_scores(text)
        return values @ self.weights[idx] + dense @ self.weights[vocab_size:] + self.bias

    def predict(self, text: str) -> Prediction:
        raw = self.scores(text).astype(np.float64)
        # Every head's softmax at once: per-head maximum and sum over its own columns.
        z = np.exp(raw - np.maximum.reduceat(raw, self._head_starts)[self._column_head])
        probabilities = (z / np.add.reduceat(z, self._head_starts)[self._column_head]).tolist()
        return Prediction({head.name: dict(zip(head.labels, probabilities[self._slices[head.name]]))
                           for head in self.heads})

    # --- files ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, vocabulary=np.array(self.vocabulary, dtype=np.str_), idf=self.idf.astype(np.float32),
            weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
            meta=np.frombuffer(json.dumps(self.meta, sort_keys=True).encode("utf-8"), dtype=np.uint8))
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_bytes(self.to_bytes())
        temporary.replace(path)  # a reader never sees half a file


def model_from_bytes(data: bytes, source: str) -> TriageModel:
    """Read a model; ``source`` names it in errors ("/path/base_model.npz", "desk model 3")."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            missing = [m for m in MEMBERS if m not in archive.files]
            if missing:
                raise ModelFileError(f"{source}: not a triage model (missing {', '.join(missing)}); {FIX}")
            arrays = {m: archive[m] for m in MEMBERS}
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    except ModelFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError, KeyError) as exc:
        raise ModelFileError(f"{source}: unreadable triage model ({type(exc).__name__}: {exc}); {FIX}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{source}: model format {meta.get('format') if isinstance(meta, dict) else '?'} "
                             f"is not {FORMAT}; {FIX}")
    vocabulary = [str(v) for v in arrays["vocabulary"].tolist()]
    columns = sum(len(h["labels"]) for h in meta["heads"])
    rows = len(vocabulary) + len(meta.get("dense", DENSE_FEATURES))
    shapes_ok = (arrays["idf"].shape == (len(vocabulary),) and arrays["weights"].shape == (rows, columns)
                 and arrays["bias"].shape == (columns,))
    finite = all(np.isfinite(arrays[m]).all() for m in ("idf", "weights", "bias"))
    if not shapes_ok or not finite:
        raise ModelFileError(f"{source}: corrupt triage model (array shapes or values do not fit); {FIX}")
    return TriageModel(vocabulary, arrays["idf"].astype(np.float32), arrays["weights"].astype(np.float32),
                       arrays["bias"].astype(np.float32), meta)


def load_model_file(path: Path) -> TriageModel:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: triage model file not found; {FIX}") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the triage model ({exc.strerror}); {FIX}") from None
    return model_from_bytes(data, str(path))


def softmax_columns(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A scikit-learn linear classifier as softmax columns: a binary one's single column
    ``w`` becomes ``(-w/2, w/2)``, whose softmax is the logistic ``sigmoid(w)``."""
    if coef.shape[0] == 1:
        half, bias = coef[0] / 2, intercept[0] / 2
        return np.stack([-half, half], axis=1), np.array([-bias, bias])
    return coef.T, intercept
