"""The tail probabilities the detectors test against: binomial and beta-binomial, exact, in log space. Pure."""

from __future__ import annotations

from math import exp, lgamma, log


def _log_choose(n: int, k: int) -> float:
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = log(p), log(1.0 - p)
    return min(1.0, sum(exp(_log_choose(n, i) + i * lp + (n - i) * lq) for i in range(k, n + 1)))


def _log_beta(a: float, b: float) -> float:
    return lgamma(a) + lgamma(b) - lgamma(a + b)


def beta_binomial_sf(k: int, n: int, p: float, rho: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(n, a, b) with mean share ``p`` and intra-unit correlation ``rho``
    (a + b = (1 - rho) / rho); rho = 0 is the binomial."""
    if rho <= 1e-9:
        return binomial_sf(k, n, p)
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    s = (1.0 - rho) / rho
    a, b = p * s, (1.0 - p) * s
    base = _log_beta(a, b)
    return min(1.0, sum(exp(_log_choose(n, i) + _log_beta(i + a, n - i + b) - base) for i in range(k, n + 1)))


def overdispersion(shares: list[tuple[int, int]], p: float) -> float:
    """Method-of-moments intra-unit correlation from (successes, trials) of several units around pooled ``p``:
    the between-unit variance of the shares beyond what binomial sampling explains, as a share of p(1-p).
    0 when the units vary no more than chance (or there are fewer than two)."""
    rows = [(k, n) for k, n in shares if n > 0]
    if len(rows) < 2 or p <= 0.0 or p >= 1.0:
        return 0.0
    pq = p * (1.0 - p)
    observed = sum((k / n - p) ** 2 for k, n in rows) / (len(rows) - 1)
    expected = sum(pq / n for _k, n in rows) / len(rows)
    mean_n = sum(n for _k, n in rows) / len(rows)
    if mean_n <= 1:
        return 0.0
    # Var(share) = pq/n * (1 + (n-1) rho)  =>  rho = (observed - expected) / (pq * (1 - 1/n))
    rho = (observed - expected) / (pq * (1.0 - 1.0 / mean_n))
    return min(max(rho, 0.0), 0.5)
