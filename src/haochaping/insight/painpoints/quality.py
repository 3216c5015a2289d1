"""Measuring the classifier on a labelled development set (``tests/data/painpoints_dev.tsv``): purity, normalised
mutual information and per-kind precision/recall.

The set is split by position within each kind: rows whose index (0-based, per kind) is 2 or 4 modulo 5 are held
out (40 %), the rest are the tune part — which, with ``tests/data/painpoints_tune_extra.tsv``, is the classifier's
reference set (``data/reference.tsv``); ``tests/data/painpoints_fresh.tsv`` is a second held-out set, never tuned on;
the classifier's settings were chosen on the tune part only.
An unclassified comment counts as its own cluster for purity/NMI and as a miss for recall.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from .classify import Classifier, read_reference
from .taxonomy import UNCLASSIFIED

HELD_OUT = {2, 4}


def split(rows: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(tune, held_out) parts of development rows."""
    seen: Counter = Counter()
    tune, held = [], []
    for code, comment in rows:
        (held if seen[code] % 5 in HELD_OUT else tune).append((code, comment))
        seen[code] += 1
    return tune, held


def load(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return split(read_reference(path))


@dataclass(frozen=True)
class KindScore:
    code: str
    support: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Report:
    comments: int
    purity: float
    nmi: float
    accuracy: float
    unclassified: float  # share left unclassified
    kinds: tuple[KindScore, ...]

    @property
    def min_precision(self) -> float:
        return min(k.precision for k in self.kinds)

    @property
    def min_recall(self) -> float:
        return min(k.recall for k in self.kinds)


def purity(gold: list[str], predicted: list[str]) -> float:
    clusters: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, predicted, strict=True):
        clusters[p][g] += 1
    return sum(c.most_common(1)[0][1] for c in clusters.values()) / len(gold) if gold else 0.0


def nmi(gold: list[str], predicted: list[str]) -> float:
    """Normalised mutual information (arithmetic mean of the entropies, as scikit-learn's default)."""
    n = len(gold)
    if not n:
        return 0.0
    joint = Counter(zip(gold, predicted, strict=True))
    g, p = Counter(gold), Counter(predicted)
    mi = sum(c / n * math.log(c * n / (g[a] * p[b])) for (a, b), c in joint.items())
    hg = -sum(c / n * math.log(c / n) for c in g.values())
    hp = -sum(c / n * math.log(c / n) for c in p.values())
    if hg == 0 or hp == 0:
        return 1.0 if hg == hp else 0.0
    return mi / ((hg + hp) / 2)


def report(gold: list[str], predicted: list[str], codes: list[str]) -> Report:
    predicted = [p or "(unclassified)" for p in predicted]
    kinds = []
    for code in codes:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == code and p == code)
        said = sum(1 for p in predicted if p == code)
        support = sum(1 for g in gold if g == code)
        if support == 0 and said == 0:
            continue
        kinds.append(KindScore(code, support, tp / said if said else 0.0, tp / support if support else 0.0))
    right = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return Report(
        comments=len(gold), purity=purity(gold, predicted), nmi=nmi(gold, predicted),
        accuracy=right / len(gold) if gold else 0.0,
        unclassified=sum(1 for p in predicted if p == "(unclassified)") / len(gold) if gold else 0.0,
        kinds=tuple(kinds),
    )


def evaluate(classifier: Classifier, rows: list[tuple[str, str]]) -> Report:
    assignments, _vectors = classifier.classify([c for _k, c in rows])
    return report([k for k, _c in rows], [a.code for a in assignments], classifier.codes)


__all__ = ["UNCLASSIFIED", "Report", "evaluate", "load", "report", "split"]
