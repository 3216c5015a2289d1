"""Classifying comments into the kinds of :mod:`.taxonomy`, with a confidence.

A multinomial logistic regression over three views of each comment, trained when the classifier is built on the
kinds' prototypes (name, definition, example phrasings) and the labelled reference comments (``data/reference.tsv``
— the tune part of the development set and tests/data/painpoints_tune_extra.tsv — plus the examples of kinds a
supervisor promoted):

- its sentence embedding (:mod:`.embedding`), centred on the training mean and re-normalised (e5's embeddings all
  point roughly the same way; centring spreads them);
- character 1-2-gram TF-IDF of the normalised text (typos and rare words the embedding misses);
- the kind's key phrases it contains (0, ½ or 1 per kind).

The views are weighted (``TFIDF_WEIGHT``, ``KEYWORD_WEIGHT``; the embedding 1).

The dictionary labels the evaluator chose are evidence on top (:func:`.taxonomy.label_votes`): each vote multiplies
the kind's probability by ``1 + LABEL_BOOST × vote`` before renormalising. The best kind's probability is the
confidence; below ``THRESHOLD`` the comment is unclassified (and may join an emerging topic). The settings were
chosen on the tune part only; ``make bench-painpoints`` measures them on the held-out part.

Embeddings of the training texts are cached on disk (keyed by the model and the texts), so a restarted worker
builds the classifier in well under a second.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import embedding
from .taxonomy import KINDS, UNCLASSIFIED, Kind, label_votes, prototypes

VERSION = 2  # bump when the kinds, the settings or the model change: stored assignments are then recomputed
REFERENCE = Path(__file__).resolve().parent / "data" / "reference.tsv"
C = 16.0  # inverse regularisation of the logistic regression
THRESHOLD = 0.2
LABEL_BOOST = 1.0
# Weights of the three views in the design matrix (the embedding's is 1). Chosen on the tune part with the extra tune
# comments (issue 15): the character n-grams carry colloquial wording and typos well once there is enough tune text,
# while the hand-picked key phrases over-commit to single words, so they count half.
TFIDF_WEIGHT = 2.0
KEYWORD_WEIGHT = 0.5
SEED = 0


@dataclass(frozen=True)
class Assignment:
    code: str  # UNCLASSIFIED ("") when no kind fits well enough
    confidence: float  # 0..1


def read_reference(path: Path = REFERENCE) -> list[tuple[str, str]]:
    """(kind code, comment) rows of a reference/development file; ``#`` lines are comments."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for row in csv.reader((line for line in f if line.strip() and not line.startswith("#")), delimiter="\t"):
            rows.append((row[0], row[1]))
    return rows


def _cache_file(texts: list[str]) -> Path | None:
    from .text import _cache_dir

    try:
        base = Path(_cache_dir()).parent / "painpoints"
        base.mkdir(parents=True, exist_ok=True)
    except Exception:  # noqa: BLE001 - no writable cache: embed every time
        return None
    key = hashlib.sha256("\n".join([embedding.MODEL, *texts]).encode()).hexdigest()[:32]
    return base / f"train-{key}.npy"


def embed_cached(texts: list[str]) -> np.ndarray:
    path = _cache_file(texts)
    if path is not None and path.exists():
        try:
            vectors = np.load(path)
            if vectors.shape == (len(texts), embedding.DIM):
                return vectors
        except (OSError, ValueError):
            pass
    vectors = embedding.embed(texts)
    if path is not None:
        try:
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        except OSError:
            pass
    return vectors


class Classifier:
    """Built once per process (a few seconds the first time: it embeds its training texts)."""

    def __init__(self, kinds: tuple[Kind, ...] = KINDS, reference: list[tuple[str, str]] | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.kinds = tuple(kinds)
        self.codes = [k.code for k in self.kinds]
        index = {c: i for i, c in enumerate(self.codes)}
        reference = read_reference() if reference is None else reference
        rows = [(index[k.code], embedding.normalise(t)) for k in self.kinds for t in prototypes(k)]
        rows += [(index[c], embedding.normalise(t)) for c, t in reference if c in index]
        rows = [(i, t) for i, t in rows if embedding.has_meaning(t)]
        self.training = len(rows)
        texts = [t for _i, t in rows]
        y = np.array([i for i, _t in rows], dtype=int)
        vectors = embed_cached(texts)
        self.mean = vectors.mean(axis=0)
        self.keywords = [tuple(w.lower() for w in k.keywords) for k in self.kinds]
        self.tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        self.model = LogisticRegression(C=C, max_iter=3000, random_state=SEED)
        self.model.fit(self._design(vectors, texts), y)
        self.classes = list(self.model.classes_)
        self._lock = threading.Lock()

    def _design(self, vectors: np.ndarray, texts: list[str]):
        from scipy.sparse import csr_matrix, hstack

        centred = vectors - self.mean
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        keyword = np.zeros((len(texts), len(self.kinds)))
        for i, t in enumerate(texts):
            low = t.lower()
            for j, words in enumerate(self.keywords):
                keyword[i, j] = min(sum(1 for w in words if w in low), 2) / 2
        return hstack([csr_matrix(centred / norms), TFIDF_WEIGHT * self.tfidf.transform(texts),
                       csr_matrix(KEYWORD_WEIGHT * keyword)]).tocsr()

    def probabilities(self, vectors: np.ndarray, texts: list[str], votes: list[dict[str, float]]) -> np.ndarray:
        """n x kinds: the probability of each kind for each (normalised) comment."""
        out = np.zeros((len(texts), len(self.kinds)))
        if not texts:
            return out
        p = self.model.predict_proba(self._design(vectors, texts))
        out[:, self.classes] = p
        for i, v in enumerate(votes):
            for code, vote in v.items():
                if code in self.codes:
                    out[i, self.codes.index(code)] *= 1 + LABEL_BOOST * vote
        out /= out.sum(axis=1, keepdims=True)
        return out

    def classify(self, comments: list[str], labels: list[tuple[str, ...]] | None = None,
                 label_texts: dict[str, str] | None = None) -> tuple[list[Assignment], np.ndarray]:
        """The assignment of each comment and its embedding (zeros for a comment with nothing to classify:
        empty, emoji or punctuation only, a single character)."""
        texts = [embedding.normalise(c) for c in comments]
        usable = [i for i, t in enumerate(texts) if embedding.has_meaning(t)]
        vectors = np.zeros((len(texts), embedding.DIM), dtype=np.float32)
        assignments = [Assignment(UNCLASSIFIED, 0.0)] * len(texts)
        if usable:
            vectors[usable] = embedding.embed([texts[i] for i in usable])
            labels = labels or [()] * len(texts)
            votes = [label_votes(labels[i], label_texts or {}, self.kinds) for i in usable]
            p = self.probabilities(vectors[usable], [texts[i] for i in usable], votes)
            for row, i in enumerate(usable):
                j = int(p[row].argmax())
                confidence = round(float(p[row, j]), 4)
                assignments[i] = Assignment(self.codes[j] if confidence >= THRESHOLD else UNCLASSIFIED, confidence)
        return assignments, vectors


_lock = threading.Lock()
_built: dict[tuple, Classifier] = {}


def classifier(extra: tuple[Kind, ...] = ()) -> Classifier:
    """The process's classifier over the built-in kinds and the promoted ``extra`` ones (rebuilt when they
    change)."""
    key = tuple((k.code, k.examples) for k in extra)
    with _lock:
        if key not in _built:
            _built.clear()
            _built[key] = Classifier((*KINDS, *extra), read_reference() + [(k.code, e) for k in extra for e in k.examples])
        return _built[key]
