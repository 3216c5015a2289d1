"""Grouping comments into topics: TF-IDF over the terms of :mod:`.text`, then k-means.

Identical comments are grouped first and clustered once with their count as the weight, so a corpus of 20,000
bad reviews costs what its distinct comments cost. The number of topics is chosen from the data: k-means is
tried for each k from 2 up to a bound that grows with the data (at most ``MAX_TOPICS``), on a fixed sample, and
the k with the best (weighted) cosine silhouette wins. Everything uses a fixed seed and a sorted input, so the
same comments always give the same topics.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from . import text

VERSION = 1  # bump when the method changes, so cached results are not reused
MAX_TOPICS = 8
REVIEWS_PER_TOPIC = 8  # at least this many reviews per possible topic before k may grow
SAMPLE = 1500  # distinct comments used to choose k
TOP_TERMS = 6
EXAMPLES = 3
SEED = 0


@dataclass(frozen=True)
class Cluster:
    terms: tuple[str, ...]  # most weighty first
    comments: tuple[str, ...]  # the distinct comments in the cluster
    examples: tuple[str, ...]  # the most typical of them


def find(comments: Iterable[str], weights: Mapping[str, int], min_size: int = 1) -> list[Cluster]:
    """Topics of the distinct ``comments`` (``weights``: how many reviews said each). Comments without a usable
    term are left out. ``min_size``: never try more topics than the reviews could fill with that many each."""
    # scikit-learn is imported on first use, not when the URLconf loads this module.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from threadpoolctl import threadpool_limits

    docs = sorted(set(comments))
    if not docs:
        return []
    vectorizer = TfidfVectorizer(
        tokenizer=text.terms, token_pattern=None, lowercase=False, sublinear_tf=True, max_features=3000,
        dtype=np.float64,
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # no term at all in any comment
        return []
    used = np.flatnonzero(matrix.getnnz(axis=1))
    if used.size == 0:
        return []
    matrix = matrix[used]
    docs = [docs[i] for i in used]
    w = np.array([weights.get(d, 1) for d in docs], dtype=np.float64)
    vocabulary = vectorizer.get_feature_names_out()
    # One thread: k-means on a few thousand short comments gains nothing from OpenMP threads, and on a busy
    # server they fight the other workers for cores (3x slower in our measurements). It also makes the result
    # independent of the machine's core count.
    with threadpool_limits(limits=1):
        labels, centers = _cluster(matrix, w, min_size)
    out = []
    for k in range(centers.shape[0]):
        members = np.flatnonzero(labels == k)
        if members.size == 0:
            continue
        center = centers[k]
        norm = np.linalg.norm(center) or 1.0
        closeness = np.asarray(matrix[members] @ center).ravel() / norm
        # Most typical first; rounding keeps float noise from reordering equals, then the more frequent, then text.
        order = sorted(range(members.size), key=lambda j: (-round(float(closeness[j]), 6), -w[members[j]], docs[members[j]]))
        member_docs = tuple(docs[members[j]] for j in order)
        out.append(Cluster(_terms(center, vocabulary), tuple(sorted(member_docs)), member_docs[:EXAMPLES]))
    return out


def _terms(center: np.ndarray, vocabulary) -> tuple[str, ...]:
    """The heaviest terms of a centroid, leaving out the parts of a compound already named ("系统卡顿", not
    also "系统" and "卡顿"); on equal weight the longer term (the compound) comes first."""
    ranked = sorted((i for i in np.flatnonzero(center > 0)), key=lambda i: (-round(float(center[i]), 6), -len(vocabulary[i]), vocabulary[i]))
    chosen: list[str] = []
    for i in ranked:
        term = str(vocabulary[i])
        if any(term in c or c in term for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == TOP_TERMS:
            break
    return tuple(chosen)


def _upper_k(n_docs: int, total_weight: float) -> int:
    return int(min(MAX_TOPICS, n_docs, max(2, total_weight // REVIEWS_PER_TOPIC)))


def _kmeans(k: int, n_init: int):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=SEED)


def _cluster(matrix, w: np.ndarray, min_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Labels per row and centroids (dense), for the chosen k."""
    from sklearn.exceptions import ConvergenceWarning

    n = matrix.shape[0]
    upper = min(_upper_k(n, float(w.sum())), int(w.sum() // max(min_size, 1)))
    if n == 1 or upper < 2:
        return np.zeros(n, dtype=int), np.asarray(_weighted_mean(matrix, w))[None, :]
    with warnings.catch_warnings():
        # Fewer distinct comments than clusters tried is expected on small data.
        warnings.simplefilter("ignore", ConvergenceWarning)
        k = _choose_k(matrix, w, upper)
        model = _kmeans(k, n_init=3).fit(matrix, sample_weight=w)
    return model.labels_, model.cluster_centers_


def _weighted_mean(matrix, w: np.ndarray) -> np.ndarray:
    return np.asarray(matrix.T @ w).ravel() / w.sum()


def _choose_k(matrix, w: np.ndarray, upper: int) -> int:
    from sklearn.metrics import silhouette_samples
    from sklearn.metrics.pairwise import cosine_distances

    n = matrix.shape[0]
    if n > SAMPLE:
        rng = np.random.default_rng(SEED)
        rows = np.sort(rng.choice(n, size=SAMPLE, replace=False, p=w / w.sum()))
        matrix, w = matrix[rows], w[rows]
    # The silhouette needs fewer clusters than rows.
    upper = min(upper, matrix.shape[0] - 1)
    # One distance matrix for every k tried (rows are L2-normalised, so cosine distance is 1 - dot product).
    distances = np.clip(cosine_distances(matrix), 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    best_k, best_score = 2, -2.0
    for k in range(2, upper + 1):
        labels = _kmeans(k, n_init=1).fit_predict(matrix, sample_weight=w)
        if np.unique(labels).size < 2:
            continue
        score = float(np.average(silhouette_samples(distances, labels, metric="precomputed"), weights=w))
        # Strictly better only: on a tie, fewer topics.
        if score > best_score + 1e-9:
            best_k, best_score = k, score
    return best_k
