"""An index's spec is checked when it is declared, cannot be changed afterwards, and compares by what is
stored of it (its upgrade is code, not part of the spec)."""

import pytest

from affiliate_matrix.search import IndexSpec

FIELDS = {"id": "keyword", "name": "text"}


def test_a_bad_name_or_an_id_field_that_is_not_a_keyword_is_refused_when_declared():
    with pytest.raises(ValueError, match="'Bad-Name' must match"):
        IndexSpec("Bad-Name", 1, FIELDS)
    with pytest.raises(ValueError, match="'na me' must match"):
        IndexSpec("things", 1, {**FIELDS, "na me": "text"})
    with pytest.raises(ValueError, match="id field 'name' must be declared as keyword"):
        IndexSpec("things", 1, FIELDS, id_field="name")


def test_a_spec_is_immutable_and_equal_to_its_stored_form_whatever_its_upgrade():
    spec = IndexSpec("things", 2, FIELDS, upgrade=lambda doc: {**doc, "name": str(doc.get("name"))})
    with pytest.raises(AttributeError):
        spec.version = 3
    assert IndexSpec.from_json(spec.to_json()) == spec and not IndexSpec.from_json(spec.to_json()) != spec
    assert IndexSpec("things", 3, FIELDS) != spec
    assert "upgrade" not in repr(spec) and "version=2" in repr(spec)


def test_the_statuses_a_search_offers_are_every_status_a_program_has():
    from typing import get_args

    from affiliate_matrix.models import Program
    from affiliate_matrix.codes import STATUSES
    from affiliate_matrix.program_index import OPEN_STATUSES

    assert sorted(STATUSES) == sorted(get_args(Program.model_fields["status"].annotation))
    assert set(OPEN_STATUSES) < set(STATUSES)


def test_a_flat_term_keeps_its_currency_and_its_amount_to_the_cent():
    """flat_amounts holds each flat term as one number (program_index.flat_key): a minimum in one currency is never met
    by another currency's amount, however large, and amounts a cent apart stay apart at the largest key."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.program_index import FLAT_SPAN, flat_key, flat_minimum

    (eur,) = flat_minimum(["EUR"], 40)
    assert not eur.gte <= flat_key("USD", 5000) <= eur.lte and not eur.gte <= flat_key("EUR", 39.99) <= eur.lte
    assert eur.gte <= flat_key("EUR", 40) <= eur.lte and eur.gte <= flat_key("EUR", 10**12) <= eur.lte
    assert flat_key("ZZZ", FLAT_SPAN - 1.01) < flat_key("ZZZ", FLAT_SPAN - 1) < flat_key("ZZZ", 10**15) + 1
    assert flat_key("AAB", 0) - flat_key("AAA", 10**15) == 1  # the largest amount of a currency is below the next one
    for code in ("eur", "EURO", "€", ""):
        try:
            flat_key(code, 1)
        except InvalidInput as exc:
            assert "flat_currency" in str(exc)
        else:
            raise AssertionError(f"{code!r} was taken for a currency")
