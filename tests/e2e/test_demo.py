"""`amx demo` as a new user runs it: every step of the story checked against the data it reads (the
hand-checked records of tests/e2e/test_sources.py, the index it leaves behind), at 80 and then 120
columns in the same directory (the second run is a rerun: it must tell the same story), no line
wider than the terminal."""

import os
import re
import subprocess

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.demo import DIRECTORIES, DISCOVERY_SITES, NETWORKS
from affiliate_matrix.program_index import from_document
from affiliate_matrix.rules.store import activations
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import MAX_PAGE, SearchQuery
from affiliate_matrix.sources import source_titles
from tests.support.processes import BIN
from tests.support.recorded_expected import EXPECTED


def amx(*args, cwd, columns: int):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "AMX_LOG_LEVEL", "AMX_DATA_DIR")}
    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**env, "COLUMNS": str(columns)})


def section(out: str, number: int) -> str:
    """The text of step `number`, from its heading to the next one."""
    return re.split(r"^\d\. ", out, flags=re.M)[number]


# Each demo source's connection as the demo's tables name it (the CLI's views.source_named): its title, its id
NAMED = {source: f"{title} (demo-{source})" for source, title in source_titles().items()}


def table(text: str, starts: tuple[str, ...] = ()) -> list[list[str]]:
    """A table's rows, each cell's text with its wrapped lines joined. A row begins at a line whose first cell is not
    empty, or, given `starts`, whose first cell begins with one of them (a first cell that wraps)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if not rows or (cells[0].startswith(starts) if starts else cells[0]):
            rows.append(cells)
        else:
            rows[-1] = [" ".join(filter(None, (old, new))) for old, new in zip(rows[-1], cells)]
    return rows


def table_rows(text: str) -> dict[str, list[str]]:
    """A table of the demo's sources (its first column) as its rows by source, each the other cells' text."""
    titles = tuple(title for title in source_titles().values())
    named = {name: source for source, name in NAMED.items()}
    return {named[row[0]]: row[1:] for row in table(text, titles)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The demo at 80 columns on a fresh directory, then again at 120 in the same one."""
    cwd = tmp_path_factory.mktemp("demo")
    first = amx("demo", cwd=cwd, columns=80)
    assert first.returncode == 0, first.stdout + first.stderr
    rt = Runtime("test", Settings(data_dir=cwd / ".amx"))
    after_first = (rt.index.search("programs", SearchQuery(size=MAX_PAGE)).total, len(activations(rt)))
    discovered = {from_document(hit.doc).name: hit.id for hit in rt.index.search(
        "programs", SearchQuery(filters={"status": ["discovered"]})).hits}
    second = amx("demo", cwd=cwd, columns=120)
    assert second.returncode == 0, second.stdout + second.stderr
    return {"cwd": cwd, "rt": rt, 80: first.stdout, 120: second.stdout, "stderr": first.stderr + second.stderr,
            "after_first": after_first, "discovered": discovered}


@pytest.mark.parametrize("columns", [80, 120])
def test_no_line_is_wider_than_the_terminal_and_no_warning_comes_first(runs, columns):
    out = runs[columns]
    assert out.startswith("Affiliate Matrix demo — data in .amx")
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "…" not in out  # nothing cut off
    assert "warning" not in runs["stderr"].lower()


@pytest.mark.parametrize("columns", [80, 120])
def test_every_recorded_source_is_scraped_with_a_bar_each(runs, columns):
    step = section(runs[columns], 1)
    for source in DIRECTORIES + NETWORKS:
        expected = EXPECTED[source]
        pages, listings = expected["pages"], len(expected["records"])  # clickbank's is one page: "1 page", not "1 pages"
        counts = f"{pages} page{'s' * (pages != 1)} · {listings} listing{'s' * (listings != 1)}"
        (line,) = [line for line in step.splitlines() if line.startswith(source + " ")]
        assert "━" in line and counts in line, line
        assert ("unreadable" in line) == bool(expected["parse_errors"])
    listings = sum(len(e["records"]) for e in EXPECTED.values())
    pages = sum(e["pages"] for e in EXPECTED.values())
    assert f"{listings} listings from 10 sources ({pages} pages and API answers)" in " ".join(step.split())


@pytest.mark.parametrize("columns", [80, 120])
def test_listings_become_programs_and_one_merchant_is_shown_across_sources(runs, columns):
    step = " ".join(section(runs[columns], 2).split())
    programs = [program for h in runs["rt"].index.search("programs", SearchQuery(size=MAX_PAGE)).hits
                if (program := from_document(h.doc)).status != "discovered"]  # not those discovery found (step 6)
    listings = sum(len(e["records"]) for e in EXPECTED.values())
    merchants = {p.merchant_key for p in programs}
    assert f"{listings} listings became {len(programs)} programs of {len(merchants)} merchants" in step
    # counted per batch, which read as wrong ("25 programs (25 created, 9 updated)"): said as a source at a time
    assert re.search(r"merchants; indexed a source at a time, \d+ were created, then updated \d+ times where a later "
                     r"source listed one already indexed \(\d+ listed again unchanged\)", step), step
    assert len(programs) < listings  # listings of one merchant were resolved into one program
    assert "Bluehost (bluehost.com) on 3 sources" in step  # on a directory, CJ and Rakuten (test_network_apis)
    rows = table_rows(section(runs[columns], 2))
    assert set(rows) == {"affiliateprograms", "cj", "rakuten"}
    # network (by its proper name), the account's contract (CJ's relationship, in the explorer's words; a directory
    # says none), commission ($130: the best USD amount), cookie
    assert rows["cj"][:3] == ["CJ", "Joined", "★ Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)"]
    assert rows["rakuten"][:2] == ["Rakuten Advertising", "—"] and not rows["rakuten"][2].startswith("★")
    assert rows["rakuten"][3] == "45 days"
    assert rows["affiliateprograms"][:4:3] == ["Impact", "★ 90 days"]
    # the payout in the explorer's words (it said "paypal; net60"), where the terminal has room for the column
    assert rows["affiliateprograms"][4:5] == (["PayPal; Net 60"] if columns == 120 else []), rows
    # the sources named as the table names them, by their title (as amx compare: no code alone)
    assert (f"sources disagree on Commission: 65–130 USD from {NAMED['affiliateprograms']} and {NAMED['cj']}; "
            "65–100 USD (tiers: ") in step or (f"65–130 USD from {NAMED['cj']} and {NAMED['affiliateprograms']}") in step
    assert f"from {NAMED['rakuten']}" in step.split("sources disagree on Commission", 1)[1], step


@pytest.mark.parametrize("columns", [80, 120])
def test_one_program_shows_each_sources_words_beside_the_parsed_terms(runs, columns):
    step = section(runs[columns], 3)
    assert re.search(r"Bluehost \(p_[0-9a-f]{16}\): commission kept as 65–130 USD", " ".join(step.split()))
    terms, said = step.split("Which source said what")
    rows = table_rows(terms)
    assert rows["affiliateprograms"][:2] == ["$65 - $130 per qualified sale", "65–130 USD"]
    assert rows["cj"][:2] == ["Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)", "65–130 USD"]
    assert rows["rakuten"][0].startswith("Bluehost Hosting Bounty") and rows["rakuten"][1] == (
        "65–100 USD (tiers: 65 USD at Bluehost Hosting Bounty: 0 to 20, 100 USD at Bluehost Hosting Bounty: 20 and above)")
    lines = [" ".join(row) for row in table(said)]
    # each field in the explorer's words (it said cookie_days, epc_7d)
    assert f"Cookie length {NAMED['rakuten']} 45 days" in lines, lines
    assert f"Cookie length {NAMED['affiliateprograms']} 90 days" in lines, lines
    # a rerun adds no second claim (CJ's child alone); the category by its title
    assert lines.count(f"Categories {NAMED['cj']} Hosting & domains") == 1, lines
    # payout and countries in the explorer's words, as a category (they were "paypal; net60" and "CA, US")
    assert f"Payout {NAMED['affiliateprograms']} PayPal; Net 60" in lines, lines
    assert f"Countries {NAMED['rakuten']} Canada, United States" in lines, lines
    # CJ's EPC over 7 days and over 3 months, each in its currency (the 3-month one was left out)
    assert lines.count(f"EPC (7 days) {NAMED['cj']} 0.4512 USD") == 1 and lines.count(
        f"EPC (3 months) {NAMED['cj']} 0.389 USD") == 1, \
        lines


@pytest.mark.parametrize("columns", [80, 120])
def test_a_raised_commission_is_one_delta_one_rule_firing_one_notification(runs, columns):
    step = section(runs[columns], 4)
    flat = " ".join(step.split())
    assert 'rule demo-commission-raised: commission raised in my category (B2B SaaS)' in flat
    assert "then post to a webhook (notify)" in flat, flat  # the action in words, with what the rule names it by
    deltas = [line for line in step.splitlines() if line.startswith("delta (")]
    assert len(deltas) == 1 and "Notion — Commission: 50% one-time → 60% one-time" in deltas[0]
    assert (f"the page /program/notion/ of {NAMED['affiliationlist']} now says “60% of the first payment” (was “50% of "
            "the first payment”); a second pass over it: 7 pages, 6 unchanged (HTTP 304)") in flat, flat
    assert "fired 1 time; 1 notification" in flat
    assert step.count("notify from demo-commission-raised") == 1
    assert "Notion raised its commission 50% → 60% (B2B SaaS" in flat


def test_each_run_fires_the_rule_once_and_leaves_the_same_index(runs):
    programs_after_first, activations_after_first = runs["after_first"]
    rt = runs["rt"]
    assert rt.index.search("programs", SearchQuery()).total == programs_after_first
    fired = activations(rt)
    assert (activations_after_first, len(fired)) == (1, 2)
    assert all(a["rule_id"] == "demo-commission-raised" and a["decision"] == "fired" and a["outcome"] == "done"
               for a in fired)
    (notion,) = rt.index.search("programs", SearchQuery(text="notion")).hits
    assert from_document(notion.doc).commission_text == "60% of the first payment"  # as the second pass read it


def test_its_rule_is_left_disabled_so_a_later_amx_up_posts_nothing_to_its_placeholder_webhook(runs):
    """The demo left its rule enabled with a placeholder Slack webhook: `amx up` afterwards, the README's next step,
    fired it on every raised commission in the category and posted to hooks.slack.com (or failed resolving it), for a
    rule the user never wrote. Each run fires it (once, above), then leaves it disabled saying why."""
    from affiliate_matrix.rules.store import load_rule

    rule, _ = load_rule(runs["rt"].store, "demo-commission-raised")
    assert not rule.enabled and "amx rules add --replace" in rule.disabled_reason, rule


def test_its_connections_are_left_disabled_saying_why_and_verify_asks_none_of_their_pages(runs):
    """The demo left its connections enabled on the default schedule, their base URLs its recorded sites' loopback
    ports, which close with it: under `amx up` afterwards every scheduled sync failed, and `amx verify` found every
    program it had read inconclusive (exit 1). Each is left disabled saying why, and no one reads a disabled
    connection's pages, verify included."""
    from affiliate_matrix.connections import load_connection

    for source in DIRECTORIES + NETWORKS:
        connection = load_connection(runs["rt"].store, f"demo-{source}")[0]
        assert not connection.enabled and "recorded site" in connection.disabled_reason, connection
        # its runs are kept as `amx scrape`'s are: the list said "last sync —", never synced, right after the demo's
        last = connection.last_sync
        assert last is not None and last.pages and last.records == len(EXPECTED[source]["records"]), connection
    listed = amx("connections", "list", cwd=runs["cwd"], columns=200)
    assert listed.returncode == 0 and "no (the demo's" in listed.stdout, listed.stdout
    assert " — " not in "".join(line for line in listed.stdout.splitlines() if line.startswith("│ demo-")), listed.stdout
    verified = amx("verify", cwd=runs["cwd"], columns=200)
    assert verified.returncode == 0 and verified.stdout.startswith("checked 0:"), verified.stdout + verified.stderr


@pytest.mark.parametrize("columns", [80, 120])
def test_unreadable_pages_are_shown_with_their_raw_copy_and_the_replay(runs, columns):
    step = section(runs[columns], 5)
    failing = {(s, path) for s, e in EXPECTED.items() for path in e["parse_errors"]}
    # each by its connection as the tables name it (at 80 columns a long path goes to the next line)
    shown = set(re.findall(r"^parse failure on (.+?): ?\n?(/\S+)$", step, flags=re.M))
    assert shown == {(NAMED[s], path) for s, path in failing}, step
    kept = [line.strip() for line in step.splitlines() if line.startswith("  .amx/objects/")]
    if columns == 120:  # at 80 the paths fold
        assert len(kept) == 2 * len(failing) and all((runs["cwd"] / path).is_file() for path in kept)
    for source, _ in failing:
        assert f"replay: .venv/bin/amx replay demo-{source}" in step


def test_the_replay_it_names_reparses_the_kept_pages(runs):
    replay = amx("replay", "demo-affiliateprograms", cwd=runs["cwd"], columns=120)
    assert replay.returncode == 1  # the page nobody can read still fails, and says so
    pages = EXPECTED["affiliateprograms"]["pages"]
    assert f"replayed {pages} stored pages: {len(EXPECTED['affiliateprograms']['records'])} listings, 1 failure" \
        in replay.stdout


@pytest.mark.parametrize("columns", [80, 120])
def test_it_ends_with_what_to_try_next(runs, columns):
    step = section(runs[columns], 7)
    assert "./task web" in step and ".venv/bin/amx up" in step and "./task serve:programs &" in step
    assert re.search(r"^    TOKEN=amx_\S+$", step, flags=re.M)
    assert re.search(r"amx show p_[0-9a-f]{16}", step) and "amx compare bluehost.com" in step
    # pasted into zsh, an unquoted ?q= is a glob that matches nothing: "no matches found"
    assert "Bearer $TOKEN\" '127.0.0.1:8080/programs?q=hosting'" in step
    # discovery for real: a provider's key, then a run; each on a line of its own at 80 columns too
    assert "• discovery for real, with a search provider's key (or your AMX_SEARXNG_URL):" in step.splitlines()
    assert "amx keys add discovery/brave --rotation manual --field api_token" in step
    assert '.venv/bin/amx discover run "pet supplies"' in step


@pytest.mark.parametrize("columns", [80, 120])
def test_discovery_judges_each_invented_site_and_shows_what_it_indexed(runs, columns):
    """The first run judges the sites the recorded SearXNG answer finds; the rerun finds those it judged known (not
    fetched again), and tells the rest again: the guards (robots.txt, the redirect to the metadata address, a
    marketplace's page) hold at every run, and the index holds the same programs found."""
    step = section(runs[columns], 6)
    flat = " ".join(step.split())
    assert "SearXNG's answers are reconstructed from its documentation and the sites they find are invented" in flat
    assert "“pet supplies”: 5 dork queries, 7 results, 6 sites" in flat
    judged, indexed = step.split("In the index")
    decisions = {row[0]: row[1] for row in table(judged, (*DISCOVERY_SITES, "amazon.com"))}  # a name may wrap
    site = {name: f"{name} ({address})" for name, address in DISCOVERY_SITES.items()}  # named, an address beside
    if columns == 80:  # the first run
        assert decisions[site["pawsome"]] == decisions[site["woofbox"]] == "discovered: indexed"
        assert decisions[site["tailwag"]] == "doubtful: left for a person (amx discover review)"
        assert decisions[site["petblog"]] == ("not a program: an affiliate-link disclosure: a publisher's page, not a "
                                              "program")
    else:
        for name, outcome in (("pawsome", "discovered"), ("woofbox", "discovered"), ("tailwag", "left for review"),
                              ("petblog", "not a program")):
            assert decisions[site[name]] == f"judged by an earlier run ({outcome}): not fetched again", decisions
    assert decisions[site["kittycorner"]] == "not fetched: disallowed by robots.txt"
    # a redirect, said so: "refused 169.254.169.254:80" alone read as the shortlink's own address
    assert decisions[site["shortlink"]].startswith("not fetched: redirects to http://169.254.169.254/latest/meta-data/; "
                                                   "refused 169.254.169.254:80"), decisions
    assert decisions["amazon.com"].startswith("not judged: a page of a site many merchants share"), decisions
    shown = [row[:3] for row in table(indexed)]
    assert shown == [["Pawsome", runs["discovered"]["Pawsome"], "Discovered"],
                     ["Woofbox", runs["discovered"]["Woofbox"], "Discovered"]], shown
    assert "again: .venv/bin/amx search --status discovered" in flat


def test_the_programs_it_discovers_are_in_the_index_as_discovered_once(runs):
    from affiliate_matrix.discovery.run import reviews

    rt = runs["rt"]
    programs = [from_document(h.doc) for h in rt.index.search(
        "programs", SearchQuery(filters={"status": ["discovered"]}, size=MAX_PAGE)).hits]
    assert {p.name: p.id for p in programs} == runs["discovered"]  # after two runs, as after the first
    for program in programs:
        assert program.discovery.provider == "searxng" and program.discovery.confidence >= 0.7, program.discovery
        assert program.discovery.query == '"affiliate program" pet supplies'
    pawsome = next(p for p in programs if p.name == "Pawsome")
    assert pawsome.cookie_days == 45 and float(pawsome.commission[0].value_min) == 20.0
    assert [item["domain"] for item in reviews(rt)] == [DISCOVERY_SITES["tailwag"]]
    found = amx("search", "--status", "discovered", cwd=runs["cwd"], columns=200)
    assert found.returncode == 0 and all(program.id in found.stdout for program in programs), found.stdout


def test_keys_status_lists_its_credentials_as_keys_rotated_by_hand(runs):
    from affiliate_matrix.demo import RECORDED_CREDENTIALS

    listed = amx("keys", "status", cwd=runs["cwd"], columns=200)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = {row[0]: row[1:3] for row in table(listed.stdout)}
    # version 1 after two runs: a rerun adds none
    assert rows == {f"connections/demo-{source}": ["manual", "1"] for source in RECORDED_CREDENTIALS}, listed.stdout


def test_the_tokens_it_makes_lapse_after_a_day(runs):
    from datetime import datetime, timedelta

    from affiliate_matrix.auth import list_tokens

    made = list_tokens(runs["rt"])
    assert len(made) == 2  # one per run
    assert all(datetime.fromisoformat(t.expires_at) - datetime.fromisoformat(t.created_at) == timedelta(days=1)
               for t in made)


def test_its_connections_have_a_generation_as_created_ones_do_kept_by_a_rerun(tmp_path):
    """The demo wrote its connections with no generation, so its runs' records and claims named none."""
    from affiliate_matrix.connections import GENERATION, load_connection
    from affiliate_matrix.demo.collect import Story

    rt = Runtime("test", Settings(data_dir=tmp_path))
    story = Story(rt)
    story.urls = {DIRECTORIES[0]: "http://127.0.0.1:9/"}
    connection_id = story.connect(DIRECTORIES[0])
    generation = load_connection(rt.store, connection_id)[0].generation
    assert re.fullmatch(GENERATION, generation or ""), generation
    story.connect(DIRECTORIES[0])  # the next run overwrites it: the same creation, edited
    assert load_connection(rt.store, connection_id)[0].generation == generation


def test_its_credentials_are_keys_rotated_by_hand_registered_once(tmp_path):
    """The demo wrote its networks' recorded credentials with no key record: `amx keys status` after it said "no keys
    registered", and `amx keys rotate` refused them. Each is registered, rotated by hand (the recorded APIs take these
    alone: nothing may rotate them); a rerun adds no secret version nor record, an older demo's unregistered secret is
    registered as it is, and a key revoked since is added again."""
    from affiliate_matrix.demo import RECORDED_CREDENTIALS
    from affiliate_matrix.demo.collect import Story
    from affiliate_matrix.keys import load_record, revoke

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.secrets.write("connections/demo-cj", RECORDED_CREDENTIALS["cj"])  # as an older demo left it: no record
    story = Story(rt)
    story.urls = {source: "http://127.0.0.1:9/" for source in RECORDED_CREDENTIALS}
    for source in RECORDED_CREDENTIALS:
        story.connect(source)
    first = {source: load_record(rt, f"connections/demo-{source}") for source in RECORDED_CREDENTIALS}
    for source, (record, _) in first.items():
        assert (record.rotation, record.owner_source, record.revoked_at) == ("manual", source, None), record
        assert record.expires_at.year - record.created_at.year >= 9  # no expiry warnings for keys that never expire
        assert rt.secrets.read(record.path).data == RECORDED_CREDENTIALS[source]
    assert rt.secrets.metadata("connections/demo-cj").current_version == 1  # registered as it was

    revoke(rt, "connections/demo-awin")
    rt.secrets.write("connections/demo-impact", {"account_sid": "mine", "auth_token": "mine"})  # changed by hand
    for source in RECORDED_CREDENTIALS:
        story.connect(source)
    for source in ("cj", "rakuten"):  # the same record (its ETag), no new version
        path = f"connections/demo-{source}"
        assert load_record(rt, path)[1] == first[source][1] and rt.secrets.metadata(path).current_version == 1
    awin, _ = load_record(rt, "connections/demo-awin")
    assert awin.revoked_at is None and rt.secrets.read(awin.path).data == RECORDED_CREDENTIALS["awin"]
    assert rt.secrets.read("connections/demo-impact").data == RECORDED_CREDENTIALS["impact"]  # put back
