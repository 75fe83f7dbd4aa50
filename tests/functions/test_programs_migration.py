"""A programs index written by an older version of the code, migrated forward and never re-indexed
since, is served by the programs API as if each program had just been indexed: every field the
answer model requires is there, and the fields a version added are filled from the stored program."""

import json

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.models import Program
from affiliate_matrix.program_index import BESIDE, PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import IndexSpec
from tests.support.apps import function_client
from tests.support.factories import NOW, make_program
from tests.support.indexing import BACKENDS, on_backend
from tests.support.processes import ROOT

# What the code of each older version wrote (git log -p of program_index.py, then programs.py, and models.py):
# the fields of its committed mapping, and a stored program without the Program and FieldSource fields added since.
ADDED_SINCE = {2: ({"merchant_key_confidence", "misses", "discovery"}, {"value", "evidence"}),
               3: ({"merchant_key_confidence", "discovery"}, {"evidence"}), 4: (set(), set()), 5: (set(), set())}


def spec_of(version: int) -> IndexSpec:
    body = json.loads((ROOT / "infra/opensearch/indices" / f"programs-v{version}.json").read_text())
    return IndexSpec.from_json(body["mappings"]["_meta"]["spec"])


def written_by(version: int, program) -> dict:
    """The document that version's code made of `program`."""
    spec, (program_fields, claim_fields) = spec_of(version), ADDED_SINCE[version]
    stored = {k: v for k, v in program.model_dump(mode="json").items() if k not in program_fields}
    stored["provenance"] = {name: [{k: v for k, v in claim.items() if k not in claim_fields} for claim in claims]
                            for name, claims in stored["provenance"].items()}
    return {**{k: v for k, v in to_document(program).items() if k in spec.fields}, "program": stored}


def programs():
    flat = make_program("Alpha Hosting", "https://alpha.com", commission_text="$25 per sale",
                        countries=["United States"])
    flat.last_verified_at = NOW  # a field v2 did not index: the migrated document must carry it
    percent = make_program("Bravo Books", "https://bravo.com", commission_text="30% per sale")
    return [flat, percent]


@pytest.fixture(params=BACKENDS)
def rt(request, tmp_path, monkeypatch):
    """The environment the programs function reads its index from, and a runtime on the same index."""
    on_backend(request, tmp_path, monkeypatch)
    return Runtime("test")


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_a_migrated_index_is_served_as_a_freshly_indexed_one(rt, version):
    older = spec_of(version)
    rt.index.ensure_index(older)
    assert rt.index.bulk_upsert("programs", [written_by(version, p) for p in programs()], refresh=True).errors == []

    assert rt.index.migrate(PROGRAMS_INDEX) == 2
    assert rt.index.status("programs").current == PROGRAMS_INDEX.version

    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    fresh = {p.id: {k: v for k, v in to_document(p).items() if k not in BESIDE} for p in programs()}
    page = app.get("/programs?sort=name", headers=auth)
    assert page.status_code == 200, page.text
    assert page.json["items"] == [fresh[p.id] for p in programs()]
    assert page.json["items"][0]["last_verified_at"] == NOW.isoformat() and page.json["items"][0]["sources"] == ["test"]
    facets = page.json["facets"]
    assert facets["commission_flat_currencies"] == [{"value": "USD", "count": 1}]
    # Alpha names the US; Bravo, naming none, takes it, and is counted as open to every country too
    assert facets["countries"] == [{"value": "US", "count": 2}, {"value": "worldwide", "count": 1}]

    usd = app.get("/programs?flat_currency=USD&min_commission_flat=20", headers=auth)
    assert usd.status_code == 200 and [item["id"] for item in usd.json["items"]] == [programs()[0].id]
    for program in programs():  # the stored program as it was written, read by today's model (new fields defaulted)
        one = app.get(f"/programs/{program.id}", headers=auth)
        as_written = Program.model_validate(written_by(version, program)["program"]).model_dump(mode="json")
        assert one.status_code == 200 and one.json == as_written and one.json["name"] == program.name
    merchants = app.get("/merchants?q=alpha", headers=auth)
    assert merchants.status_code == 200 and [m["merchant_key"] for m in merchants.json["items"]] == ["alpha.com"]


def test_a_search_of_an_index_not_yet_migrated_is_a_503_naming_the_migration_not_the_callers_fault(rt, capsys):
    """Deployed before `amx index migrate programs`, every search asked for a field the older index lacks and was
    answered 400, as if the caller had asked wrong; the web explorer's pages too."""
    rt.index.ensure_index(spec_of(PROGRAMS_INDEX.version - 1))
    app, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    answer = app.get("/programs?q=alpha", headers=auth)
    assert answer.status_code == 503 and answer.json["error"]["code"] == "unavailable", answer.text
    logged = capsys.readouterr().err
    assert "run `amx index migrate programs`" in logged and "has no field 'open_countries'" in logged
    rt.index.migrate(PROGRAMS_INDEX)  # by another process: this one's view of the index follows it
    assert app.get("/programs?q=alpha", headers=auth).status_code == 200


def test_a_stored_program_that_cannot_be_read_aborts_the_migration_before_the_swap(rt):
    older = spec_of(3)
    rt.index.ensure_index(older)
    good, damaged = (written_by(3, p) for p in programs())
    damaged["program"]["commission"] = [{"type": "flat", "value_min": "25"}]  # a flat commission with no currency
    assert rt.index.bulk_upsert("programs", [good, damaged], refresh=True).errors == []

    with pytest.raises(InvalidInput, match=f"aborted before the swap: 1 documents do not fit, e.g. .*{damaged['id']}"):
        rt.index.migrate(PROGRAMS_INDEX)
    assert rt.index.status("programs").current == 3
    assert rt.index.get("programs", good["id"]) == good
