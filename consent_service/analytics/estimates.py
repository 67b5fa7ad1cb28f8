"""Consent-corrected estimates: what the counted figures suggest for every visitor.

Only visitors who allowed statistics are counted. If the share of visitors who allow it is
p, a counted figure C suggests C / p for all visitors. p is measured from the consent log
over the same days (`audit/stats.py`, the statistics consent rate), as k decisions with
statistics out of n; its 95 % Wilson score interval [p_low, p_high] gives the estimate's
interval [C / p_high, C / p_low]. C itself is an exact count and is not resampled.

It is an estimate ("uppskattning") resting on assumptions that the page states: that those
who refuse statistics visit like those who allow it, and that the log's decisions stand for
the visitors (a returning visitor decides once; one who never answers the banner is in
neither figure). See docs/analytics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959964  # the normal distribution's two-sided 95 % quantile


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share of k in n (n > 0)."""
    share = k / n
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def corrected(counted: int, with_statistics: int, decisions: int) -> Estimate | None:
    """`counted` ÷ the statistics consent rate, with a 95 % interval; None without a rate."""
    if decisions <= 0 or with_statistics <= 0:
        return None
    low_share, high_share = wilson_interval(with_statistics, decisions)
    share = with_statistics / decisions
    return Estimate(counted / share, counted / high_share, counted / low_share)
