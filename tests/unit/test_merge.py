from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from affiliate_matrix.merge import holds, merge
from affiliate_matrix.normalize import normalize
from affiliate_matrix.sources import Source, register
from tests.support.factories import make_record

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@register
class NetworkApiForTests(Source):
    """A registered plugin with a network API's priority (the real API plugins come with the sources issue)."""

    name = "test_network_api"
    title = "Test network API"
    base_url = "https://api.example.org"
    priority = 3


@register
class OtherNetworkApiForTests(Source):
    """A second network API: two of one priority that disagree."""

    name = "test_network_api_2"
    title = "Test network API 2"
    base_url = "https://api2.example.org"
    priority = 3


def observe(source, cookie, days=0, connection=None, **fields):
    record = make_record("Shop", "https://shop.com", cookie_text=f"{cookie} days", **fields)
    return normalize(record.model_copy(update={"source": source, "connection_id": connection or source,
                                               "fetched_at": T0 + timedelta(days=days)}))


def fold(*programs):
    result = programs[0]
    for p in programs[1:]:
        result = merge(result, p)
    return result


def test_agreement_beats_priority():
    merged = fold(observe("dir_a", 30), observe("dir_b", 30, days=1), observe("test_network_api", 45, days=2))
    assert merged.cookie_days == 30
    claims = merged.provenance["cookie_days"]
    assert [(c.source, c.value) for c in claims] == [("dir_a", 30), ("dir_b", 30), ("test_network_api", 45)]


def test_priority_beats_recency():
    assert fold(observe("test_network_api", 45), observe("dir_a", 30, days=5)).cookie_days == 45


@pytest.mark.parametrize("order", [0, 1])
def test_recency_decides_between_equals_whatever_the_order(order):
    old, new = observe("dir_a", 30), observe("dir_b", 60, days=3)
    assert fold(*((old, new) if order == 0 else (new, old))).cookie_days == 60


def test_a_source_changing_its_mind_replaces_its_own_claim():
    merged = fold(observe("dir_a", 30), observe("dir_b", 60, days=1), observe("dir_a", 60, days=2))
    assert merged.cookie_days == 60
    assert sorted((c.source, c.value) for c in merged.provenance["cookie_days"]) == [("dir_a", 60), ("dir_b", 60)]


def test_a_rescrape_replaces_a_sources_claim_on_a_list_field_rather_than_adding_one():
    merged = fold(*(observe("dir_a", 30, categories=["Software"], days=d) for d in range(3)),
                  observe("dir_b", 30, categories=["Web Hosting"], days=3))
    claims = merged.provenance["categories"]
    assert [(c.source, c.fetched_at) for c in claims] == [("dir_a", T0 + timedelta(days=2)), ("dir_b", T0 + timedelta(days=3))]


def test_lists_are_unions_and_quality_rewards_agreement():
    a = observe("dir_a", 30, categories=["Software"])
    b = observe("dir_b", 30, categories=["Web Hosting"], days=1)
    c = observe("dir_c", 90, categories=["Software"], days=1)
    assert fold(a, b).categories == ["hosting_domains", "software"]
    assert fold(a, b).quality_score > fold(a, c).quality_score


def test_other_from_one_source_is_not_shown_beside_another_sources_category():
    """One source's only label unknown ("other": none of ours fits) and another's Software: the program is software,
    not software and other; the first source's claim is kept as it said it."""
    merged = fold(observe("dir_a", 30, categories=["Underwater Basket Weaving"]),
                  observe("dir_b", 30, categories=["Software"], days=1))
    assert merged.categories == ["software"]
    assert [(c.source, c.value) for c in merged.provenance["categories"]] == [("dir_a", ["other"]),
                                                                              ("dir_b", ["software"])]


def test_a_discovered_program_is_confirmed_when_a_source_lists_it():
    found = normalize(make_record("Shop", "https://shop.com", extra={"confidence": "0.8", "evidence": "wording",
                                                                     "query": "q", "provider": "brave"})
                      .model_copy(update={"source": "discovery", "fetched_at": T0}))
    assert found.status == "discovered"
    assert merge(found, found).status == "discovered"  # discovery seeing it again confirms nothing
    listed = observe("test", 30, days=1)
    merged = merge(found, listed)
    assert merged.status == "active" and merged.discovery.confidence == 0.8


def discovered_shop(days=0):
    return normalize(make_record("Shop", "https://shop.com", extra={"confidence": "0.8", "evidence": "wording",
                                                                    "query": "q", "provider": "brave"})
                     .model_copy(update={"source": "discovery", "connection_id": "discovery",
                                         "fetched_at": T0 + timedelta(days=days)}))


def test_a_discovery_claim_does_not_keep_open_a_program_its_sources_withdraw_or_close():
    """Discovery's claims say the page existed, not that the program is open: once a source has listed the program,
    its sources alone decide whether it is open. Known only from discovery, it stays `discovered`."""
    from affiliate_matrix.merge import withdraw

    listed = merge(discovered_shop(), observe("test_network_api", 45, days=1))
    gone = withdraw(listed, [("test_network_api", "test_network_api")], T0 + timedelta(days=2))
    assert gone.status == "closed_suspected"
    assert {c.source for claims in gone.provenance.values() for c in claims} == {"discovery"}  # the evidence stays
    assert merge(gone, observe("test_network_api", 45, days=3)).status == "active"  # listed again
    assert merge(gone, discovered_shop(days=3)).status == "closed_suspected"  # its page found again opens nothing
    closed = observe("test_network_api", 45, days=2, closed="Expired")
    assert merge(listed, closed).status == "closed_suspected"  # the network's word, the page found aside
    assert merge(discovered_shop(), closed).status == "closed_suspected"  # its first listing says it is over
    assert merge(discovered_shop(), discovered_shop(days=1)).status == "discovered"


def test_the_newest_network_figure_stands_and_a_missing_one_erases_nothing():
    older = observe("test_network_api", 30, extra={"epc_7d": "12.50", "epc_currency": "USD", "gravity": "40.1"})
    newer = observe("test_network_api", 30, days=1, extra={"epc_7d": "9.75", "epc_currency": "USD"})
    merged = fold(older, newer)
    assert (merged.epc_7d.amount, merged.epc_7d.currency) == (Decimal("9.75"), "USD")
    assert merged.gravity == Decimal("40.1")  # the newer report says nothing about gravity


@pytest.mark.parametrize("order", [0, 1])
def test_one_network_program_is_one_listing_its_join_url_the_newest_claims(order):
    """Two sources' join URLs for one network program (a tracking link with its query string in another order, or
    another publisher's id in it) were two entries of `networks`, as if the merchant had two programs there. A
    network program (the network and the program's id there) is one listing; the newest claim's URL stands, a claim
    naming none keeps the URL named before. Two programs of one network (two ids) stay two."""
    old = observe("dir_a", 30, join_url="https://www.shareasale.com/r.cfm?b=1&u=2&m=47")
    new = observe("dir_b", 30, days=1, join_url="https://www.shareasale.com/r.cfm?m=47&u=999&b=1")
    bare = observe("dir_c", 30, days=2, network="shareasale")
    merged = fold(*((old, new, bare) if order == 0 else (bare, new, old)))
    assert [(n.network, n.program_id, str(n.join_url)) for n in merged.networks] == [
        ("shareasale", None, "https://www.shareasale.com/r.cfm?m=47&u=999&b=1")]
    assert len(merged.provenance["networks"]) == 3  # every source's claim kept

    uk = observe("dir_a", 30, network="awin", network_program_id="1001",
                 join_url="https://www.awin1.com/cread.php?awinmid=1001")
    de = observe("dir_b", 30, days=1, network="awin", network_program_id="2002")
    assert [n.program_id for n in fold(uk, de).networks] == ["1001", "2002"]


@pytest.mark.parametrize("order", [0, 1])
def test_the_commission_text_kept_is_one_the_kept_commission_came_from(order):
    """The text was voted apart from the figure: two directories agreeing on 65-130 USD (each in its own words) and
    a network stating 65-100 USD had the network's text kept beside the directories' figure ("USD 65 ... USD 100"
    shown by 65-130 USD)."""
    directories = [observe(source, 30, days=day, commission_text=text) for source, day, text in
                   (("dir_a", 0, "$65 to $130 per sale"), ("dir_b", 1, "Earn $65-$130 for each sale"))]
    network = observe("test_network_api", 30, days=2, commission_text="USD 65 per sale, USD 100 for pro plans")
    merged = fold(*((*directories, network) if order == 0 else (network, *directories)))
    assert [(t.value_min, t.value_max) for t in merged.commission] == [(Decimal(65), Decimal(130))]
    assert merged.commission_text in ("$65 to $130 per sale", "Earn $65-$130 for each sale")
    assert merged.provenance["commission_text"][0].value == merged.commission_text  # the kept claim first


def test_a_commission_text_from_a_source_whose_figure_lost_is_not_shown_beside_the_winners_figure():
    """A network's 200 USD (given as data, no words) won over a directory's "200 EUR": the directory's text stood
    beside the network's figure, "200 USD" shown as "200 EUR". A text describes the figure shown or is not shown."""
    words = observe("dir_a", 30, commission_text="200 EUR per sale")
    data = observe("test_network_api", 30, days=1, commission=[{"type": "flat", "value_min": 200, "currency": "USD"}])
    for merged in (fold(words, data), fold(data, words)):
        assert [(t.value_min, t.currency) for t in merged.commission] == [(200, "USD")]
        assert merged.commission_text is None
        assert [c.value for c in merged.provenance["commission_text"]] == ["200 EUR per sale"]  # its claim kept
    agreeing = observe("dir_b", 30, days=2, commission_text="USD 200 per sale")  # its figure is the one shown
    assert fold(words, data, agreeing).commission_text == "USD 200 per sale"


def test_holds_says_which_claims_the_program_holds_not_which_came_first():
    """amx show marks the claims a program holds: its first claim is not always one (a text whose figure lost, a
    category merging settled away, a vote lost), and a list holds every claim's values."""
    words = observe("dir_a", 30, commission_text="200 EUR per sale", categories=["Underwater Basket Weaving"])
    data = observe("test_network_api", 45, days=1, categories=["Software"],
                   commission=[{"type": "flat", "value_min": 200, "currency": "USD"}])
    merged = fold(words, data)

    def held(field):
        return {c.source: holds(merged, field, c) for c in merged.provenance[field]}

    assert held("commission_text") == {"dir_a": False}  # none shown beside the network's figure
    assert held("categories") == {"dir_a": False, "test_network_api": True}  # "other" beside Software
    assert held("cookie_days") == {"dir_a": False, "test_network_api": True}  # the network's 45 days won
    assert held("commission") == {"dir_a": False, "test_network_api": True}  # its 200 EUR lost
    anywhere = observe("dir_b", 30, countries=["Worldwide"])
    assert holds(anywhere, "countries", anywhere.provenance["countries"][0])  # none named: every country
    named = fold(anywhere, observe("dir_c", 30, days=1, countries=["Germany"]))  # every one takes Germany too
    assert {c.source: holds(named, "countries", c) for c in named.provenance["countries"]} == {"dir_b": True,
                                                                                                "dir_c": True}
    assert not holds(fold(words, observe("dir_c", 30, days=1, countries=["Germany"])), "countries",
                     anywhere.provenance["countries"][0])  # a program naming Germany does not take every country
    damaged = merged.provenance["cookie_days"][0].model_copy(update={"value": {"days": "thirty"}})
    assert not holds(merged, "cookie_days", damaged)  # a claim of no shape the field has: not held, no error


def test_a_commission_text_stands_when_no_source_states_a_figure():
    assert fold(observe("dir_a", 30, commission_text="Generous commissions"),
                observe("dir_b", 30, days=1)).commission_text == "Generous commissions"


def test_a_withdrawal_takes_every_claim_of_its_source_and_only_its_source():
    from affiliate_matrix.merge import withdraw

    both = fold(observe("dir_a", 30), observe("test_network_api", 45, days=1,
                                              extra={"epc_7d": "12.50", "epc_currency": "USD", "gravity": "40.1"}))
    left = withdraw(both, [("test_network_api", "test_network_api")], T0 + timedelta(days=2))
    assert (left.status, left.cookie_days, left.epc_7d, left.gravity) == ("active", 30, None, None)
    assert {c.source for claims in left.provenance.values() for c in claims} == {"dir_a"}
    gone = withdraw(left, [("dir_a", "dir_a")], T0 + timedelta(days=2))
    assert (gone.status, gone.name, gone.cookie_days, gone.provenance) == ("closed_suspected", "Shop", None, {})
    back = merge(gone, observe("dir_a", 30, days=3))
    assert (back.status, back.id, back.cookie_days) == ("active", both.id, 30)


def test_a_withdrawal_older_than_the_sources_latest_sighting_withdraws_nothing():
    """A complete run's batch indexed again after a newer run listed the program (a redelivered event)."""
    from affiliate_matrix.merge import withdraw

    program = fold(observe("dir_a", 30), observe("dir_a", 30, days=2))
    assert withdraw(program, [("dir_a", "dir_a")], T0 + timedelta(days=1)) == program


def test_two_connections_of_one_source_withdraw_apart():
    """Two accounts of one network both list the program: the one that stops listing it withdraws its own claims,
    the other's keep it active with their values; both stopped, it is closed_suspected."""
    from affiliate_matrix.merge import withdraw

    both = fold(observe("test_network_api", 45, connection="main"),
                observe("test_network_api", 45, days=1, connection="agency",
                        extra={"epc_7d": "12.50", "epc_currency": "USD"}))
    assert {c.connection_id for c in both.provenance["cookie_days"]} == {"main", "agency"}
    left = withdraw(both, [("test_network_api", "agency")], T0 + timedelta(days=2))
    assert (left.status, left.cookie_days, left.epc_7d) == ("active", 45, None)
    assert {(c.source, c.connection_id) for claims in left.provenance.values() for c in claims} == {
        ("test_network_api", "main")}
    gone = withdraw(left, [("test_network_api", "main")], T0 + timedelta(days=2))
    assert (gone.status, gone.cookie_days, gone.provenance) == ("closed_suspected", None, {})


def test_a_source_with_two_connections_votes_once():
    """Two accounts of dir_a say 30 days, newest; dir_b and dir_c say 45: two sources against one, not two
    claims against two (a tie that recency would give to dir_a)."""
    merged = fold(observe("dir_b", 45), observe("dir_c", 45), observe("dir_a", 30, days=1, connection="one"),
                  observe("dir_a", 30, days=1, connection="two"))
    assert merged.cookie_days == 45
    assert [(c.source, c.connection_id, c.value) for c in merged.provenance["cookie_days"]] == [
        ("dir_b", "dir_b", 45), ("dir_c", "dir_c", 45), ("dir_a", "one", 30), ("dir_a", "two", 30)]
    one_account = fold(observe("dir_b", 45), observe("dir_c", 45), observe("dir_a", 30, days=1, connection="one"))
    assert merged.quality_score == one_account.quality_score  # nor agrees twice


def test_a_claim_naming_no_connection_is_its_sources_until_a_connection_of_it_sees_the_program():
    """A claim recorded before claims named their connection: withdrawn only for the source as a whole (None), and
    replaced by a later sighting of the source through any connection, as a source's newer claim replaces its own."""
    from affiliate_matrix.merge import withdraw

    old = observe("dir_a", 30, categories=["Software"])
    old = old.model_copy(update={"provenance": {field: [c.model_copy(update={"connection_id": None}) for c in claims]
                                                for field, claims in old.provenance.items()}})
    assert withdraw(old, [("dir_a", "agency")], T0 + timedelta(days=1)) == old  # not the connection's to withdraw
    assert withdraw(old, [("dir_a", None)], T0 + timedelta(days=1)).status == "closed_suspected"
    seen = merge(old, observe("dir_a", 60, days=1, connection="agency"))
    assert seen.cookie_days == 60 and seen.categories == []
    assert {(c.source, c.connection_id) for claims in seen.provenance.values() for c in claims} == {("dir_a", "agency")}
    assert withdraw(seen, [("dir_a", "agency")], T0 + timedelta(days=2)).status == "closed_suspected"


def test_a_program_is_never_its_own_alias():
    # `aliases | names - {name}` took only the new names off, so a name that had been an alias stayed one once it
    # became the program's name (an operator precedence slip: `-` binds before `|`).
    def named(name, source, days):
        record = make_record(name, "https://shop.com", cookie_text="30 days")
        return normalize(record.model_copy(update={"source": source, "connection_id": source,
                                                   "fetched_at": T0 + timedelta(days=days)}))

    first = fold(named("Shop Inc", "test_network_api", 0), named("Shop", "affiliateprograms", 1))
    assert {first.name, *first.aliases} == {"Shop Inc", "Shop"} and first.name not in first.aliases
    renamed = merge(first, named(first.aliases[0], "test_network_api", 2))  # the network now says the alias
    assert renamed.name == first.aliases[0]
    assert renamed.name not in renamed.aliases


def test_two_sources_saying_one_commission_in_different_forms_vote_together():
    """The vote keyed each claim by its raw JSON: two directories saying $15 (one stored as `15`, one as `"15.0"`
    with its keys in another order and its currency padded) were two values of one vote each, and the network's $20,
    one vote with a higher priority, won. Compared in the field's one form (merge.as_read, as compare's conflicts
    are), the two agree: two votes to one."""
    def claiming(source, days, value):
        program = observe(source, 30, days=days, commission=[{"type": "flat", "value_min": 15, "currency": "USD"}])
        program.provenance["commission"][0].value = value
        return program

    plain = claiming("dir_a", 0, [{"type": "flat", "value_min": 15, "currency": "USD"}])
    written = claiming("dir_b", 1, [{"currency": " USD", "value_min": "15.0", "value_max": 15.0, "type": "flat",
                                     "tiers": []}])
    network = observe("test_network_api", 30, days=2, commission=[{"type": "flat", "value_min": 20, "currency": "USD"}])
    merged = fold(plain, written, network)
    assert [(t.value_min, t.currency) for t in merged.commission] == [(15, "USD")]
    assert {c.source for c in merged.provenance["commission"][:2]} == {"dir_a", "dir_b"}  # the kept claims first
    assert merged.provenance["commission"][2].source == "test_network_api"


def test_two_network_apis_that_disagree_and_restate_at_each_sync_keep_the_value_shown():
    """Two sources of one priority, each restating its own cookie at every sync: by the latest sighting alone the shown
    value took turns, a change in the feed (and a "cookie changed" rule's trigger) at each sync of either."""
    merged = fold(observe("test_network_api", 30), observe("test_network_api_2", 45, days=1))
    assert merged.cookie_days == 45  # newly said, and newer than the 30 shown: news, as before
    for day in range(2, 10):  # each restates what it said
        merged = merge(merged, observe("test_network_api" if day % 2 else "test_network_api_2", 30 if day % 2 else 45,
                                       days=day))
        assert merged.cookie_days == 45, day


def test_a_source_saying_a_new_value_is_shown_then_kept_while_the_other_restates():
    merged = fold(observe("test_network_api", 30), observe("test_network_api_2", 45, days=1))
    merged = merge(merged, observe("test_network_api", 60, days=2))  # changed its figure: the newest news
    assert merged.cookie_days == 60
    merged = merge(merged, observe("test_network_api_2", 45, days=3))  # the other restates: no news
    assert merged.cookie_days == 60
    merged = merge(merged, observe("test_network_api_2", 90, days=4))
    assert merged.cookie_days == 90


def test_an_old_sighting_newly_said_but_replayed_late_does_not_displace_a_newer_value():
    """News displaces the value shown only when it is newer than every claim of it (a replayed old page is not)."""
    merged = fold(observe("test_network_api_2", 45, days=5), observe("test_network_api", 30, days=1))
    assert merged.cookie_days == 45


def test_two_networks_reporting_one_programs_figure_at_each_sync_keep_the_one_shown():
    """The newest report stands for a claimant's own figures; across two networks reporting it at each sync, the one
    shown stands while it reports (they took turns), its new figures shown."""
    def report(source, epc, day):
        return observe(source, 30, days=day, extra={"epc_7d": epc, "epc_currency": "USD"})

    merged = fold(report("test_network_api", "1.10", 0), report("test_network_api_2", "2.20", 1))
    shown = merged.epc_7d.amount
    for day in range(2, 8):
        merged = merge(merged, report("test_network_api" if day % 2 == 0 else "test_network_api_2",
                                      "1.10" if day % 2 == 0 else "2.20", day))
        assert merged.epc_7d.amount == shown, day
    claimant = "test_network_api" if shown == Decimal("1.10") else "test_network_api_2"
    merged = merge(merged, report(claimant, "3.30", 9))
    assert merged.epc_7d.amount == Decimal("3.30")


@pytest.mark.parametrize("order", [0, 1])
def test_a_network_nothing_names_keeps_the_name_its_source_first_wrote_it_with(order):
    """A network no plugin nor the taxonomy names is shown as its source wrote it (its listing's title), where it was
    its folded key: two sources spelling it two ways are one listing, first seen spelling kept, whichever order the
    claims are merged in and whichever names a join link. A network named elsewhere (ShareASale) gets no title."""
    first = observe("dir_a", 30, network="MyAffiliateNet (CPA)")
    later = observe("dir_b", 30, days=1, network="MYAFFILIATENET", join_url="https://myaffiliatenet.example/join/1")
    merged = fold(*((first, later) if order == 0 else (later, first)))
    assert [(n.network, n.title, str(n.join_url)) for n in merged.networks] == [
        ("myaffiliatenet", "MyAffiliateNet", "https://myaffiliatenet.example/join/1")]
    assert [n.title for n in observe("dir_a", 30, network="Share A Sale").networks] == [None]


@pytest.mark.parametrize("order", [0, 1])
def test_deep_links_allowed_by_any_network_are_the_programs_whatever_order_the_networks_synced_in(order):
    """The newest report alone made one network's no hide another's yes (and the filter flip with the order of syncs):
    a yes from any network that still says it stands, credited to it; when every network says no, it is no."""
    def report(source, allowed, day):
        return observe(source, 30, days=day, extra={"deeplinks_allowed": allowed})

    yes, no = report("test_network_api", "true", 0), report("test_network_api_2", "false", 1)
    merged = fold(*((yes, no) if order == 0 else (no, yes)))
    assert merged.deeplinks_allowed is True
    assert merged.provenance["deeplinks_allowed"][0].source == "test_network_api"
    assert merge(merged, report("test_network_api", "false", 2)).deeplinks_allowed is False


def test_a_list_a_merge_joins_past_the_import_bound_is_cut_to_it_in_one_order_saying_so():
    """A program stored is one its export imports back (merge.within_bounds): past models.MAX_ITEMS the joined list is
    cut, the first items in _union's order kept, and the cut logged with the field and the count."""
    from structlog.testing import capture_logs

    from affiliate_matrix.merge import within_bounds
    from affiliate_matrix.models import MAX_ITEMS

    most = MAX_ITEMS["evidence"]
    with capture_logs() as logs:
        assert within_bounds("evidence", [f"e{n:04}" for n in range(most)]) == [f"e{n:04}" for n in range(most)]
        assert within_bounds("evidence", [f"e{n:04}" for n in range(most + 7)]) == [f"e{n:04}" for n in range(most)]
    assert [(line["event"], line["field"], line["items"], line["kept"]) for line in logs] == [
        ("merge.list_cut", "evidence", most + 7, most)]
