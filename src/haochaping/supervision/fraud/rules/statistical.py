"""The statistical detectors: identical or templated comments (5) and a unit's share of 非常满意 against the
units doing the same item (6). Pure, like the rest of the rules package."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from .base import (
    OUTLIER_MIN_EXCESS,
    OUTLIER_MIN_N,
    OUTLIER_MIN_PEERS,
    OUTLIER_P,
    TEMPLATE_MIN,
    TEMPLATE_MIN_CHARS,
    TEMPLATE_P,
    TEMPLATE_SIMILARITY,
    TOP,
    Ev,
    Pattern,
    Signal,
    _ids,
    _span,
    _target,
    unit_key,
)
from .stats import beta_binomial_sf, binomial_sf, overdispersion

# ---- 5. identical or templated comments -------------------------------------------------------------------

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def normalise(comment: str) -> str:
    """Lower case, digits as one 0, no spaces or punctuation: "工号 1024 服务好！" and "工号2048服务好" match."""
    return _DIGITS.sub("0", _NOISE.sub("", comment.lower()))


def trigrams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 3] for i in range(max(1, len(text) - 2)))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def clusters(texts: list[tuple[int, str]], similarity: float = TEMPLATE_SIMILARITY) -> list[list[tuple[int, str]]]:
    """Greedy: each (id, normalised text) joins the first cluster whose first text is ``similarity``-close."""
    heads: list[tuple[frozenset, list]] = []
    exact: dict[str, list] = {}
    for ev_id, text in texts:
        if text in exact:
            exact[text].append((ev_id, text))
            continue
        grams = trigrams(text)
        for head, members in heads:
            if jaccard(head, grams) >= similarity:
                members.append((ev_id, text))
                exact[text] = members
                break
        else:
            members = [(ev_id, text)]
            heads.append((grams, members))
            exact[text] = members
    return [members for _h, members in heads]


def templates(evs: Iterable[Ev], minimum: int = TEMPLATE_MIN, min_chars: int = TEMPLATE_MIN_CHARS,
              p_max: float = TEMPLATE_P, similarity: float = TEMPLATE_SIMILARITY) -> list[Signal]:
    """Units where ``minimum`` or more near-identical comments appear far more often than the same words appear
    elsewhere in the province: binomial tail P(X >= k | n, p) < ``p_max``, with n the unit's comments and p the
    share of those texts among all other units' comments (add-one smoothed). Phrases everyone writes are as
    common elsewhere and never reach the threshold; a template typed in at one unit is."""
    by_unit: dict[tuple, list[tuple[Ev, str]]] = defaultdict(list)
    for e in evs:
        text = normalise(e.comment)
        if len(text) >= min_chars:
            by_unit[unit_key(e)].append((e, text))
    everywhere = Counter(text for rows in by_unit.values() for _e, text in rows)
    total = sum(everywhere.values())
    signals = []
    for unit, rows in by_unit.items():
        if len(rows) < minimum:
            continue
        here = Counter(text for _e, text in rows)
        ev_by_id = {e.id: e for e, _t in rows}
        for members in clusters([(e.id, t) for e, t in rows], similarity):
            k = len(members)
            if k < minimum:
                continue
            texts = {t for _i, t in members}
            elsewhere = sum(everywhere[t] - here[t] for t in texts)
            p = (elsewhere + 1) / (total - len(rows) + 2)
            tail = binomial_sf(k, len(rows), p)
            if tail >= p_max:
                continue
            evs_hit = [ev_by_id[i] for i, _t in members]
            excerpt = members[0][1][:12]
            signals.append(Signal(
                Pattern.TEMPLATE, f"template:{unit[0]}:{unit[1]}:{excerpt}", _target(evs_hit[0], window=False, staff=False),
                _ids(evs_hit), tail, p_max,
                f"{k}条评价内容雷同（如“{excerpt}…”），在本单位{len(rows)}条评价中出现的频率远高于全省其他单位"
                f"（二项分布尾概率{tail:.1e}，阈值{p_max:.0e}）",
                {**_span(evs_hit), "similar": k, "unit_comments": len(rows), "elsewhere": elsewhere,
                 "variants": len(texts), "tail": tail},
            ))
    return signals


# ---- 6. a unit whose share of 非常满意 is an outlier among units doing the same item ------------------------

def outliers(evs: Iterable[Ev], min_n: int = OUTLIER_MIN_N, min_peers: int = OUTLIER_MIN_PEERS,
             p_max: float = OUTLIER_P, min_excess: float = OUTLIER_MIN_EXCESS) -> list[Signal]:
    """For each item (基本编码), each unit with ``min_n`` or more evaluations is tested against the other units doing the
    item (at least ``min_peers`` with ``min_n``): its count of 非常满意 against a beta-binomial whose mean is the
    peers' pooled share and whose overdispersion is the peers' own between-unit spread (so items where units
    honestly differ need more). Flagged when the one-sided tail is below ``p_max`` and the share exceeds the
    peers' by ``min_excess``."""
    cells: dict[object, dict[tuple, list[Ev]]] = defaultdict(lambda: defaultdict(list))
    for e in evs:
        # "The same item" is the same 基本编码: each region implements it under its own 实施编码 (item row).
        if e.item_code or e.item_id is not None:
            cells[e.item_code or e.item_id][unit_key(e)].append(e)
    signals = []
    for item, units in cells.items():
        sized = {u: rows for u, rows in units.items() if len(rows) >= min_n}
        if len(sized) < min_peers + 1:
            continue
        counts = {u: (sum(1 for e in rows if e.level == TOP), len(rows)) for u, rows in sized.items()}
        for unit, (k, n) in counts.items():
            peers = [c for u, c in counts.items() if u != unit]
            peer_k, peer_n = sum(c[0] for c in peers), sum(c[1] for c in peers)
            p = min(max(peer_k / peer_n, 0.5 / peer_n), 1 - 0.5 / peer_n)
            if k / n - p < min_excess:
                continue
            rho = overdispersion(peers, p)
            tail = beta_binomial_sf(k, n, p, rho)
            if tail >= p_max:
                continue
            rows = [e for e in sized[unit] if e.level == TOP]
            signals.append(Signal(
                Pattern.OUTLIER, f"outlier:{item}:{unit[0]}:{unit[1]}",
                _target(rows[0], window=False, staff=False, item=True), _ids(rows), tail, p_max,
                f"本单位该事项非常满意占{k / n:.1%}（{k}/{n}），同事项其他{len(peers)}个单位合计{p:.1%}；"
                f"贝塔二项分布单侧尾概率{tail:.1e}（阈值{p_max:.0e}，单位间离散度{rho:.3f}）",
                {**_span(rows), "top": k, "n": n, "peer_share": round(p, 4), "peers": len(peers), "rho": round(rho, 4),
                 "tail": tail},
            ))
    return signals
