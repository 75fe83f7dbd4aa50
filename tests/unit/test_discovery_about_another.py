"""The discovery judge on a page about ONE program on a site that is not its merchant's: a directory's profile of it
(affiliates-directory.com/websites/hosting-com), a review site's or a blogger's review, a guide to joining it, a copy of
the merchant's page. It has the words, terms and sign-up links of the merchant's own page, and was discovered as the
directory's own program, keyed to the directory's host. Rejected, saying which program it is about; where it links to
that merchant's program page, the run judges that page as the merchant's candidate; the site's other pages, in the run
and in later ones while it is remembered, lead on to theirs (run.lead_pages). Real pages of both kinds are in
`tests/data/discovery-pages/` (the `en-` and `it-` ones added with this)."""

import json

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.discovery import DiscoveryReport, run
from affiliate_matrix.discovery.providers import Result
from affiliate_matrix.discovery.run import ACCEPT, PAGES_PER_LEAD_SITE, REVIEW, seen_key, validate
from affiliate_matrix.discovery.validate import classify, why_rejected
from affiliate_matrix.polite import Response, WaitsSpent
from affiliate_matrix.runtime import Runtime
from tests.support.discovery_pages import judged, split_of

# Reviews, a guide, a review site's page and a copy of a merchant's FAQ on an unrelated host, of the half the rule was
# written on (the held-back half's are measured in test_discovery_languages, never tuned on)
ABOUT_ANOTHER = ["en-highpayingaffiliateprograms-fiverr", "en-nomiblogger-fiverr-review",
                 "en-authorityhacker-fiverr-review", "en-mybhcoupons-bluehost-review", "en-rated-bluehost-review",
                 "en-freelanceready-fiverr-works", "it-divineindiatours-kinsta-copy"]
# Merchants' own pages naming their program, some in the third person ("The iHealth affiliate program", on
# andonhealth.net; "joining the Kinsta affiliate program", on kinsta.com)
OWN = ["en-ihealth-affiliate-faq", "en-kinsta-docs-affiliate-program", "pt-targethost-programa-afiliados",
       "en-moccah-affiliate-info", "en-libertyclassroom-affiliate-program"]


@pytest.mark.parametrize("page_id", ABOUT_ANOTHER)
def test_a_real_page_about_another_sites_program_is_not_taken_for_the_sites_own(page_id):
    assert split_of(page_id) == "dev"
    page, verdict = judged(page_id)
    assert page["label"] == "not_program"
    assert verdict.confidence == 0.0
    assert why_rejected(verdict).startswith("the page is about another site's program ("), verdict.evidence


@pytest.mark.parametrize("page_id", OWN)
def test_a_real_merchant_page_naming_its_own_program_is_not_taken_for_a_page_about_another(page_id):
    page, verdict = judged(page_id)
    assert page["label"] == "program"
    assert not any("about another site's program" in line for line in verdict.evidence), verdict.evidence
    assert verdict.confidence >= REVIEW


def test_a_copy_of_a_merchants_page_leads_to_the_merchants_program_page_it_writes_out():
    """The stored copy has no links; the address it writes out is the merchant's program page."""
    _, verdict = judged("it-divineindiatours-kinsta-copy")
    assert verdict.merchant_url == "https://kinsta.com/affiliates/"


PROFILE = """<html><head><title>{title}</title>{head}</head><body>{crumbs}<h1>{heading}</h1>
<p>Hosting.com runs an in-house affiliate program with a 90-day cookie. Commission: $55 to $125 per sale, paid
monthly by PayPal once the $100 minimum is reached. Our rating: 7.9 / 10.</p>{links}</body></html>"""


def profile(title="Hosting.com", heading="Hosting.com", head="", crumbs="", links="",
            url="https://www.affiliates-directory.com/websites/hosting-com"):
    return classify(PROFILE.format(title=title, heading=heading, head=head, crumbs=crumbs, links=links), url)


def test_a_directory_profile_linking_to_the_merchants_program_page_leads_to_it():
    """The fault: such a profile read as the directory's own program at confidence 1.0 (program wording in the title,
    the vocabulary, terms read, a sign-up link), keyed to the directory's host."""
    links = ('<a href="https://www.hosting.com/affiliates/">Join program</a>'
             '<a href="https://www.hosting.com/">Visit website</a>')
    page = PROFILE.format(title="Hosting.com Affiliate Program", heading="Hosting.com Affiliate Program", head="",
                          crumbs="", links=links)
    assert classify(page, "https://www.hosting.com/affiliates/").confidence >= ACCEPT  # on the merchant's site: its own
    verdict = profile(links=links)
    assert verdict.confidence == 0.0
    assert verdict.merchant_url == "https://www.hosting.com/affiliates/"
    assert "it names the merchant's address, https://www.hosting.com/affiliates/" in why_rejected(verdict)


def test_a_profile_linking_only_to_the_merchants_front_page_names_it_but_leads_nowhere():
    """A front page is no program page: judged, it would be rejected and its site remembered as judged."""
    verdict = profile(links='<a href="https://www.hosting.com/">Visit website</a>')
    assert verdict.confidence == 0.0 and verdict.merchant_url is None


@pytest.mark.parametrize("markup, sign", [
    ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Review", '
     '"itemReviewed": {"@type": "Organization", "name": "Hosting.com"}, "reviewRating": {"ratingValue": 7.9}}</script>',
     "schema.org Review markup"),
    ('<script type="application/ld+json">{"@graph": [{"@type": "BreadcrumbList", "itemListElement": ['
     '{"@type": "ListItem", "position": 1, "name": "Home"}, {"@type": "ListItem", "position": 2, '
     '"name": "Affiliate Programs"}, {"@type": "ListItem", "position": 3, "name": "Hosting.com"}]}]}</script>',
     "a directory's breadcrumbs: Home › Affiliate Programs › Hosting.com"),
])
def test_markup_of_a_review_or_of_a_directorys_breadcrumbs_says_whose_program_the_page_is_about(markup, sign):
    """Made-up HTML: the stored copies of real pages are text, without their markup. The page's own address is not
    taken as a sign when the subject is read from it (/websites/hosting-com and a heading "Hosting.com"): a merchant's
    page headed with its name at /pages/<name> is such a page too."""
    assert profile().confidence > 0 and not profile().against
    verdict = profile(head=markup)
    assert verdict.confidence == 0.0 and sign in why_rejected(verdict), verdict.evidence


def test_visible_breadcrumbs_of_a_directory_are_a_sign_and_a_merchants_own_are_not():
    crumbs = '<nav aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/programs/">{}</a></li>' \
             '<li>Hosting.com</li></ol></nav>'
    assert profile(crumbs=crumbs.format("Affiliate Programs")).confidence == 0.0
    own = classify(PROFILE.format(title="Hosting.com Affiliate Program", heading="Hosting.com Affiliate Program",
                                  head="", crumbs=crumbs.format("Affiliate Program"), links=""),
                   "https://www.hosting.com/affiliates/")
    assert own.confidence >= REVIEW and not own.against


def test_a_merchant_whose_name_is_not_its_domain_is_its_own_program_where_nothing_else_says_otherwise():
    page = ("<html><head><title>iHealth Affiliate Program</title></head><body><h1>iHealth Affiliate Program</h1>"
            "<p>Join our affiliate program: 20% commission on every sale, a 30-day cookie, monthly payouts.</p>"
            '<a href="https://www.shareasale.com/join/?merchantID=1">Join on ShareASale</a></body></html>')
    verdict = classify(page, "https://andonhealth.example/affiliate-program-faq/")
    assert verdict.confidence >= ACCEPT and not verdict.against, verdict.evidence
    # its address naming the brand is no sign on its own: it was, and the merchant's own page was rejected
    named = classify(page, "https://andonhealth.example/ihealth-affiliate-program/")
    assert named.confidence >= ACCEPT and not named.against, named.evidence
    # a review said in the address is one ("Bluehost Affiliate Review - Paying Out" of rated-bluehost-review)
    in_address = classify(page, "https://healthblog.example/affiliate/iHealth%20Affiliate%20Review/")
    assert in_address.confidence == 0.0 and "its address says 'Review'" in why_rejected(in_address)
    reviewed = classify(page.replace("iHealth Affiliate Program</h1>", "iHealth Affiliate Program Review</h1>"),
                        "https://healthblog.example/affiliate-program-faq/")
    assert reviewed.confidence == 0.0 and "'Review'" in why_rejected(reviewed)


class PagesByAddress:
    """Stands in for the polite fetcher: the pages are on named hosts (a directory's, a merchant's) that no resolver
    here answers for, and the judge reads names, not the loopback addresses the recorded sites are served on."""

    def __init__(self, pages: dict[str, str], spent_at: str | None = None):
        # spent_at: the page whose wait would pass the run's budget, refused unasked as the polite client refuses it
        self.pages, self.asked, self.spent_at = pages, [], spent_at

    def __call__(self, *args, **kwargs):
        return self

    def spacing(self, url: str) -> float:
        return 0.0

    def get(self, url: str) -> Response:
        if url == self.spent_at:
            raise WaitsSpent(f"{url}: not asked: its wait would pass the run's waits")
        self.asked.append(url)
        return Response(url, 200, {"content-type": "text/html"}, self.pages[url].encode())

    def close(self):
        pass


MERCHANT_PAGE = ("<html><head><title>Hosting.com Affiliate Program</title></head><body>"
                 "<h1>Hosting.com Affiliate Program</h1><p>Join our affiliate program: earn up to $125 per sale with a "
                 "90-day cookie; payouts monthly by PayPal.</p>"
                 '<a href="https://www.hosting.com/affiliates/signup">Sign up as an affiliate</a></body></html>')


DIRECTORY = "https://www.affiliates-directory.com/websites/hosting-com"
MERCHANT = "https://www.hosting.com/affiliates/"


def profile_and_merchant(tmp_path, monkeypatch, tracking: str = ""):
    """A run's fetcher answering a directory's profile of Hosting.com, linking to its program page (with `tracking`
    after its address), and that page; and the runtime the run stores in."""
    fetcher = PagesByAddress({DIRECTORY: PROFILE.format(
        title="Hosting.com Affiliate Program", heading="Hosting.com", head="", crumbs="",
        links=f'<a href="{MERCHANT}{tracking}">Join program</a>'), MERCHANT: MERCHANT_PAGE})
    monkeypatch.setattr(run, "Fetcher", fetcher)
    return fetcher, Runtime("test", Settings(data_dir=tmp_path))


def test_a_run_judges_the_merchants_program_page_a_directory_profile_leads_to(tmp_path, monkeypatch):
    """The profile is rejected as the directory's; the merchant's own page is judged as hosting.com's candidate, with
    the query that found the profile, and found once: its own page leads nowhere further."""
    fetcher, rt = profile_and_merchant(tmp_path, monkeypatch, "?utm_source=directory")
    report = DiscoveryReport()
    validate(rt, [Result(DIRECTORY, "Hosting.com Affiliate Program", "", 1, "searxng", '"affiliate program" hosting')],
             report)
    assert fetcher.asked == [DIRECTORY, MERCHANT]
    assert report.rejected == ["affiliates-directory.com"] and report.discovered == ["hosting.com"]
    assert report.rejected_why["affiliates-directory.com"].startswith(
        "the page is about another site's program (Hosting.com: it names the merchant's address, "
        f"{MERCHANT}?utm_source=directory")
    assert report.merchants_followed == [f"affiliates-directory.com → {MERCHANT}"]
    assert report.candidates == 2
    batch = [json.loads(line) for line in rt.store.get(report.batch_key).data.decode().splitlines()]
    assert [(r["record_key"], r["url"], r["extra"]["query"]) for r in batch] == \
        [("hosting.com", MERCHANT, '"affiliate program" hosting')]
    assert "linked to as its program's page by affiliates-directory.com's page about it" in \
        batch[0]["extra"]["evidence"]


def test_a_run_does_not_judge_again_a_merchant_already_known_or_a_candidate(tmp_path, monkeypatch):
    fetcher, rt = profile_and_merchant(tmp_path, monkeypatch)
    run.remember(rt, "hosting.com", {"domain": "hosting.com", "outcome": "rejected"})
    report = DiscoveryReport()
    validate(rt, [Result(DIRECTORY, "", "", 1, "searxng", "q")], report)
    assert fetcher.asked == [DIRECTORY] and report.merchants_followed == [] and report.candidates == 1


@pytest.mark.parametrize("markup", [
    '<script type="application/ld+json">{"@type": "Review", </script>',  # cut short: not JSON
    '<script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": "Affiliate Programs"}</script>',
    '<script type="application/ld+json">[{"@type": "BreadcrumbList", "itemListElement": [{"item": "https://x.example/"},'
    ' "Affiliate Programs", {"item": {"name": 7}}, {"name": "Hosting.com"}]}]</script>',
    '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + '</script>',  # past Python's recursion
])
def test_markup_not_of_the_shape_schema_org_gives_is_no_sign_and_no_failure(markup):
    """A page's own JSON-LD is the page's to get wrong: an item given as an address (a string) ended the judging."""
    verdict = profile(head=markup)
    assert verdict.confidence > 0 and not verdict.against, verdict.evidence


# A directory's profiles of other merchants' programs, each linking to the merchant's program page
BRANDS = ["Hosting.com", "Zentrohost", "Quillmail", "Parcelbee", "Lumatrek", "Brightvane", "Copperleaf"]


def profile_of(brand: str) -> str:
    return f"https://www.affiliates-directory.com/websites/{brand.lower().replace('.com', '-com')}"


def site_of(brand: str) -> str:
    return f"{brand.lower().removesuffix('.com')}.com"


def program_of(brand: str) -> str:
    return f"https://www.{site_of(brand)}/affiliates/"


def directory_and_merchants(tmp_path, monkeypatch, brands=BRANDS, spent_at=None, rt=None):
    """A run's fetcher answering the directory's profile of each brand and each brand's program page (and a page of the
    directory about itself); the runtime the run stores in."""
    pages = {"https://www.affiliates-directory.com/about": "<html><head><title>About us</title></head><body>"
             "<h1>About Affiliates Directory</h1><p>We write about online business.</p></body></html>"}
    for brand in brands:
        pages[profile_of(brand)] = PROFILE.replace("Hosting.com runs", f"{brand} runs").format(
            title=f"{brand} Affiliate Program", heading=brand, head="", crumbs="",
            links=f'<a href="{program_of(brand)}">Join program</a>')
        pages[program_of(brand)] = MERCHANT_PAGE.replace("Hosting.com", brand).replace("hosting.com", site_of(brand))
    fetcher = PagesByAddress(pages, spent_at)
    monkeypatch.setattr(run, "Fetcher", fetcher)
    return fetcher, rt or Runtime("test", Settings(data_dir=tmp_path))


def results_for(urls: list[str]) -> list[Result]:
    return [Result(url, "", "", rank, "searxng", '"affiliate program" hosting') for rank, url in enumerate(urls, 1)]


def followed(report: DiscoveryReport) -> list[str]:
    return [said.removeprefix("affiliates-directory.com → ") for said in report.merchants_followed]


def test_a_run_follows_the_merchant_of_each_profile_of_one_directory(tmp_path, monkeypatch):
    """The directory judged once, from its best-ranked profile; its other profiles read for their merchants only."""
    brands = BRANDS[:3]
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch, brands)
    report = DiscoveryReport()
    validate(rt, results_for([profile_of(b) for b in brands]), report)
    assert fetcher.asked == [*map(profile_of, brands), *map(program_of, brands)]
    assert followed(report) == [program_of(b) for b in brands]
    assert report.rejected == ["affiliates-directory.com"]
    assert report.discovered == ["hosting.com", "zentrohost.com", "quillmail.com"]
    assert json.loads(rt.store.get(seen_key("affiliates-directory.com")).data)["kind"] == run.ABOUT_ANOTHER


def test_a_later_run_follows_a_remembered_directorys_new_profile_without_judging_it_again(tmp_path, monkeypatch):
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch)
    validate(rt, results_for([profile_of("Hosting.com")]), DiscoveryReport())
    decision = rt.store.get(seen_key("affiliates-directory.com"))
    fetcher.asked.clear()
    report = DiscoveryReport()
    # the profile followed before (its merchant judged), a new one, and a page of the directory about no program
    about = "https://www.affiliates-directory.com/about"
    validate(rt, results_for([profile_of("Hosting.com"), profile_of("Zentrohost"), about]), report)
    assert fetcher.asked == [profile_of("Hosting.com"), profile_of("Zentrohost"), about, program_of("Zentrohost")]
    assert followed(report) == [program_of("Zentrohost")] and report.discovered == ["zentrohost.com"]
    assert report.known == ["affiliates-directory.com"] and report.rejected == [] and report.review == []
    assert rt.store.get(seen_key("affiliates-directory.com")).etag == decision.etag
    assert list(rt.store.list("discovery/review/")) == []


def test_a_run_reads_at_most_its_bound_of_one_directorys_pages(tmp_path, monkeypatch):
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch)
    assert len(BRANDS) > PAGES_PER_LEAD_SITE
    validate(rt, results_for([profile_of(b) for b in BRANDS]), first := DiscoveryReport())
    assert followed(first) == [program_of(b) for b in BRANDS[:PAGES_PER_LEAD_SITE]]
    fetcher.asked.clear()
    # remembered: none of its pages is judged, and as many are read
    more = [f"{b.removesuffix('.com')}plus" for b in BRANDS]
    directory_and_merchants(tmp_path, monkeypatch, more, rt=rt)
    validate(rt, results_for([profile_of(b) for b in more]), again := DiscoveryReport())
    assert followed(again) == [program_of(b) for b in more[:PAGES_PER_LEAD_SITE]]


def test_a_run_out_of_its_wait_budget_stops_at_the_page_it_cannot_wait_for_and_names_all_it_left(tmp_path,
                                                                                                   monkeypatch):
    """The directory judged and its second profile read; the third profile and the two merchants they led to are
    queued and never reached. The report named the merchants as followed, and the profile nowhere."""
    brands = BRANDS[:3]
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch, brands, spent_at=profile_of(brands[2]))
    report = DiscoveryReport()
    validate(rt, results_for([profile_of(b) for b in brands]), report)
    assert fetcher.asked == [profile_of(b) for b in brands[:2]]
    assert report.out_of_time and report.not_judged == ["hosting.com", "zentrohost.com"]  # the directory was judged
    assert report.leads_not_read == [profile_of(brands[2])]
    assert report.merchants_followed == []  # queued, not judged: in not_judged
    assert report.rejected == ["affiliates-directory.com"] and report.discovered == [] and report.batch_key is None


def test_a_run_out_of_time_names_only_the_merchants_it_judged_as_followed(tmp_path, monkeypatch):
    brands = BRANDS[:3]
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch, brands, spent_at=program_of(brands[1]))
    report = DiscoveryReport()
    validate(rt, results_for([profile_of(b) for b in brands]), report)
    assert fetcher.asked == [*map(profile_of, brands), program_of(brands[0])]
    assert followed(report) == [program_of(brands[0])] and report.discovered == ["hosting.com"]
    assert report.not_judged == ["zentrohost.com", "quillmail.com"] and report.leads_not_read == []


def test_a_directory_remembered_before_decisions_had_kinds_is_skipped_as_before(tmp_path, monkeypatch):
    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch)
    run.remember(rt, "affiliates-directory.com", {"domain": "affiliates-directory.com", "outcome": "rejected",
                                                  "confidence": 0.0, "url": profile_of("Hosting.com")})
    report = DiscoveryReport()
    validate(rt, results_for([profile_of("Zentrohost")]), report)
    assert fetcher.asked == [] and report.merchants_followed == [] and report.known == ["affiliates-directory.com"]


def discover_run_said(tmp_path, monkeypatch, brands, **directory) -> str:
    """What `amx discover run hosting` prints over directory_and_merchants' sites, its results the brands' profiles. The
    providers stand in too (run.search): their answers here would have to name the directory's host."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    directory_and_merchants(tmp_path, monkeypatch, brands, **directory)
    monkeypatch.setattr(run, "search", lambda *args, **kwargs: results_for([profile_of(b) for b in brands]))
    for name, value in {"AMX_DATA_DIR": str(tmp_path), "COLUMNS": "400"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["discover", "run", "hosting"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_amx_discover_run_says_which_merchant_each_profile_led_to(tmp_path, monkeypatch):
    said = discover_run_said(tmp_path, monkeypatch, BRANDS[:2])
    lines = [line.strip() for line in said.splitlines()]
    for brand in BRANDS[:2]:
        assert f"its merchant's own page judged: affiliates-directory.com → {program_of(brand)}" in lines, said


def test_amx_discover_run_names_the_sites_and_pages_its_time_did_not_reach(tmp_path, monkeypatch):
    said = discover_run_said(tmp_path, monkeypatch, BRANDS[:3], spent_at=profile_of(BRANDS[2]))
    lines = [line.strip() for line in said.splitlines()]
    assert "sites left for the next run: hosting.com, zentrohost.com" in lines, said
    assert f"page left for the next run to read for its merchant: {profile_of(BRANDS[2])}" in lines, said
    assert "its merchant's own page judged" not in said


def test_a_run_follows_a_profile_to_the_merchants_page_on_a_platform_and_keys_it_to_the_merchant(tmp_path,
                                                                                                 monkeypatch):
    """The merchant's program page is its form on Refersion (taptes.refersion.com): judged as the merchant's own
    candidate, its record keyed to its subdomain; refersion.com is never remembered as judged, so the next merchant
    there is still found. Before, the form linking to the shop read as a page about another site's program."""
    profile_url, form_url = profile_of("Taptes"), "https://taptes.refersion.com/affiliate/registration"
    fetcher = PagesByAddress({
        profile_url: PROFILE.replace("Hosting.com runs", "Taptes runs").format(
            title="Taptes", heading="Taptes", head="", crumbs="", links=f'<a href="{form_url}">Join program</a>'),
        form_url: "<html><head><title>Program Application</title></head><body><h1>Program Application</h1><p>Join "
                  "our affiliate program: 15% commission on every sale, a 30-day cookie. Affiliates may not bid on "
                  'TAPTES.</p><a href="https://www.taptes.com/">TAPTES shop</a></body></html>'})
    monkeypatch.setattr(run, "Fetcher", fetcher)
    rt = Runtime("test", Settings(data_dir=tmp_path))
    report = DiscoveryReport()
    validate(rt, results_for([profile_url]), report)
    assert fetcher.asked == [profile_url, form_url]
    assert report.discovered == ["taptes.refersion.com"] and followed(report) == [form_url]
    batch = [json.loads(line) for line in rt.store.get(report.batch_key).data.decode().splitlines()]
    assert [(r["record_key"], r["merchant_url"], r["name"]) for r in batch] == \
        [("taptes.refersion.com", "https://taptes.refersion.com/", "TAPTES")]
    assert rt.store.head(seen_key("refersion.com")) is None
    assert rt.store.head(seen_key("taptes.refersion.com")) is not None


def test_a_run_reads_the_decisions_of_the_sites_it_judged_before_alone(tmp_path, monkeypatch):
    """Every known site among a run's results had its decision read (a GET each, two where its key may be shared) to
    learn whether it is a source of leads, though most are known because the index lists them and have none."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.counting import CountingStore
    from tests.support.factories import make_program

    fetcher, rt = directory_and_merchants(tmp_path, monkeypatch)
    rt.index.ensure_index(PROGRAMS_INDEX)
    listed = ["hosting.com", "zentrohost.com"]
    template = to_document(make_program("Shop", "https://shop.com"))
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [{**template, "id": f"p_{i:016x}", "merchant_domain": domain}
                                               for i, domain in enumerate(listed)], refresh=True)
    run.remember(rt, "affiliates-directory.com", {"domain": "affiliates-directory.com", "outcome": "rejected",
                                                  "kind": run.ABOUT_ANOTHER})
    run.remember(rt, "quillmail.com", {"domain": "quillmail.com", "outcome": "rejected"})
    rt.store = CountingStore(rt.store)
    validate(rt, results_for([profile_of("Parcelbee"), *map(program_of, ["Hosting.com", "Zentrohost", "Quillmail"])]),
             report := DiscoveryReport())
    assert report.known == ["affiliates-directory.com", "hosting.com", "quillmail.com", "zentrohost.com"]
    assert followed(report) == [program_of("Parcelbee")] and report.discovered == ["parcelbee.com"]
    read = sorted(key for operation, key in rt.store.asked if operation == "get" and key.startswith("discovery/seen/"))
    assert read == [seen_key("affiliates-directory.com"), seen_key("quillmail.com")]
