"""The spine's terms extractor on the phrasings the recorded directories use (the full labelled
corpus comes with the sources issue)."""

from decimal import Decimal

import pytest

from affiliate_matrix import terms


def shape(text):
    return [(t.type, t.value_min, t.value_max, t.currency, t.recurring) for t in terms.commission(text)]


@pytest.mark.parametrize("text,expected", [
    ("30% per sale", [("percent", Decimal(30), None, None, None)]),
    ("5–10% on every order", [("percent", Decimal(5), Decimal(10), None, None)]),
    ("up to 50%", [("percent", None, Decimal(50), None, None)]),
    ("$65 - $130 per qualified sale", [("flat", Decimal(65), Decimal(130), "USD", None)]),
    ("€12.50 per lead", [("flat", Decimal("12.50"), None, "EUR", None)]),
    ("25 GBP per signup", [("flat", Decimal(25), None, "GBP", None)]),
    ("$1,200 per enterprise deal", [("flat", Decimal(1200), None, "USD", None)]),
    ("40% on new plans, 20% recurring on renewals",
     [("percent", Decimal(40), None, None, None), ("percent", Decimal(20), None, None, True)]),
    ("Contact us for details", []),
    (None, []),
])
def test_commission(text, expected):
    assert shape(text) == expected


@pytest.mark.parametrize("text,days", [("120 days", 120), ("90-day cookie", 90), ("Lifetime", -1),
                                       ("session only", 0), ("3 months", 90), ("1 year", 365), ("24 hours", 1),
                                       ("not stated", None), (None, None)])
def test_cookie_days(text, days):
    assert terms.cookie_days(text) == days


def test_payout_terms():
    text = "Paid monthly via PayPal or wire once you reach $50"
    assert terms.payout_methods(text) == ["paypal", "wire"]
    assert terms.payout_frequency(text) == "monthly"
    assert (terms.min_payout(text).amount, terms.min_payout(text).currency) == (Decimal(50), "USD")
    assert terms.payout_frequency("Net 60 via check") == "net60"
    assert terms.payout_methods("Net 60 via check") == ["check"]
    assert terms.min_payout("no threshold mentioned") is None
