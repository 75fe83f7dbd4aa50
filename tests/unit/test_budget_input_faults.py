"""The budget's input faults a marketer meets (found 2026-12-05): counts written with a fraction, a CSV separated by
semicolons, a campaign naming a program that is not indexed, a run asked for an absurd day, forecasts without their
currency. A local store, the budget function through its HTTP app, the CLI through typer's runner."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.auth import create_token
from affiliate_matrix.budget.campaigns import Campaign, history, import_csv, parse_days, record_days, save_campaign
from affiliate_matrix.cli import app as cli
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, InvalidInput
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client

HEADER = "campaign_id,date,spend,clicks,conversions,revenue,currency"


@pytest.fixture
def rt(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "300.00")
    runtime = Runtime("test", Settings(data_dir=tmp_path))
    save_campaign(runtime.store, Campaign(id="search-us", name="Search", channel="search", currency="USD"), create=True)
    return runtime


def admin(rt) -> dict:
    return {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}


@pytest.mark.parametrize("column", ["clicks", "conversions"])
def test_a_csv_count_with_a_fraction_is_refused_naming_the_line_and_the_column(rt, column):
    """`clicks=2.5` was stored as 2.5 clicks: a count is whole. Spend and revenue keep their cents."""
    cells = {"clicks": "3", "conversions": "1"} | {column: "2.5"}
    data = (f"{HEADER}\nsearch-us,2026-11-01,10.25,3,1,20.50,USD\n"
            f"search-us,2026-11-02,10.25,{cells['clicks']},{cells['conversions']},20.50,USD\n").encode()
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert f"line 3: {column}: 2.5 is not a whole number" in str(refused.value)
    assert "Value error" not in str(refused.value)
    assert history(rt.store, "search-us") == []  # nothing written


@pytest.mark.parametrize("column", ["spend", "clicks", "revenue"])
def test_a_csv_number_of_hundreds_of_digits_is_refused_as_too_large_not_as_infinite(rt, column):
    """400 digits, read as a float, were infinity: refused 'Input should be a finite number (got inf)', a value the
    file does not hold."""
    cells = {"spend": "10.25", "clicks": "3", "revenue": "20.50"} | {column: "1" * 400}
    data = f"{HEADER}\nsearch-us,2026-11-01,{cells['spend']},{cells['clicks']},1,{cells['revenue']},USD\n".encode()
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert f"line 2: {column}: '{'1' * 40}'… is too large a number" in str(refused.value)
    assert "inf" not in str(refused.value)
    assert history(rt.store, "search-us") == []
    with pytest.raises(InvalidInput) as refused:  # nor is a cell that is no number echoed whole
        import_csv(rt, data.replace(b"1" * 400, b"x" * 100_000))
    assert f"line 2: {column}: '{'x' * 40}'… is not a number" in str(refused.value) and len(str(refused.value)) < 300


def test_a_csv_row_spread_over_lines_is_named_by_the_line_it_starts_on(rt):
    """A quoted cell may hold a line break (a spreadsheet writes one so): the error named the line the row ended on,
    where a person looking at the file finds the middle of a cell."""
    data = (f'{HEADER}\nsearch-us,2026-11-01,10.25,3,1,20.50,USD\n'
            f'search-us,2026-11-02,"10.25\n",2.5,1,20.50,USD\n').encode()
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert "line 3: clicks: 2.5 is not a whole number" in str(refused.value)


def test_a_csv_not_in_utf8_is_refused_naming_the_line(rt):
    """Saved by a spreadsheet in the locale's code page (a campaign named in Latin-1): the error gave the byte's offset
    in the file, which no editor shows, where every other error of the file names its line."""
    data = (f"{HEADER}\nsearch-us,2026-11-01,10.25,3,1,20.50,USD\n".encode()
            + "caf\u00e9-us,2026-11-02,10.25,3,1,20.50,USD\n".encode("latin-1"))
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert str(refused.value) == "line 3: not UTF-8 (byte 4 of the line is 0xe9); save the file as UTF-8"


def test_whole_counts_written_as_decimals_and_money_with_cents_are_taken(rt):
    import_csv(rt, f"{HEADER}\nsearch-us,2026-11-01,10.25,3.0,1,20.50,USD\n".encode())
    [day] = history(rt.store, "search-us")
    assert (day["spend"], day["clicks"], day["conversions"], day["revenue"]) == (10.25, 3, 1, 20.5)


@pytest.mark.parametrize("column", ["clicks", "conversions"])
def test_a_posted_count_with_a_fraction_is_refused_naming_the_day_and_the_field(rt, column):
    day = {"date": "2026-11-02", "spend": 10.25, "revenue": 20.5, "clicks": 3, "conversions": 1} | {column: 2.5}
    reply = function_client("budget").post("/campaigns/search-us/metrics", headers=admin(rt), json={
        "days": [{"date": "2026-11-01", "spend": 1, "revenue": 2}, day]})
    assert reply.status_code == 400
    assert reply.json["error"]["message"] == f"days.1.{column}: 2.5 is not a whole number (a count)"
    assert history(rt.store, "search-us") == []
    with pytest.raises(InvalidInput, match=rf"days\[1\]\.{column}: 2.5 is not a whole number"):
        parse_days([{"date": "2026-11-01", "spend": 1, "revenue": 2}, day], "USD")


def test_stored_days_with_a_fractional_count_are_still_read(rt):
    """Days stored before counts were checked are read as they are: only what is written now is refused."""
    rt.store.put("budget/metrics/search-us.json", json.dumps({"campaign_id": "search-us", "currency": "USD", "days": [
        {"date": "2026-11-01", "spend": 1.0, "clicks": 2.5, "revenue": 2.0}]}).encode())
    assert history(rt.store, "search-us")[0]["clicks"] == 2.5
    record_days(rt, Campaign(id="search-us", name="Search", channel="search", currency="USD"),
                parse_days([{"date": "2026-11-02", "spend": 1, "clicks": 3, "revenue": 2}], "USD"))
    assert [d["clicks"] for d in history(rt.store, "search-us")] == [2.5, 3]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_separated_by_semicolons_or_tabs_is_named_as_such(rt, separator):
    """A European spreadsheet writes `;` between columns (its decimal point is a comma): the header error listed every
    column as missing and the whole line as one unknown column."""
    rows = [HEADER.replace(",", separator),
            separator.join(["search-us", "2026-11-01", "10,25", "3", "1", "20,50", "USD"])]
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, ("\n".join(rows) + "\n").encode())
    shown = {";": "';'", "\t": "tabs"}[separator]
    assert str(refused.value).startswith(f"line 1: columns are separated by {shown}, expected ','")
    assert "missing" not in str(refused.value)


KNOWN = "p_0123456789abcdef"


def indexed(rt, *program_ids: str) -> None:
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt.index.ensure_index(PROGRAMS_INDEX)  # programs named by their ids (a campaign's programs are read as programs)
    docs = [to_document(make_program(program_id).model_copy(update={"id": program_id})) for program_id in program_ids]
    assert not rt.index.bulk_upsert(PROGRAMS_INDEX.name, docs, refresh=True).errors


def test_a_campaign_added_naming_a_program_not_indexed_is_refused_naming_it(rt):
    """`--program p_nope` was stored as it was typed: the campaign promoted a program that does not exist."""
    indexed(rt, KNOWN)
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "s2", "--name", "S", "--channel", "search",
                                     "--currency", "USD", "--program", KNOWN, "--program", "p_nope"])
    said = " ".join(added.output.replace("│", " ").split())
    assert added.exit_code == 2 and ("Invalid value for '--program': program 'p_nope' is not in the index (`amx "
                                     "search` finds a program's id)") in said, said
    assert rt.store.head("budget/campaigns/s2.json") is None
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "s2", "--name", "S", "--channel", "search",
                                     "--currency", "USD", "--program", KNOWN])
    assert added.exit_code == 0, added.output


def test_a_program_named_before_any_is_indexed_is_unknown(rt):
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "s2", "--name", "S", "--channel", "search",
                                     "--currency", "USD", "--program", KNOWN])
    assert added.exit_code == 2 and f"Invalid value for '--program': program {KNOWN!r}" in added.output


def test_a_campaign_posted_or_put_naming_a_program_not_indexed_is_refused_naming_it(rt):
    indexed(rt, KNOWN)
    client = function_client("budget")
    body = {"id": "s2", "name": "S", "channel": "search", "currency": "USD", "program_ids": [KNOWN, "p_nope"]}
    reply = client.post("/campaigns", json=body, headers=admin(rt))
    assert reply.status_code == 400
    assert reply.json["error"]["message"] == ("program_ids: program 'p_nope' is not in the index (`amx search` finds "
                                              "a program's id)")
    created = client.post("/campaigns", json={**body, "program_ids": [KNOWN]}, headers=admin(rt))
    assert created.status_code == 201
    reply = client.put("/campaigns/s2", json={**body, "program_ids": [KNOWN, "p_other"]},
                       headers={**admin(rt), "If-Match": created.headers["ETag"]})
    assert reply.status_code == 400 and "'p_other'" in reply.json["error"]["message"]


def test_a_campaign_without_its_currency_is_refused_naming_it_by_the_api_and_the_cli_alike(rt):
    """`POST /campaigns` required `currency` while `amx budget campaigns add` took USD when none was given: a euro
    campaign added without it was allocated from the dollar total. Both refuse it, naming the field."""
    reply = function_client("budget").post("/campaigns", json={"id": "s2", "name": "S", "channel": "search"},
                                           headers=admin(rt))
    assert reply.status_code == 400 and reply.json["error"]["message"].startswith("currency"), reply.json
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "s2", "--name", "S", "--channel", "search"],
                               env={"COLUMNS": "200"})
    assert added.exit_code == 2 and "Missing option '--currency'" in added.output, added.output
    assert not [c for c in CliRunner().invoke(cli, ["budget", "campaigns", "list"]).output.splitlines() if "s2" in c]


def test_a_program_named_before_keeps_its_campaign_editable_once_it_left_the_index(rt):
    """Only the programs a write adds are looked up: one removed from the index since does not stop a pause."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    indexed(rt, KNOWN)
    client = function_client("budget")
    body = {"id": "s2", "name": "S", "channel": "search", "currency": "USD", "program_ids": [KNOWN]}
    created = client.post("/campaigns", json=body, headers=admin(rt))
    assert created.status_code == 201
    rt.index.delete(PROGRAMS_INDEX.name, KNOWN, refresh=True)
    reply = client.put("/campaigns/s2", json={**body, "active": False},
                       headers={**admin(rt), "If-Match": created.headers["ETag"]})
    assert reply.status_code == 200, reply.json


def test_programs_are_taken_unchecked_and_logged_when_the_index_does_not_answer(rt, monkeypatch):
    from structlog.testing import capture_logs

    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    def down(self, name, doc_ids):
        raise BackendUnavailable("the search index is not answering")

    monkeypatch.setattr(SqliteSearchIndex, "get_many", down)
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "s2", "--name", "S", "--channel", "search",
                                     "--currency", "USD", "--program", "p_nope"])
    assert added.exit_code == 0, added.output
    client = function_client("budget")  # started (its logging set up) before the logs are captured
    with capture_logs() as logs:
        reply = client.post("/campaigns", json={"id": "s3", "name": "S", "channel": "search", "currency": "USD",
                                                "program_ids": ["p_nope"]}, headers=admin(rt))
    assert reply.status_code == 201, reply.json
    assert [log["programs"] for log in logs if log["event"] == "budget.programs_unchecked"] == [["p_nope"]]


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "9001-01-01", "9999-12-31"])
def test_a_run_of_an_absurd_day_is_refused_naming_the_field_and_the_years(rt, day):
    """`POST /allocations {"day": "0001-01-01"}` stored a run for the year 1. A day is bounded as the daily tick's
    is: its event's time is refused outside the years 1970 to 9000."""
    reply = function_client("budget").post("/allocations", json={"day": day}, headers=admin(rt))
    assert reply.status_code == 400
    assert reply.json["error"]["message"] == f"day: {day} is not between the years 1970 and 9000"
    ran = CliRunner().invoke(cli, ["budget", "run", "--day", day])
    assert ran.exit_code == 2 and "--day" in ran.output
    assert list(rt.store.list("budget/runs/")) == []


@pytest.mark.parametrize("day", ["1970-01-01", "2026-11-10", "9000-12-31"])
def test_a_run_of_a_day_in_those_years_is_stored(rt, day):
    reply = function_client("budget").post("/allocations", json={"day": day}, headers=admin(rt))
    assert reply.status_code == 201, reply.json
    assert reply.json["day"] == day


def days_of(count: int) -> list[dict]:
    return [{"date": f"2026-10-{1 + i:02d}", "spend": 10.0, "revenue": 30.0 + 5 * (i % 3)} for i in range(count)]


def test_a_forecast_row_carries_its_campaigns_currency(rt):
    """A forecast's revenue was printed with no currency: a EUR campaign's read as dollars beside a USD one's."""
    from affiliate_matrix.budget.forecast import stored_forecast

    save_campaign(rt.store, Campaign(id="social-de", name="Social", channel="social", currency="EUR"), create=True)
    save_campaign(rt.store, Campaign(id="video-de", name="Video", channel="video", currency="EUR"), create=True)
    for cid, currency in (("search-us", "USD"), ("social-de", "EUR")):
        record_days(rt, Campaign(id=cid, name=cid, channel="search", currency=currency),
                    parse_days(days_of(10), currency))
    rt.store.put("budget/metrics/video-de.json", b'{"days": [{"date": "2026-11-01", "spend": "lots"}]}')
    rows = {row.campaign_id: row for row in stored_forecast(rt, 7).forecasts}
    assert {cid: row.currency for cid, row in rows.items()} == {"search-us": "USD", "social-de": "EUR",
                                                                "video-de": "EUR"}
    assert rows["social-de"].revenue and rows["video-de"].revenue == []  # forecast, and damaged: named either way
    shown = CliRunner().invoke(cli, ["budget", "forecast", "--from-store", "--campaign", "social-de", "--horizon", "7"])
    assert shown.exit_code == 0, shown.output
    assert f"{sum(p.value for p in rows['social-de'].revenue):,.2f} EUR revenue over 7 days" in shown.output



def test_the_reports_summary_writes_a_forecast_as_amx_budget_forecast_does(rt, tmp_path):
    """The report's summary rounded a forecast's revenue to whole dollars (`7,068 USD`) where `amx budget forecast`
    writes it to the cent (`7,068.40 USD`); a currency without cents is whole in both."""
    from affiliate_matrix.budget.forecast import stored_forecast
    from affiliate_matrix.budget.report import report

    for cid, currency in (("brand-us", "USD"), ("brand-jp", "JPY")):
        campaign = Campaign(id=cid, name=cid, channel="search", currency=currency)
        save_campaign(rt.store, campaign, create=True)
        record_days(rt, campaign, parse_days(days_of(10), currency))
    totals = {row.campaign_id: sum(p.value for p in row.revenue) for row in stored_forecast(rt, 7).forecasts}
    summary = report(rt, tmp_path / "report", horizon=7).summary
    shown = CliRunner().invoke(cli, ["budget", "forecast", "--from-store", "--horizon", "7"])
    for cid, figure in (("brand-us", f"{totals['brand-us']:,.2f} USD"),
                        ("brand-jp", f"{totals['brand-jp']:,.0f} JPY")):
        assert f"{figure} revenue over 7 days" in shown.output, shown.output
        assert f"{cid}: ETS" in summary and f"forecasts {figure} revenue over 7 days" in summary, summary

def test_a_requests_forecast_rows_carry_its_currency_and_none_without_one():
    from affiliate_matrix.budget.contract import forecast_json
    from affiliate_matrix.budget.models import ForecastResult

    request = {"horizon_days": 7, "campaigns": [{"id": "a", "history": days_of(10)}, {"id": "b", "history": []}]}
    with_currency = json.loads(forecast_json(json.dumps({**request, "currency": "JPY"})))
    assert [row["currency"] for row in with_currency["forecasts"]] == ["JPY", "JPY"]
    without = json.loads(forecast_json(json.dumps(request)))
    assert [row["currency"] for row in without["forecasts"]] == [None, None]
    for row in without["forecasts"]:  # a forecast printed before rows had a currency is read as before
        del row["currency"]
    assert ForecastResult.model_validate(without).forecasts[0].currency is None


@pytest.mark.parametrize("command", ["run", "pacing"])
def test_a_day_given_on_the_command_line_is_yyyy_mm_dd_exactly(rt, command):
    """`--day 20261110` ran (or paced) 2026-11-10: date.fromisoformat reads the basic form too, which the API and the
    CSV refuse as not YYYY-MM-DD."""
    ran = CliRunner().invoke(cli, ["budget", command, "--day", "20261110"])
    assert ran.exit_code == 2 and "'20261110' is not a date (YYYY-MM-DD" in ran.output
    assert list(rt.store.list("budget/runs/")) == []


@pytest.mark.parametrize("command", ["forecast", "allocate"])
@pytest.mark.parametrize("column", ["clicks", "conversions"])
def test_a_requests_count_with_a_fraction_is_refused_in_the_words_of_the_api(command, column):
    """`amx budget forecast --json` (and allocate's) took 1.5 clicks where the CSV import and the API refuse them."""
    day = {"date": "2026-10-11", "spend": 10.0, "revenue": 30.0, "clicks": 3, "conversions": 1} | {column: 1.5}
    request = {"horizon_days": 7} if command == "forecast" else {"total_budget": 100, "currency": "USD",
                                                                 "strategy": "equal"}
    request["campaigns"] = [{"id": "a", "history": days_of(10)}, {"id": "b", "history": [*days_of(10), day]}]
    refused = CliRunner().invoke(cli, ["budget", command, "--json"], input=json.dumps(request))
    assert isinstance(refused.exception, InvalidInput)
    assert str(refused.exception) == f"campaigns.1.history.10.{column}: 1.5 is not a whole number (a count)"
    day[column] = 2.0  # a whole count written as a decimal is taken, as the CSV takes 3.0
    taken = CliRunner().invoke(cli, ["budget", command, "--json"], input=json.dumps(request))
    assert taken.exit_code == 0, taken.output


def test_a_requests_campaigns_in_several_currencies_are_forecast_each_in_its_own():
    """A request named one currency for every campaign (a campaign naming its own was refused as an unknown field), so
    EUR and USD campaigns could not be forecast in one request. Each is forecast alone, so nothing is added across."""
    from affiliate_matrix.budget.contract import forecast_json

    request = {"horizon_days": 7, "currency": "USD", "campaigns": [
        {"id": "us", "history": days_of(10)}, {"id": "de", "currency": "EUR", "history": days_of(10)},
        {"id": "jp", "currency": "JPY", "history": []}]}
    rows = json.loads(forecast_json(json.dumps(request)))["forecasts"]
    assert [(row["campaign_id"], row["currency"]) for row in rows] == [("us", "USD"), ("de", "EUR"), ("jp", "JPY")]
    alone = json.loads(forecast_json(json.dumps({"horizon_days": 7, "campaigns": [request["campaigns"][1]]})))
    assert alone["forecasts"][0] == rows[1]
    shown = CliRunner().invoke(cli, ["budget", "forecast"], input=json.dumps(request))
    assert shown.exit_code == 0, shown.output
    total = sum(p["value"] for p in rows[1]["revenue"])
    assert f"de: {rows[1]['model']}, {total:,.2f} EUR revenue" in shown.output


def test_an_allocation_of_campaigns_in_several_currencies_is_refused_naming_them():
    """An allocation adds amounts up to one total: with no exchange rates, campaigns in another currency are refused."""
    request = {"total_budget": 100, "currency": "USD", "strategy": "equal", "campaigns": [
        {"id": "us", "currency": "USD", "history": days_of(3)}, {"id": "de", "currency": "EUR", "history": days_of(3)},
        {"id": "jp", "currency": "JPY"}]}
    refused = CliRunner().invoke(cli, ["budget", "allocate", "--json"], input=json.dumps(request))
    assert isinstance(refused.exception, InvalidInput)
    assert "campaigns in EUR, JPY beside currency USD" in str(refused.exception)
    del request["campaigns"][1:]
    assert CliRunner().invoke(cli, ["budget", "allocate", "--json"], input=json.dumps(request)).exit_code == 0


@pytest.mark.parametrize("currency, amount", [("usd", "50.00 USD"), ("JPY", "50 JPY")])
def test_amx_budget_allocates_table_says_each_amount_in_its_currency(currency, amount):
    """`amx budget allocate`'s table said "50.00", in no currency (amx budget run says "50.00 USD"), and a yen
    amount with cents."""
    request = {"total_budget": 100, "currency": currency, "strategy": "equal",
               "campaigns": [{"id": "a", "history": days_of(3)}, {"id": "b"}]}
    shown = CliRunner().invoke(cli, ["budget", "allocate"], input=json.dumps(request))
    assert shown.exit_code == 0, (shown.output, shown.exception)
    rows = {row[0]: row for row in (tuple(cell.strip() for cell in line.split("│")[1:-1])
                                    for line in shown.output.splitlines() if "│" in line)}
    assert rows["a"][1] == rows["b"][1] == amount, shown.output


def test_a_stored_campaign_naming_a_program_not_in_the_index_says_so_where_it_is_shown(rt, tmp_path):
    """Campaigns stored before their programs were checked (or whose program left the index since) named them
    unsaid: the list showed no programs and nothing showed one campaign. Each is kept as stored and named, not
    failed."""
    from affiliate_matrix.budget.campaigns import load_campaign
    from affiliate_matrix.budget.report import report

    indexed(rt, KNOWN)
    save_campaign(rt.store, Campaign(id="old-1", name="Old", channel="search", currency="USD",
                                     program_ids=[KNOWN, "p_gone", "[bold]p_typo"]), create=True)
    listed = CliRunner().invoke(cli, ["budget", "campaigns", "list"])
    assert listed.exit_code == 0, listed.output
    said = " ".join(listed.output.split())
    assert ("old-1 names programs not in the index (gone from it, or never in it): p_gone, [bold]p_typo; `amx search` "
            "finds a program's id") in said
    assert "search-us names" not in said  # it names none
    shown = CliRunner().invoke(cli, ["budget", "campaigns", "show", "old-1"])
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())
    assert f"programs {KNOWN} {KNOWN} p_gone not in the index (gone from it, or never in it); `amx search` finds a " \
           "program's id [bold]p_typo not in the index" in said  # a name from the index (indexed() gives its id)
    summary = report(rt, tmp_path / "report", horizon=7).summary
    assert ("old-1 names programs not in the index (gone from it, or never in it): p_gone, [bold]p_typo."
            in summary.splitlines())
    assert load_campaign(rt.store, "old-1")[0].program_ids == [
        KNOWN, "p_gone", "[bold]p_typo"]  # kept as stored


def test_campaigns_are_listed_and_shown_when_the_index_does_not_answer_their_programs(rt, monkeypatch):
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    save_campaign(rt.store, Campaign(id="old-1", name="Old", channel="search", currency="USD",
                                     program_ids=["p_gone"]), create=True)

    def down(self, name, doc_ids):
        raise BackendUnavailable("the search index is not answering")

    monkeypatch.setattr(SqliteSearchIndex, "get_many", down)
    listed = CliRunner().invoke(cli, ["budget", "campaigns", "list"])
    assert listed.exit_code == 0 and "old-1" in listed.output
    assert "programs not checked: the programs index did not answer" in " ".join(listed.output.split())
    shown = CliRunner().invoke(cli, ["budget", "campaigns", "show", "old-1"])
    assert shown.exit_code == 0 and "p_gone not checked: the programs index did not answer" in " ".join(
        shown.output.split())


def traced_import(rt, data: bytes) -> tuple[dict, int]:
    """An import's result and the peak of memory it took (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        return import_csv(rt, data), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def peak_of_import(rt, monkeypatch, campaign_id: str, count: int, resumed: bool) -> tuple[int, int]:
    """The size of a file of `count` consecutive days of a new campaign, and the peak of memory its import took (after
    an import stopped at the campaign's write, when `resumed`: the same file again finds its journal, and is read
    again)."""
    from datetime import date

    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.search import SearchQuery

    save_campaign(rt.store, Campaign(id=campaign_id, name="S", channel="search", currency="USD"), create=True)
    first = date(1990, 1, 1).toordinal()
    data = "".join([f"{HEADER}\n", *(f"{campaign_id},{date.fromordinal(first + i)},10.25,3,1,20.50,USD\n"
                                      for i in range(count))]).encode()
    if resumed:
        put = rt.store.put
        with monkeypatch.context() as down:
            down.setattr(rt.store, "put", lambda key, *a, **kw: (_ for _ in ()).throw(BackendUnavailable("down"))
                         if key.startswith("budget/metrics/") else put(key, *a, **kw))
            with pytest.raises(Exception, match=f"the import stopped at campaign {campaign_id}"):
                import_csv(rt, data)
    written, peak = traced_import(rt, data)
    assert written.written == {campaign_id: count}
    kept = history(rt.store, campaign_id)
    assert len(kept) == MAX_STORED_DAYS and kept[-1]["date"] == date.fromordinal(first + count - 1)
    mirrored = rt.index.search(BUDGET_INDEX.name, SearchQuery(filters={"campaign_id": [campaign_id]}, size=0))
    assert mirrored.total == count  # every day, those the campaign drops too: the dashboards keep them
    return len(data), peak


@pytest.mark.parametrize("resumed", [False, True], ids=["checked", "finished-from-its-journal"])
def test_a_long_csv_import_holds_a_few_times_its_file_in_memory(rt, monkeypatch, resumed):
    """A file of one campaign's consecutive days took ~37x its size at its peak (2 GB of RSS for 30 MB; the 50 MiB
    limit let ~3 GB through): each row kept as a dict, copied into the journal, checked again, copied again to be
    merged, and mirrored to the index in one request of ~600 bytes a day. What a larger file takes more is measured
    (two files: what any import takes, caches and buffers, cancels out)."""
    save_campaign(rt.store, Campaign(id="warm-up", name="W", channel="search", currency="USD"), create=True)
    import_csv(rt, f"{HEADER}\nwarm-up,2026-11-01,1,1,1,2,USD\n".encode())  # caches, the index: not the file's
    small, small_peak = peak_of_import(rt, monkeypatch, "short", 4_000, resumed)
    large, large_peak = peak_of_import(rt, monkeypatch, "long", 12_000, resumed)
    per_byte = (large_peak - small_peak) / (large - small)
    assert per_byte < 16, f"{per_byte:.1f} bytes of memory a byte of the file"


def peak_of_campaigns(rt, prefix: str, campaigns: int, days: int) -> tuple[int, int]:
    """The size of a file of `days` days of `campaigns` new campaigns, dated day after day with every campaign's row of
    a day together (as a report is exported: a campaign's rows are all over the file), and the peak of memory its
    import took."""
    from datetime import date, timedelta

    ids = [f"{prefix}-{number}" for number in range(campaigns)]
    for campaign_id in ids:
        save_campaign(rt.store, Campaign(id=campaign_id, name="C", channel="search", currency="USD"), create=True)
    data = "".join([f"{HEADER}\n", *(f"{campaign_id},{date(2024, 1, 1) + timedelta(days=day)},10.25,3,1,20.50,USD\n"
                                      for day in range(days) for campaign_id in ids)]).encode()
    written, peak = traced_import(rt, data)
    assert written.written == dict.fromkeys(ids, days)
    assert [len(history(rt.store, campaign_id)) for campaign_id in ids] == [days] * campaigns
    return len(data), peak


def import_peaks(data_dir: str) -> dict:
    """The sizes and peaks of the measured imports (peak_of_campaigns), after a warm-up of the measured shape (caches,
    the index, what the process imports on first use: not the file's). Each the least of two imports: a peak is the
    file's and whatever else the process happened to hold at its moment: what happened is only ever added."""
    import os

    os.environ.update(AMX_DATA_DIR=data_dir, AMX_BUDGET_DAILY_TOTAL="300.00")
    rt = Runtime("test", Settings(data_dir=data_dir))
    peak_of_campaigns(rt, "warm", 10, 200)
    return {name: min(peak_of_campaigns(rt, f"{name}{twin}", campaigns, days) for twin in (1, 2))
            for name, campaigns, days in (("base", 10, 200), ("wide", 40, 200), ("long", 10, 800))}


def test_a_csv_import_of_many_campaigns_holds_one_campaigns_days_at_a_time(tmp_path):
    """A year of daily rows of a few thousand campaigns (hundreds of MB) took ~13x its size at once (every row a dict
    of the journal until the last campaign was written): the budget pod was killed. Now each campaign's rows are read
    back from disk when it is checked and written. What a larger file takes more is measured (what any import takes,
    caches and buffers, cancels out): four times the campaigns, little; four times the days of each, more. Measured in
    a process of its own: in a test worker, the threads earlier tests left (servers, their log readers) allocate
    meanwhile, and CI runs saw the wide file at 0.44 and 0.46 bytes a byte where a process of its own sees 0.15."""
    import subprocess
    import sys

    from tests.support.processes import ROOT

    measured = subprocess.run(
        [sys.executable, "-c", "import json, sys; from tests.unit.test_budget_input_faults import import_peaks; "
                               "print(json.dumps(import_peaks(sys.argv[1])))", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert measured.returncode == 0, measured.stderr[-3000:]
    (size, peak), (wide_size, wide_peak), (long_size, long_peak) = json.loads(measured.stdout.splitlines()[-1]).values()
    wide, long = (wide_peak - peak) / (wide_size - size), (long_peak - peak) / (long_size - size)
    assert wide < 0.5 and wide < long / 3, f"{wide:.2f} and {long:.2f} bytes of memory a byte of the file"


def test_a_csv_is_checked_for_utf8_a_chunk_at_a_time_naming_the_line(rt):
    """The file is no longer held whole to be checked: a character cut by a chunk's end is whole with the next chunk,
    and a byte that is not UTF-8 past the first chunk is named by its line and its byte in the line, as before."""
    from affiliate_matrix.csv_rows import CHUNK

    row = "search-us,{},10.25,3,1,20.50,USD\n"
    head = f"{HEADER}\n" + "".join(row.format(f"2024-01-{day:02d}") for day in range(1, 29))
    pad = "x" * (CHUNK - len(head.encode()) - 1)  # a quoted cell whose last character is cut by the first chunk
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, (head + f'"{pad}\u00e9",x,x,x,x,x,x\ncaf\u00e9-us,2026-11-02,1,1,1,2,USD\n').encode())
    assert "not UTF-8" not in str(refused.value) and "line 31: campaign_id: 'caf\u00e9-us'" in str(refused.value)
    data = (head + f'"{pad}",x,x,x,x,x,x\n').encode() + "caf\u00e9-us,2026-11-02,1,1,1,2,USD\n".encode("latin-1")
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert str(refused.value) == "line 31: not UTF-8 (byte 4 of the line is 0xe9); save the file as UTF-8"


def test_a_csv_changed_between_its_reads_is_refused_and_nothing_is_written(rt, tmp_path, monkeypatch):
    """The file is read twice (its SHA-256 and UTF-8, then its rows): rows read from a file rewritten in between were
    not the file the journal is named by, so a later import of either would finish the other's."""
    from affiliate_matrix.budget import campaigns

    path = tmp_path / "perf.csv"
    path.write_bytes(f"{HEADER}\nsearch-us,2026-11-01,10.25,3,1,20.50,USD\n".encode())
    hashed = campaigns.check_utf8

    def then_rewritten(handle, digest, limit):
        hashed(handle, digest, limit)
        with path.open("r+b") as rewritten:  # in place: the handle open for the import reads it
            rewritten.seek(len(HEADER) + 1 + len("search-us,2026-11-01,"))
            rewritten.write(b"99")

    monkeypatch.setattr(campaigns, "check_utf8", then_rewritten)
    with path.open("rb") as handle, pytest.raises(InvalidInput, match="the file changed while it was read"):
        import_csv(rt, handle)
    assert history(rt.store, "search-us") == [] and list(rt.store.list("budget/imports/")) == []


AMOUNT = 'Input should be an amount: a number, or a decimal as text ("250.00")'
NUMBER, WHOLE = "Input should be a valid number", "Input should be a valid integer"


def request_with(command: str, path: str, value) -> dict:
    """A request of `command` (allocate or forecast) whose field at `path` (dotted, as errors name it) is `value`."""
    request = {"total_budget": "100.00", "currency": "USD", "strategy": "equal", "seed": 1, "horizon_days": 7,
               "campaigns": [{"id": "a", "min_budget": "1.00", "max_budget": "90.00", "history": [
                   {"date": "2026-10-01", "spend": 10.0, "clicks": 3, "conversions": 1, "revenue": 30.0}]}]}
    if command == "allocate":
        del request["horizon_days"]
    *parents, last = path.split(".")
    target = request
    for part in parents:
        target = target[int(part) if part.isdigit() else part]
    target[last] = value
    return request


@pytest.mark.parametrize("command", ["allocate", "forecast"])
@pytest.mark.parametrize("path,value,said", [
    ("total_budget", True, f"{AMOUNT}, got true"),
    ("total_budget", [100], f"{AMOUNT}, got a list"),
    ("campaigns.0.min_budget", False, f"{AMOUNT}, got false"),
    ("campaigns.0.max_budget", {"amount": 1}, f"{AMOUNT}, got an object"),
    ("campaigns.0.history.0.spend", True, f"{NUMBER}, got true"),
    ("campaigns.0.history.0.revenue", "30", f"{NUMBER}, got text"),
    ("campaigns.0.history.0.clicks", True, f"{NUMBER}, got true"),
    ("campaigns.0.history.0.conversions", None, f"{NUMBER}, got null"),
    ("seed", True, f"{WHOLE}, got true"),
    ("seed", 1.5, f"{WHOLE}, got 1.5"),
])
def test_a_requests_amount_or_count_of_another_type_is_refused_naming_the_field_and_what_was_given(command, path,
                                                                                                   value, said):
    """`"spend": true` was a spend of 1 and `"seed": true` seed 1 (Python's bool is an int), "30" was 30.0, and
    `"total_budget": true` was refused as no "Decimal object": every amount and count of a request is a JSON number
    (an amount a decimal as text too), or the field and what was given are named, as POST /campaigns/{id}/metrics
    names them."""
    refused = CliRunner().invoke(cli, ["budget", command, "--json"], input=json.dumps(request_with(command, path, value)))
    assert isinstance(refused.exception, InvalidInput), refused.output
    assert str(refused.exception) == f"{path}: {said}"


@pytest.mark.parametrize("value,said", [(True, "got true"), ("7", "got text"), (7.0, "got 7.0")])
def test_a_forecasts_horizon_of_another_type_is_refused_naming_what_was_given(value, said):
    refused = CliRunner().invoke(cli, ["budget", "forecast", "--json"], input=json.dumps(
        request_with("forecast", "horizon_days", value)))
    assert isinstance(refused.exception, InvalidInput), refused.output
    assert str(refused.exception) == f"horizon_days: {WHOLE}, {said}"


@pytest.mark.parametrize("command", ["allocate", "forecast"])
def test_a_requests_amounts_as_numbers_or_text_and_whole_counts_as_decimals_are_taken(command):
    request = request_with(command, "total_budget", 100)
    request["campaigns"][0] |= {"min_budget": 1.5, "max_budget": "90"}
    request["campaigns"][0]["history"][0] |= {"spend": 10, "clicks": 3.0}
    taken = CliRunner().invoke(cli, ["budget", command, "--json"], input=json.dumps(request))
    assert taken.exit_code == 0, (taken.output, taken.exception)


@pytest.mark.parametrize("field,value,said", [("spend", True, f"{NUMBER}, got true"),
                                              ("clicks", False, f"{NUMBER}, got false"),
                                              ("revenue", "20.50", f"{NUMBER}, got text"),
                                              ("conversions", [1], f"{NUMBER}, got a list")])
def test_a_posted_days_figure_of_another_type_is_refused_naming_the_field_and_what_was_given(rt, field, value, said):
    day = {"date": "2026-11-01", "spend": 10.25, "revenue": 20.5, "clicks": 3, "conversions": 1} | {field: value}
    reply = function_client("budget").post("/campaigns/search-us/metrics", headers=admin(rt), json={"days": [day]})
    assert reply.status_code == 400 and reply.json["error"]["message"] == f"days.0.{field}: {said}"
    with pytest.raises(InvalidInput) as refused:  # the days' own check, as the handler calls it, in the same words
        parse_days([day], "USD")
    assert str(refused.value) == f"days[0].{field}: {said}"
    assert history(rt.store, "search-us") == []


@pytest.mark.parametrize("field", ["min_budget", "max_budget"])
@pytest.mark.parametrize("value,said", [(True, "got true"), ([5], "got a list"), (None, None)])
def test_a_campaigns_bound_of_another_type_is_refused_by_the_api_naming_what_was_given(rt, field, value, said):
    """`"min_budget": true` was refused as "Decimal input should be an integer, float, string or Decimal object"."""
    body = {"id": "typed", "name": "Typed", "channel": "search", "currency": "USD", field: value}
    reply = function_client("budget").post("/campaigns", headers=admin(rt), json=body)
    if said is None:  # no bound
        assert reply.status_code == 201 and reply.json[field] is None, reply.json
        return
    assert reply.status_code == 400 and reply.json["error"]["message"] == f"{field}: {AMOUNT}, {said}", reply.json


@pytest.mark.parametrize("currency,written,answered", [("USD", 250, "250.00"), ("USD", "1e3", "1000.00"),
                                                       ("USD", 12.5, "12.50"), ("USD", "7.10", "7.10"),
                                                       ("JPY", "1000", "1000"), ("JPY", 5e3, "5000")])
def test_a_campaigns_bounds_are_answered_to_its_currencys_smallest_unit_however_typed(rt, currency, written, answered):
    """`"max_budget": 250` came back "250", "1e3" "1000" and "250.00" as typed: one campaign's amounts written three
    ways. They are written as money_text writes them (to the cent; whole units in a currency without cents)."""
    budget = function_client("budget")
    made = budget.post("/campaigns", headers=admin(rt), json={"id": "typed", "name": "Typed", "channel": "search",
                                                              "currency": currency, "max_budget": written})
    assert made.status_code == 201 and made.json["max_budget"] == answered, made.json
    assert budget.get("/campaigns/typed", headers=admin(rt)).json["max_budget"] == answered
    assert json.loads(rt.store.get("budget/campaigns/typed.json").data)["max_budget"] == answered
    listed = CliRunner().invoke(cli, ["budget", "campaigns", "add", "typed-cli", "--name", "T", "--channel", "search",
                                      "--currency", currency, "--max", str(written)])
    assert listed.exit_code == 0, listed.output
    assert json.loads(rt.store.get("budget/campaigns/typed-cli.json").data)["max_budget"] == answered


def test_a_campaign_stored_with_its_bounds_as_typed_is_read_and_answered_to_the_cent(rt):
    """Stored before amounts were written one way: read as it is, answered as any other."""
    rt.store.put("budget/campaigns/old.json", json.dumps({
        "id": "old", "name": "Old", "channel": "search", "currency": "USD", "min_budget": "5", "max_budget": "1E+3",
        "created_at": "2026-11-01T00:00:00Z"}).encode())
    read = function_client("budget").get("/campaigns/old", headers=admin(rt))
    assert read.status_code == 200 and (read.json["min_budget"], read.json["max_budget"]) == ("5.00", "1000.00")


def test_counts_are_stored_and_answered_as_integers_and_those_stored_as_floats_read_as_integers(rt):
    """GET /campaigns/{id}/metrics answered `"clicks": 3.0`: a count is an integer. Days stored before (3.0) are
    answered so too; one stored with a fraction before counts were checked is answered as stored."""
    rt.store.put("budget/metrics/search-us.json", json.dumps({"campaign_id": "search-us", "currency": "USD", "days": [
        {"date": "2026-11-01", "spend": 1.0, "clicks": 4.0, "conversions": 1.0, "revenue": 2.0},
        {"date": "2026-11-02", "spend": 1.0, "clicks": 2.5, "revenue": 2.0}]}).encode())
    budget = function_client("budget")
    posted = budget.post("/campaigns/search-us/metrics", headers=admin(rt), json={"days": [
        {"date": "2026-11-03", "spend": 10.25, "clicks": 3.0, "conversions": 1, "revenue": 20.5}]})
    assert posted.status_code == 200, posted.json
    import_csv(rt, f"{HEADER}\nsearch-us,2026-11-04,10.25,7.0,2,20.50,USD\n".encode())
    days = budget.get("/campaigns/search-us/metrics", headers=admin(rt)).json["days"]
    assert [(d.get("clicks"), d.get("conversions")) for d in days] == [(4, 1), (2.5, None), (3, 1), (7, 2)]
    assert all(type(d["clicks"]) is int for d in days if d["date"] != "2026-11-02")
    stored = json.loads(rt.store.get("budget/metrics/search-us.json").data)["days"]
    assert [(d["clicks"], d.get("conversions")) for d in stored[2:]] == [(3, 1), (7, 2)]
    assert all(type(d["clicks"]) is int for d in stored[2:])  # written as integers from now on


def test_a_runs_inputs_are_answered_with_amounts_to_the_cent_and_counts_as_integers(rt, monkeypatch):
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "300")
    save_campaign(rt.store, Campaign(id="social-us", name="Social", channel="social", currency="USD",
                                     min_budget=20), create=True)
    record_days(rt, Campaign(id="search-us", name="Search", channel="search", currency="USD"),
                parse_days([{"date": "2026-11-01", "spend": 1, "clicks": 3.0, "revenue": 2}], "USD"))
    budget = function_client("budget")
    ran = budget.post("/allocations", headers=admin(rt), json={"day": "2026-11-02"})
    assert ran.status_code == 201, ran.json
    [part] = budget.get("/allocations/2026-11-02", headers=admin(rt)).json["parts"]
    assert part["request"]["total_budget"] == "300.00"
    assert {c["id"]: c["min_budget"] for c in part["request"]["campaigns"]} == {"search-us": None,
                                                                                "social-us": "20.00"}
    assert [d["clicks"] for c in part["request"]["campaigns"] for d in c["history"]] == [3]


def test_a_count_is_said_with_its_noun_and_its_thousands_grouped():
    from affiliate_matrix.wording import counted

    assert [counted(n, "day") for n in (0, 1, 2, 1100, 1_234_567)] == ["0 days", "1 day", "2 days", "1,100 days",
                                                                        "1,234,567 days"]
    assert counted(1000, "allocation run") == "1,000 allocation runs"


@pytest.mark.parametrize("new,said", [(1, "1 campaign with under 3 days of spend is treated"),
                                      (2, "2 campaigns with under 3 days of spend are treated")])
def test_an_allocations_explanation_counts_the_new_campaigns_in_words(new, said):
    """It said "1 campaign(s) with under 3 days of spend are treated as a typical campaign"."""
    from affiliate_matrix.budget.contract import allocate_json

    days = [{"date": f"2026-10-{d + 1:02d}", "spend": 10.0 + 5 * d, "revenue": 30.0 + 9 * d} for d in range(10)]
    request = {"total_budget": 100, "currency": "USD", "strategy": "optimal", "seed": 1, "campaigns": [
        {"id": "a", "history": days}, *({"id": f"new-{i}", "history": days[:1]} for i in range(new))]}
    explanation = json.loads(allocate_json(json.dumps(request)))["explanation"]
    assert said in explanation and "(s)" not in explanation


def test_a_one_day_forecast_is_said_over_1_day(rt):
    """`amx budget forecast --horizon 1` said "… revenue over 1 days"."""
    record_days(rt, Campaign(id="search-us", name="Search", channel="search", currency="USD"),
                parse_days(days_of(10), "USD"))
    shown = CliRunner().invoke(cli, ["budget", "forecast", "--from-store", "--horizon", "1"])
    assert shown.exit_code == 0 and "USD revenue over 1 day" in shown.output and "1 days" not in shown.output, \
        shown.output


def test_a_missing_campaign_is_said_one_way_by_the_api_the_commands_and_the_import(rt, tmp_path):
    """The CSV import said "campaign_id: 'nobody' does not exist (add it first)" where the API and every other command
    say "there is no campaign 'nobody'" (documents.no_document, as for rules and connections), each with what lists
    the ids (documents.listed_by): the route, the command."""
    said = "there is no campaign 'nobody'"
    assert function_client("budget").get("/campaigns/nobody", headers=admin(rt)).json["error"]["message"] == (
        f"{said} (GET /campaigns lists them)")
    for command in (["campaigns", "show", "nobody"], ["campaigns", "pause", "nobody"],
                    ["forecast", "--from-store", "--campaign", "nobody"]):
        refused = CliRunner().invoke(cli, ["budget", *command])
        assert str(refused.exception) == f"{said} (amx budget campaigns list)", (command, refused.output)
    (tmp_path / "days.csv").write_text(f"{HEADER}\nnobody,2026-11-01,10.25,3,1,20.50,USD\n")
    refused = CliRunner().invoke(cli, ["budget", "import", str(tmp_path / "days.csv")])
    assert str(refused.exception).endswith(f"line 2: campaign_id: {said} (add it first)"), refused.exception


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0660\u0660", "\uff11\uff10", "1 000", "NaN", "Infinity"])
@pytest.mark.parametrize("column", ["spend", "clicks", "revenue"])
def test_a_csv_number_not_in_ascii_digits_is_refused_naming_the_value_and_the_line(rt, column, cell):
    """`1_000` and Arabic-Indic digits were read (Decimal's leniency) as 1000 and 100: a figure is written in ASCII
    digits, with a point, as the README shows them."""
    cells = {"spend": "10.25", "clicks": "3", "revenue": "20.50"} | {column: cell}
    data = (f"{HEADER}\nsearch-us,2026-11-01,10.25,3,1,20.50,USD\n"
            f"search-us,2026-11-02,{cells['spend']},{cells['clicks']},1,{cells['revenue']},USD\n").encode()
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data)
    assert f"line 3: {column}: {cell!r} is not a number in ASCII digits, as 1234.50" in str(refused.value)
    assert history(rt.store, "search-us") == []


def test_a_negative_zero_is_stored_and_answered_as_zero(rt):
    """`-0` passed ge=0 and was stored, and answered, as -0.0, from a CSV and from a POST alike."""
    import math

    import_csv(rt, f"{HEADER}\nsearch-us,2026-11-01,-0,3,1,-0.00,USD\n".encode())
    posted = function_client("budget").post("/campaigns/search-us/metrics", headers=admin(rt), json={"days": [
        {"date": "2026-11-02", "spend": -0.0, "clicks": 3, "revenue": -0.0}]})
    assert posted.status_code == 200, posted.json
    stored = json.loads(rt.store.get("budget/metrics/search-us.json").data)["days"]
    assert [(d["spend"], d["revenue"]) for d in stored] == [(0.0, 0.0)] * 2
    assert all(math.copysign(1, d[figure]) == 1 for d in stored for figure in ("spend", "revenue"))


@pytest.mark.parametrize("written", ["1_000", "\u0661\u0660\u0660", " 100", "NaN"])
def test_a_campaigns_amount_as_text_not_in_ascii_digits_is_refused_naming_it(rt, written):
    """`"max_budget": "1_000"` was stored as 1000.00: an amount as text is a number in ASCII digits, as one in a CSV."""
    reply = function_client("budget").post("/campaigns", headers=admin(rt), json={
        "id": "typed", "name": "Typed", "channel": "search", "currency": "USD", "max_budget": written})
    assert reply.status_code == 400, reply.json
    assert reply.json["error"]["message"] == f"max_budget: {written!r} is not a number in ASCII digits, as 1234.50"
