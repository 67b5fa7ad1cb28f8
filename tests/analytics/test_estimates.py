"""Consent-corrected estimates: counted ÷ consent rate, with a Wilson 95 % interval."""

from __future__ import annotations

import pytest

from consent_service.analytics.estimates import corrected, wilson_interval


def test_wilson_interval_of_a_known_share() -> None:
    # 50 of 200: p = 0.25, interval 0.1951 to 0.3143 (Wilson, z = 1.96).
    low, high = wilson_interval(50, 200)
    assert (round(low, 4), round(high, 4)) == (0.1951, 0.3143)


@pytest.mark.parametrize(
    ("counted", "k", "n", "expected"),
    [
        (100, 50, 200, (400, 318, 513)),  # a quarter allowed statistics: four times as many
        (100, 200, 200, (100, 100, 102)),  # everyone allowed it: the count, a little above
        (0, 50, 200, (0, 0, 0)),
    ],
)
def test_estimate_is_counted_over_consent_rate(
    counted: int, k: int, n: int, expected: tuple[int, int, int]
) -> None:
    estimate = corrected(counted, k, n)
    assert estimate is not None
    assert (round(estimate.value), round(estimate.low), round(estimate.high)) == expected


@pytest.mark.parametrize(("k", "n"), [(0, 0), (0, 10)])
def test_no_estimate_without_a_rate(k: int, n: int) -> None:
    assert corrected(100, k, n) is None
