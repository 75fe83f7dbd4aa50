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


def test_cli_prints_one_json_object(tmp_path):
    import json
    import subprocess

    from tests.support.processes import BIN

    text = "Verdienen Sie 30 % Provision. Cookie-Laufzeit: 60 Tage. No coupon sites."
    result = subprocess.run([str(BIN / "amx"), "terms", "extract", "-", "--json"], input=text, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "cookie_days": 60, "payout_methods": [], "payout_frequency": None, "min_payout": None,
        "restrictions": ["coupon_sites"],
        "commission": [{"type": "percent", "value_min": 30, "value_max": None, "currency": None, "recurring": None}],
        "evidence": {"commission": ["Verdienen Sie 30 % Provision."], "cookie_days": ["Cookie-Laufzeit: 60 Tage."],
                     "restrictions": ["No coupon sites."]}}
    missing = subprocess.run([str(BIN / "amx"), "terms", "extract", str(tmp_path / "nope.txt")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "cannot read" in missing.stdout + missing.stderr
