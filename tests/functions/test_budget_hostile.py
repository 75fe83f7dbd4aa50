"""The budget function and `amx budget` fed hostile numbers through their real entry points (the function's HTTP
stack, the CLI's JSON contract): each refused naming the field, or computed right, and nothing half-written."""

import json

import pytest

from affiliate_matrix.budget.contract import allocate_json
from tests.support.apps import function_client

CAMPAIGN = {"id": "search-1", "name": "Brand search", "channel": "search", "currency": "USD"}


@pytest.mark.parametrize("written,stored", [("-0", "0"), ("-0.00", "0.00"), (-0.0, "0"), ("-0E+5", "0"),
                                            ("0E-10", "0.00"), ("1E+3", "1000"), ("12.50", "12.50")])
def test_a_budget_bound_is_stored_in_its_plain_form_never_as_minus_zero(env, written, stored):
    """A min_budget of -0 (or -0.00, -0E+5) passed ge=0 and was stored, shown and echoed as written ('-0'), and
    '0E-10' and '1E+3' as such: a decimal entering the budget models is now its plain form in whole cents."""
    budget = function_client("budget")
    made = budget.post("/campaigns", json={**CAMPAIGN, "min_budget": written, "max_budget": written},
                       headers=env["admin"])
    assert made.status_code == 201, made.json
    assert made.json["min_budget"] == made.json["max_budget"] == stored
    read = budget.get("/campaigns/search-1", headers=env["read"]).json
    assert read["min_budget"] == read["max_budget"] == stored


def test_a_total_of_minus_zero_allocates_nothing_and_says_zero():
    request = {"total_budget": "-0", "currency": "USD", "strategy": "equal", "campaigns": [{"id": "a", "min_budget": "-0"}]}
    body = json.loads(allocate_json(json.dumps(request)))
    assert body["allocations"] == [{"campaign_id": "a", "amount": 0.0, "expected_revenue": None,
                                    "expected_revenue_low": None, "expected_revenue_high": None}]
    refused = {**request, "campaigns": [{"id": "a", "min_budget": "5"}]}
    with pytest.raises(Exception, match=r"above total_budget 0$"):
        allocate_json(json.dumps(refused))
