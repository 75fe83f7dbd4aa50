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
