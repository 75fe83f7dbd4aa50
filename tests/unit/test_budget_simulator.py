"""The strategies in a seeded market with hidden concave and S-shaped response curves, day by day
through the allocate contract, scored against an oracle that knows the curves (exact DP)."""

import numpy as np
import pytest

from tests.support import budget_sim

SEEDS = range(1, 6)


@pytest.fixture(scope="module")
def shares():
    return {strategy: float(np.mean([budget_sim.run(strategy, seed=seed) for seed in SEEDS]))
            for strategy in ("optimal", "exploratory", "equal", "naive_roas")}


def test_optimal_earns_at_least_96_percent_of_the_oracle(shares):
    assert shares["optimal"] >= 0.96


def test_exploratory_earns_at_least_94_percent_of_the_oracle(shares):
    assert shares["exploratory"] >= 0.94


def test_both_beat_equal_and_the_last_week_roas_baseline(shares):
    for strategy in ("optimal", "exploratory"):
        assert shares[strategy] > shares["equal"] and shares[strategy] > shares["naive_roas"]


def test_the_oracle_is_exact_on_a_market_greedy_gets_wrong():
    # Two S-shaped campaigns and a budget that only clears one threshold: splitting it evenly earns little.
    market = budget_sim.Market([budget_sim.Campaign("a", 1000, 100, 4), budget_sim.Campaign("b", 1000, 100, 4)],
                               total=150, noise=0, rng=np.random.default_rng(0))
    best = market.oracle()
    assert best == pytest.approx(market.expected([150, 0]), rel=1e-3)
    assert best > 1.7 * market.expected([75, 75])
