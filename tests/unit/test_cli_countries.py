"""`amx show` printed a source's every-country claim (Impact's Worldwide: no list) as "—", as if it had said nothing
about countries; it says "every country", and a list by the countries' names, as the explorer does."""

import re

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program


def test_show_says_a_claim_of_no_country_is_every_country(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    rt = Runtime("test", Settings(data_dir=tmp_path))
    world = make_program("World Shop", "https://worldshop.com", countries=["Worldwide"])
    named = make_program("Named Shop", "https://namedshop.com", countries=["USA", "Deutschland"])
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(world), to_document(named)], refresh=True)
    rows = {}
    for program in (world, named):
        result = CliRunner().invoke(app, ["show", program.id])
        assert result.exit_code == 0, result.output
        rows[program.name] = [re.sub(r"[│┃|]", " ", line).split() for line in result.output.splitlines()
                              if re.search(r"\bCountries\b", line)]
    assert rows == {"World Shop": [["Countries", "every", "country", "test", "(c)", "✓"]],
                    "Named Shop": [["Countries", "Germany,", "United", "States", "test", "(c)", "✓"]]}
