"""The terms extractor's gate (affiliate_matrix/terms/gate.py): a logistic regression on hashed features that
judges the rules' candidates. Its training, its shipped weights and how it lets the rules' values stand."""

import json
from decimal import Decimal

from affiliate_matrix.terms import gate, topics
from affiliate_matrix.terms.text import Doc
from tests.support.terms_corpus import load, split, train_gate


def test_features_are_stable_and_bounded_on_a_long_unit():
    text = "Cookie duration: 30 days. " + "word " * 20000
    ids = gate.features(text, 17, 24, "Tracking", "cookie")
    assert ids == gate.features(text, 17, 24, "Tracking", "cookie")
    assert all(0 <= i < gate.DIMENSIONS for i in ids)
    assert len(ids) < 400  # the unit's words are read near the figure only


def test_training_learns_which_features_mark_the_value():
    samples = [([1, 7], True), ([1, 8], True), ([2, 7], False), ([2, 8], False)] * 5
    model = gate.loaded({"cookie_days": gate.train(samples)})
    probability = {True: [], False: []}
    for ids, positive in samples[:4]:
        original = gate.override
        try:
            gate.override = model
            probability[positive].append(gate.probability("cookie_days", ids))
        finally:
            gate.override = original
    assert min(probability[True]) > 0.8 and max(probability[False]) < 0.2


def test_without_a_model_the_rules_stand(monkeypatch):
    monkeypatch.setattr(gate, "override", {})
    assert gate.probability("cookie_days", [1, 2, 3]) is None
    doc = Doc("Cookie duration: 30 days.")
    assert gate.judged(doc, topics(doc), "cookie_days", 45, "made up") == (45, "made up")


def test_a_value_the_model_has_no_candidate_for_stands():
    doc = Doc("Lifetime cookies: referrals never expire.")
    assert gate.judged(doc, topics(doc), "cookie_days", -1, doc.units[0].raw) == (-1, doc.units[0].raw)


def _set_opinions(monkeypatch, field: str, opinions: dict) -> None:
    """A model whose opinion of each candidate value is set (the shipped one's change with each training): the
    policy is what is tested. `opinions` maps a value to its score (logit)."""
    values = list(opinions)
    monkeypatch.setattr(gate, "candidates", lambda doc, topics, name: [
        (i, value, [i]) for i, value in enumerate(values)])
    monkeypatch.setattr(gate, "override", {field: (0.0, {i: opinions[v] for i, v in enumerate(values)})})


def test_the_model_drops_a_cookie_it_doubts_and_keeps_one_it_trusts(monkeypatch):
    doc = Doc("Our refund period is 14 days. The cookie lasts 60 days.")
    refund, cookie = doc.units
    _set_opinions(monkeypatch, "cookie_days", {14: -4.0, 60: 4.0})
    assert gate.judged(doc, topics(doc), "cookie_days", 14, refund.raw) == (None, None)
    assert gate.judged(doc, topics(doc), "cookie_days", 60, cookie.raw) == (60, cookie.raw)
    assert gate.judged(doc, topics(doc), "cookie_days", None, None) == (None, None)  # the cookie model never fills in


def test_a_doubted_minimum_goes_and_a_sure_one_fills_in(monkeypatch):
    doc = Doc("Orders over $100 ship free. Payouts start at $50.")
    orders, payouts = doc.units
    order_value, threshold = (Decimal(100), "USD"), (Decimal(50), "USD")
    _set_opinions(monkeypatch, "min_payout", {order_value: -6.0, threshold: 4.0})  # 0.0025: all but sure
    assert gate.judged(doc, topics(doc), "min_payout", order_value, orders.raw) == (None, None)
    assert gate.judged(doc, topics(doc), "min_payout", None, None) == (threshold, payouts.raw)
    _set_opinions(monkeypatch, "min_payout", {order_value: -4.0, threshold: 1.0})  # 0.018 stands, 0.73 is not sure
    assert gate.judged(doc, topics(doc), "min_payout", order_value, orders.raw) == (order_value, orders.raw)
    assert gate.judged(doc, topics(doc), "min_payout", None, None) == (None, None)


def test_the_shipped_weights_are_what_training_on_the_dev_split_makes():
    dev, _ = split(load())
    shipped = json.loads(gate.WEIGHTS.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(train_gate(dev))) == shipped, "retrain: python -m tests.support.terms_corpus train"
