"""The polite fetcher against a local server that misbehaves on purpose: every fault ends in a
recorded, understandable outcome, and none hangs. Waits go to a recording `sleep`, so nothing here
sleeps or is timed (how long a fetch takes is `task bench`'s business)."""

import codecs
import zlib

import pytest

from affiliate_matrix.fetch import MAX_CRAWL_DELAY, Fetcher, FetchError, check_public
from affiliate_matrix.polite import HostLimits
from tests.support.clock import FakeTime
from tests.support.counting import CountedPattern
from tests.support.fault_server import PAGE, FaultServer, bombs
from tests.support.loopback import Loopback


@pytest.fixture
def server():
    s = FaultServer()
    yield s
    s.close()


def fetcher(**options):
    defaults = {"allow_loopback": True, "rate_limit_per_s": 50, "attempts": 3, "timeout": 2.0}
    return Fetcher("AffiliateMatrixBot/test", **{**defaults, **options})


def test_a_plain_page(server):
    response = fetcher().get(f"{server.url}/ok")
    assert (response.status, response.attempts) == (200, 1) and b"fine" in response.body


def test_429_waits_for_retry_after_then_succeeds(server):
    waits = []
    response = fetcher(sleep=waits.append).get(f"{server.url}/limited")
    assert (response.status, response.attempts) == (200, 2)
    assert any(wait >= 1 for wait in waits)  # the server's Retry-After: 1


def test_a_503_burst_is_retried_with_backoff(server):
    response = fetcher().get(f"{server.url}/flaky")
    assert (response.status, response.attempts) == (200, 3)


def test_a_server_that_stays_down_is_a_clear_error(server):
    with pytest.raises(FetchError, match="HTTP 503 after 3 attempts"):
        fetcher().get(f"{server.url}/down")
    assert len(server.hits["/down"]) == 3


def test_a_retry_after_beyond_the_cap_is_not_waited_for(server):
    waits = []
    with pytest.raises(FetchError, match="asked to wait 3600 s"):
        fetcher(sleep=waits.append).get(f"{server.url}/go-away")
    assert all(wait < 1 for wait in waits) and len(server.hits["/go-away"]) == 1


def test_a_client_error_is_answered_not_retried(server):
    assert fetcher().get(f"{server.url}/gone").status == 404
    assert len(server.hits["/gone"]) == 1


def test_timeouts_end_in_an_error(server):
    with pytest.raises(FetchError, match="ReadTimeout"):
        fetcher(timeout=0.5, attempts=2, sleep=lambda _: None).get(f"{server.url}/slow")
    assert len(server.hits["/slow"]) == 2  # retried once, then given up


def test_a_slow_drip_hits_the_deadline(server):
    with pytest.raises(FetchError, match="still sending after 1 s"):
        fetcher(deadline=1.0, attempts=1).get(f"{server.url}/drip")


def test_a_truncated_body_is_an_error(server):
    with pytest.raises(FetchError, match="RemoteProtocolError"):
        fetcher(attempts=2).get(f"{server.url}/truncated")


def test_a_50_mb_body_is_cut_off(server):
    with pytest.raises(FetchError, match="body exceeds 5242880 bytes"):
        fetcher().get(f"{server.url}/huge")


def test_a_declared_huge_body_is_refused_before_reading(server):
    with pytest.raises(FetchError, match="declares 52428800 bytes"):
        fetcher().get(f"{server.url}/huge-declared")


def test_a_gzip_bomb_is_cut_off_after_decompression(server):
    with pytest.raises(FetchError, match="after decompression"):
        fetcher().get(f"{server.url}/bomb")


@pytest.mark.parametrize("path,problem", [("/dense-bomb", "exceeds 1048576 bytes"),   # 64 KB, one read: 64 MB
                                          ("/double-bomb", "coded more than once")])  # gzip, gzip: 64 MB from 300 B
def test_a_dense_or_double_gzip_bomb_never_expands_past_the_cap_in_memory(server, path, problem):
    """Before, each network read was decompressed whole, so the cap was checked only after 64 MB were held."""
    import tracemalloc

    bombs()  # made before measuring: the server's own copy is not the client's memory
    client = fetcher(max_bytes=1024 * 1024)
    client.get(f"{server.url}/ok")  # robots.txt read before measuring
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=problem):
            client.get(f"{server.url}{path}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"{peak} bytes held for a 1 MB cap"


@pytest.mark.parametrize("path,refused", [("/to-metadata",
                                           "169.254.169.254 resolves to a non-public address .link-local"),
                                          ("/to-private", "10.0.0.1 resolves to a non-public address .private"),
                                          ("/to-loopback", "127.0.0.1 resolves to a non-public address .loopback"),
                                          ("/to-localhost", "localhost resolves to a non-public address .loopback")])
def test_redirects_to_internal_addresses_are_refused_before_connecting(server, path, refused):
    # Loopback is allowed here only because the server itself listens there; a redirect away
    # from it to a loopback address is refused all the same, said as the redirect's (it read as the page's own host's)
    with pytest.raises(FetchError, match=refused) as caught:
        fetcher().get(f"{server.url}{path}")
    assert str(caught.value).startswith(f"{server.url}{path}: redirects to http://"), caught.value
    assert len(server.hits[path]) == 1 and server.hits["/ok"] == []  # the redirect itself, nothing after it


def test_a_redirect_to_a_loopback_site_asked_before_is_refused_though_its_connection_is_kept(server):
    """Loopback is allowed for the site asked for, and its connection is kept alive for the next request. A redirect
    from another site to it went out on that kept connection, never connecting, so never checked: refused now."""
    client = fetcher()
    assert client.get(f"{server.url}/ok").status == 200  # asked, so its loopback address is taken
    with Loopback(lambda request: (404, {}, b"") if request.path == "/robots.txt" else
                  (302, {"Location": f"{server.url}/page/1"}, b"")) as other:
        with pytest.raises(FetchError, match="non-public address .loopback"):
            client.get(f"{other.url}/away")
    assert server.hits["/page/1"] == []


@pytest.mark.parametrize("location", ["http://0177.0.0.1/x", "http://[::1/x"])
def test_a_redirect_to_a_location_httpx_cannot_read_is_that_pages_error_not_retried(location):
    """httpx reads a redirect's Location even when it follows none, and one it cannot read (an octal address, an
    unclosed bracket) came out as a RemoteProtocolError: taken for a network fault, the page was asked again and
    again, with backoff waits, and the error named no Location. It is the page's answer: one request, said so."""
    with Loopback(lambda request: (404, {}, b"") if request.path == "/robots.txt" else
                  (302, {"Location": location}, b"")) as site:
        with pytest.raises(FetchError, match=r"/away: redirects to a malformed Location \(Invalid URL"):
            fetcher().get(f"{site.url}/away")
        assert [request.path for request in site.requests].count("/away") == 1


def test_a_page_asked_within_a_site_is_not_asked_elsewhere(server):
    """A crawl's scope is its directory's site (crawl.py; test_crawl.py shows a redirect off it): a link kept from
    before it was, on another site, is not asked at all."""
    with pytest.raises(FetchError, match=r"/ok: a page of another site \(127.0.0.1, not example.com\): not asked"):
        fetcher().get(f"{server.url}/ok", site="example.com")
    assert server.hits == {}


def test_a_site_on_a_shared_host_is_its_own_and_not_its_neighbours():
    """A directory at x.github.io counted every other *.github.io site (and x.herokuapp.com every *.herokuapp.com)
    as its own: tldextract left out the public suffix list's private part. A crawl's scope counts it; merchant keys
    are made as before (the scope only)."""
    from affiliate_matrix.fetch import site_of
    from affiliate_matrix.normalize import merchant_domain, registrable_domain

    assert {site_of(url) for url in ("https://x.github.io/", "http://www.x.github.io/a")} == {"x.github.io"}
    assert site_of("https://shop.x.herokuapp.com/") == "x.herokuapp.com"
    assert site_of("https://github.io/") == "github.io"
    with pytest.raises(FetchError, match=r"a page of another site \(y.github.io, not x.github.io\): not asked"):
        fetcher().get("https://y.github.io/list", site=site_of("https://x.github.io/"))
    # merchant keys as they were: the domain under the public suffix, a tenant's own by taxonomy.TENANT_HOSTS
    assert registrable_domain("x.github.io") == "github.io" and merchant_domain("https://x.github.io/") == "x.github.io"


def test_a_redirect_loop_ends(server):
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher().get(f"{server.url}/loop")


def test_a_redirect_to_a_url_longer_than_a_record_keeps_is_that_pages_error():
    """A page's link longer than MAX_URL is not followed (a record cannot keep it, and the connection's HTTP cache, read
    and written whole each run, owes it no room); a redirect to one was followed, and the URL it reached kept in the
    cache: 5,000 pages redirecting to 15 KB URLs held 75 MB there."""
    from affiliate_matrix.sources import MAX_URL

    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        if request.path == "/moved":
            return 302, {"Location": "/ok?" + "a" * 15_000}, b""
        return 200, {"Content-Type": "text/html", "ETag": '"v1"'}, PAGE

    with Loopback(answer) as server:
        f = fetcher()
        with pytest.raises(FetchError, match=rf"/moved: redirects to a URL of 15,\d\d\d characters, longer than the "
                                             rf"{MAX_URL:,} a record keeps"):
            f.get(f"{server.url}/moved")
        assert [r.path for r in server.requests] == ["/robots.txt", "/moved"]
        assert all(len(url) <= MAX_URL for url in f.validators)


def test_a_redirect_is_followed(server):
    assert fetcher().get(f"{server.url}/to-ok").url.endswith("/ok")


@pytest.mark.parametrize("url,allow_loopback", [("http://127.0.0.1:9/", False), ("http://localhost:9/", False),
                                                ("http://[::1]:9/", False), ("http://169.254.169.254/", True),
                                                ("file:///etc/passwd", True), ("http://0.0.0.0/", True)])
def test_internal_addresses_are_refused(url, allow_loopback):
    with pytest.raises(FetchError, match="refused"):
        check_public(url, allow_loopback=allow_loopback)


def test_robots_txt_is_obeyed(server):
    f = fetcher()
    with pytest.raises(FetchError, match="disallowed by robots.txt"):
        f.get(f"{server.url}/private/page")
    assert f.get(f"{server.url}/ok").status == 200
    assert server.hits["/private/page"] == [] and len(server.hits["/robots.txt"]) == 1  # asked once per host


def test_an_unreachable_robots_txt_means_stay_away():
    server = FaultServer(robots=503)
    try:
        with pytest.raises(FetchError, match="not fetched: its robots.txt answered HTTP 503"):
            fetcher().get(f"{server.url}/ok")
    finally:
        server.close()


def test_a_robots_txt_answering_429_means_stay_away_not_allow_everything():
    """A site throttling us (429) on its robots.txt was taken to have none, as a 404 says: every page of it was
    fetched at once, its rules unread, by a crawler it had just asked to slow down. Google treats a 429 there as a
    5xx: unreachable, so nothing is fetched for now."""
    server = FaultServer(robots=429)
    try:
        with pytest.raises(FetchError, match="not fetched: its robots.txt answered HTTP 429"):
            fetcher().get(f"{server.url}/ok")
        assert server.hits["/ok"] == []
    finally:
        server.close()


@pytest.mark.parametrize("robots_at", ["/static/robots.txt", "/a/robots.txt"])
def test_a_robots_txt_that_redirects_is_followed_and_obeyed(robots_at):
    """RFC 9309 2.3.1.2: at least five redirects are followed. Before, the redirect's empty body was read as
    rules, so a site whose /robots.txt moved had every path fetched."""
    server = FaultServer(robots_at=robots_at)
    try:
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            fetcher().get(f"{server.url}/private/page")
        assert server.hits["/private/page"] == [] and len(server.hits[robots_at]) == 1
    finally:
        server.close()


def test_a_robots_txt_redirecting_to_an_internal_address_means_stay_away():
    server = FaultServer(robots_at="http://10.0.0.1/robots.txt")
    try:
        with pytest.raises(FetchError, match=r"/ok: not fetched: its robots.txt redirects where it cannot be "
                                             r"read: .*10.0.0.1 resolves to a non-public address \(priv"):
            fetcher().get(f"{server.url}/ok")
        assert server.hits["/ok"] == []
    finally:
        server.close()


def test_a_redirect_to_a_site_whose_robots_txt_cannot_be_read_says_why_not_that_robots_txt_disallows_it():
    """The site a page redirects to is another site with a robots.txt of its own (here the same host over https://,
    which answers no TLS): where that could not be read, the page said 'disallowed by robots.txt', as if the site
    forbade it; it says what kept its robots.txt from being read, as for the site asked for."""
    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        return 302, {"Location": f"https://127.0.0.1:{server.port}/ok"}, b""

    with Loopback(answer) as server:
        with pytest.raises(FetchError) as refused:
            fetcher(attempts=1).get(f"{server.url}/moved")
    said = str(refused.value)
    assert said.startswith(f"https://127.0.0.1:{server.port}/ok: not fetched (after a redirect): ")
    assert said.endswith("its robots.txt could not be read (no page of a site is fetched while its robots.txt cannot "
                         "be read)") and "disallowed" not in said


def test_a_host_that_cannot_be_resolved_is_named_as_such_not_as_a_robots_txt_refusal(monkeypatch):
    """The page of a host whose name did not resolve failed as "disallowed by robots.txt (robots.txt unreachable:
    cannot resolve ...)": robots named where DNS failed. It says what failed, and that the page was not fetched
    because the site's robots.txt could not be read."""
    import socket

    def no_such_name(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(FetchError) as failed:
        fetcher(sleep=lambda seconds: None).get("http://shop.example/affiliates")
    said = str(failed.value)
    assert said.startswith("http://shop.example/affiliates: not fetched: cannot resolve 'shop.example': Name or "
                           "service not known")
    assert "its robots.txt could not be read" in said and "disallowed" not in said


@pytest.mark.parametrize("charset", ["idna", "undefined", "punycode", "unicode_escape"])
def test_a_page_naming_a_charset_no_web_page_uses_is_read_as_utf_8(server, charset):
    """Python's idna and undefined codecs raised out of the fetcher (a crash of the whole crawl), and punycode decodes
    in quadratic time (minutes for a 5 MB page): a page may name only the web's encodings (WHATWG's)."""
    assert fetcher().get(f"{server.url}/charset/{charset}").text.endswith("caf\u00e9-99</body></html>")


@pytest.mark.parametrize("charset,text", [("windows-1252", "cafÃ©-99"), ("UTF8", "caf\u00e9-99"),
                                          ("no-such-charset", "caf\u00e9-99")])
def test_a_page_naming_a_web_encoding_is_read_in_it(server, charset, text):
    assert text in fetcher().get(f"{server.url}/charset/{charset}").text


WESTERN = "Acme™ “deals” – 10€"  # each past Latin-1 written in windows-1252's 0x80-0x9F


@pytest.mark.parametrize("charset,text", [
    ("ISO-8859-1", WESTERN), ("us-ascii", WESTERN), ("latin1", WESTERN), ("iso-8859-9", "Şirket"),
    ("tis-620", "€"), ("gb2312", "€"), ("shift_jis", "①"), ("big5", "碁"),
])
def test_a_page_naming_a_charset_browsers_read_as_a_wider_one_is_read_as_they_read_it(charset, text):
    """A page saying ISO-8859-1 or US-ASCII (Apache's old default, and many a directory's header) holds windows-1252's
    curly quotes, dashes, € and ™ in 0x80-0x9F: Python's Latin-1 read them as control characters, its ASCII as
    U+FFFD, so a program's name lost them. ISO-8859-9 and TIS-620 were no encoding at all here, read as UTF-8. The
    Encoding Standard's labels read them as windows-1252, -1254, -874, GB18030, Shift_JIS's and Big5's supersets."""
    wider = {"iso-8859-9": "cp1254", "tis-620": "cp874", "gb2312": "gb18030", "shift_jis": "cp932",
             "big5": "big5hkscs"}.get(charset, "cp1252")
    page = (200, {"Content-Type": f"text/html; charset={charset}"}, f"<p>{text}</p>".encode(wider))
    with Loopback(lambda request: page if request.path == "/p" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/p").text == f"<p>{text}</p>"


@pytest.mark.parametrize("label,codec,text", [
    ("windows-874", "cp874", "ภาษาไทย"), ("x-sjis", "cp932", "日本語①"), ("iso-8859-8-i", "iso8859-8", "עברית"),
    ("x-mac-roman", "mac-roman", "Café™"), ("x-cp1252", "cp1252", "Acme™ “deals”"), ("iso88591", "cp1252", "Acme™"),
])
def test_a_page_naming_an_encoding_standard_label_python_does_not_know_is_read_in_it(label, codec, text):
    """windows-874 (Thai pages' usual label), x-sjis, iso-8859-8-i (Hebrew's), x-mac-roman and the Encoding
    Standard's other labels Python's codecs do not know were read as UTF-8: every character past ASCII a U+FFFD."""
    page = (200, {"Content-Type": f"text/html; charset={label}"}, f"<p>{text}</p>".encode(codec))
    with Loopback(lambda request: page if request.path == "/p" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/p").text == f"<p>{text}</p>"


def test_every_label_python_does_not_know_names_a_web_encoding():
    from affiliate_matrix.polite import WEB_ENCODINGS, WHATWG_LABELS, Response

    for label, codec in WHATWG_LABELS.items():
        assert Response("u", 200, {"content-type": f"text/html; charset={label.upper()}"}, b"").charset == codec
        assert codec in WEB_ENCODINGS


@pytest.mark.parametrize("header", ["text/html; charset=none", "text/html; charset=utf8mb4", "text/html; charset=idna"])
def test_a_header_naming_no_web_encoding_leaves_the_pages_meta_to_name_it(header):
    """A Content-Type naming a charset no browser knows (a server's placeholder, a database's name for UTF-8) was taken
    as the page's word all the same, read as UTF-8, and the page's own <meta charset> was never looked at: its
    windows-1252 text came out as U+FFFD. Browsers pass such a label over and read the <meta>."""
    page = (200, {"Content-Type": header}, '<meta charset="windows-1252"><p>Acme™ “deals”</p>'.encode("cp1252"))
    with Loopback(lambda request: page if request.path == "/p" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/p").text.endswith("<p>Acme™ “deals”</p>")


@pytest.mark.parametrize("header,meta,encoding", [("utf-8", "windows-1252", "utf-8"),
                                                  ("windows-1252", "utf-8", "cp1252")])
def test_a_content_type_charset_wins_over_a_meta_that_disagrees(header, meta, encoding):
    """The HTML standard's order: the transport's charset before the page's <meta> (a page copied from another site
    keeps its <meta>; the server says what it sends)."""
    body = f'<meta charset="{meta}"><p>Café ™</p>'.encode(encoding)
    page = (200, {"Content-Type": f"text/html; charset={header}"}, body)
    with Loopback(lambda request: page if request.path == "/p" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/p").text.endswith("<p>Café ™</p>")


def test_only_the_first_500_kib_of_a_robots_txt_is_parsed():
    """RFC 9309 2.5 (and Google): a parsing limit of 500 KiB, past which content is ignored. Before, all 5 MB a
    response may hold were parsed, and every URL was matched against every rule: seconds of CPU a host chose."""
    padding = b"".join(b"Disallow: /old/%d\n" % n for n in range(40_000))  # ~700 KB of rules
    server = FaultServer(robots=b"User-agent: *\nDisallow: /private/\n" + padding + b"Disallow: /page/")
    try:
        f = fetcher()
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            f.get(f"{server.url}/private/page")  # within the limit: obeyed
        assert f.get(f"{server.url}/page/1").status == 200  # past it: not read
    finally:
        server.close()


@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_a_robots_txt_past_the_body_cap_is_read_for_its_first_500_kib_not_taken_for_unreachable(coding):
    """RFC 9309 2.5: content past the parsing limit is ignored. A robots.txt past the 5 MB a response may hold (sent,
    declared, or inflated from gzip) failed as a page too large, and the site was taken for one whose robots.txt
    cannot be read: none of its pages was ever fetched. Its first 500 KiB are its rules, as a smaller one's are."""
    rules = b"User-agent: *\nDisallow: /private/\n" + b"# padding\n" * (6 * 1024 * 1024 // 10)
    wire = zlib.compress(rules, wbits=31) if coding == "gzip" else rules
    pages = {"/robots.txt": (200, {"Content-Type": "text/plain", "Content-Encoding": coding}, wire),
             "/ok": (200, {"Content-Type": "text/html"}, b"<p>fine</p>")}
    with Loopback(lambda request: pages.get(request.path, (404, {}, b""))) as site:
        f = fetcher()
        with pytest.raises(FetchError, match="/private/page: disallowed by robots.txt$"):
            f.get(f"{site.url}/private/page")
        assert f.get(f"{site.url}/ok").status == 200


def test_a_robots_txt_within_the_limit_keeps_its_last_line_without_a_newline():
    server = FaultServer(robots=b"User-agent: *\nDisallow: /private/")
    try:
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            fetcher().get(f"{server.url}/private/page")
    finally:
        server.close()


# A robots.txt as directories and networks write them: groups for several agents (ours named among others, a group
# merged from two), Allow and Disallow of one length, wildcards and `$`, a Sitemap line inside a group, CRLF lines
GROUPS = (b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /\r\n\r\nUser-agent: Googlebot\r\nUser-agent: AffiliateMatrixBot\r\n"
          b"Disallow: /private/\r\nAllow: /private/programs/\r\nSitemap: https://directory.example/sitemap.xml\r\n"
          b"Disallow: /*.php$\r\nDisallow: /*?sort=\r\nDisallow: /same\r\nAllow: /same\r\n\r\n"
          b"User-agent: affiliatematrixbot\r\nDisallow: /members\r\n")


@pytest.mark.parametrize("path,allowed", [
    ("/programs", True),                 # our group, not `*`'s Disallow: /
    ("/private/page", False), ("/private/programs/1", True),  # the longest match wins
    ("/same", True),                     # Allow and Disallow alike long: Allow
    ("/list.php", False), ("/list.php?page=2", True),  # `$` ends the path
    ("/programs?sort=name", False), ("/members/1", False),  # `*`; the group of the same agent later, merged
])
def test_a_robots_txt_of_several_groups_is_read_as_rfc_9309_reads_it(path, allowed):
    """RFC 9309 2.2: the group naming our product token (case-insensitively, merged with another naming it), the
    longest rule matching, Allow on a tie, `*` and `$`; a Sitemap line ends no group; a byte order mark and CRLF
    lines read as the rules they carry."""
    server = FaultServer(robots=GROUPS)
    try:
        f = fetcher()
        if allowed:
            assert f.get(f"{server.url}{path}").status == 404  # asked (FaultServer has no such page)
        else:
            with pytest.raises(FetchError, match="disallowed by robots.txt"):
                f.get(f"{server.url}{path}")
            assert server.hits[path.split("?")[0]] == []
    finally:
        server.close()


def test_robots_txt_groups_are_matched_to_the_user_agents_product_token_not_to_any_word_of_it():
    """RFC 9309 2.2.1: a group is the crawler's when it names its product token. protego was given the whole
    User-Agent, and matched a group to any word in it: the default one's URL ends in /bot, so a site's `User-agent:
    bot` group (a trap for all bots) was taken as ours, and `*`'s Disallow: /admin/ was not obeyed."""
    from affiliate_matrix.fetch_settings import FetchSettings

    server = FaultServer(robots=b"User-agent: *\nDisallow: /admin/\n\nUser-agent: bot\nDisallow: /all-bots-trap/\n\n"
                                b"User-agent: dev\nAllow: /\n")
    try:
        f = Fetcher(FetchSettings.model_fields["user_agent"].default, allow_loopback=True, rate_limit_per_s=50)
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            f.get(f"{server.url}/admin/page")
        assert f.get(f"{server.url}/all-bots-trap/").status == 404  # asked: not our group
        assert server.hits["/admin/page"] == []
    finally:
        server.close()


@pytest.mark.parametrize("content_type", ["text/plain; charset=iso-8859-1", "text/plain; charset=windows-1252",
                                          "text/html"])
def test_a_robots_txt_is_read_as_utf_8_whatever_charset_its_header_names(content_type):
    """RFC 9309 2.3: robots.txt is UTF-8, and the major crawlers read it so. It was read in the charset its header
    named, as a page is: Apache's default `charset=iso-8859-1` made `Disallow: /über-uns/` a rule for
    /Ã¼ber-uns/, and the path it meant was fetched."""
    rules = "User-agent: *\nDisallow: /über-uns/\n".encode("utf-8")
    pages = {"/robots.txt": (200, {"Content-Type": content_type}, rules), "/ok": (200, {}, b"<p>fine</p>")}
    with Loopback(lambda request: pages.get(request.path, (404, {}, b""))) as site:
        f = fetcher()
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            f.get(f"{site.url}/über-uns/team")
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            f.get(f"{site.url}/%C3%BCber-uns/team")
        assert f.get(f"{site.url}/ok").status == 200
        assert [request.path for request in site.requests] == ["/robots.txt", "/ok"]


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_robots_txt_refused_or_missing_allows_everything(status):
    """RFC 9309 2.3.1.3: a robots.txt answering 4xx (401 and 403 among them) is unavailable: any page may be asked."""
    server = FaultServer(robots=status)
    try:
        assert fetcher().get(f"{server.url}/private/page").status == 200
    finally:
        server.close()


def test_a_missing_robots_txt_allows_everything():
    server = FaultServer(robots=404)
    try:
        assert fetcher().get(f"{server.url}/private/page").status == 200
    finally:
        server.close()


def test_crawl_delay_slows_the_host_down():
    """Time is faked (the waits asked for are the figure): a server's arrival times move with the machine's load."""
    server, time = FaultServer(robots=b"User-agent: *\nCrawl-delay: 0.5\n"), FakeTime()
    try:
        f = fetcher(**time.options(HostLimits()))  # 50 requests/s of its own: the robots.txt's delay decides
        for i in range(3):
            assert f.get(f"{server.url}/page/{i}").status == 200
        assert time.sleeps == [pytest.approx(0.5 * 1.02)] * 3  # robots.txt, then each page half a second apart
    finally:
        server.close()


def waited_before_a_page(robots: bytes) -> list[float]:
    """The waits a fetcher of its own pace (50 requests/s) asks for before one page of a host whose robots.txt says
    `robots` (time faked: the waits asked for are the figure)."""
    server, time = FaultServer(robots=robots), FakeTime()
    try:
        assert fetcher(**time.options(HostLimits())).get(f"{server.url}/page/1").status == 200
        return time.sleeps
    finally:
        server.close()


@pytest.mark.parametrize("robots, spacing", [
    (b"User-agent: *\nRequest-rate: 1/5s\n", 5.0),
    (b"User-agent: *\nRequest-rate: 6/1m 0900-1700\n", 10.0),  # its hours not read: it holds all day
    (b"User-agent: *\nCrawl-delay: 2\nRequest-rate: 1/5s\n", 5.0),  # the longer of the two
    (b"User-agent: *\nCrawl-delay: 8\nRequest-rate: 1/5s\n", 8.0),
    (b"User-agent: *\nRequest-rate: 1/1h\n", MAX_CRAWL_DELAY),  # past the longest honoured
])
def test_a_request_rate_spaces_the_host_as_a_crawl_delay_does(robots, spacing):
    """A Request-rate was read by nobody: a site asking one request every 5 seconds was asked at our own pace."""
    assert waited_before_a_page(robots) == [pytest.approx(spacing * 1.02)]  # the page, that long after robots.txt


@pytest.mark.parametrize("delay", [b"inf", b"1e400", b"10 minutes", b"10ms", b"s"])
def test_a_crawl_delay_that_is_no_finite_number_is_the_longest_honoured(delay):
    """protego drops a Crawl-delay it cannot read as a finite number, and the host that asked us to slow down was
    asked at our own pace (50 requests/s here): read as the longest delay honoured (60 s), as a delay above it is."""
    assert waited_before_a_page(b"User-agent: *\nCrawl-delay: " + delay + b"\n") == [
        pytest.approx(MAX_CRAWL_DELAY * 1.02)]  # the page, a minute after robots.txt


@pytest.mark.parametrize("delay", [b"10s", b"10 sec", b"10SECS", b"10 Seconds", b"10second", b"1e1 s"])
def test_a_crawl_delay_in_seconds_with_its_unit_is_that_many_seconds(delay):
    """'Crawl-delay: 10s' was read as no number, so as the longest delay honoured (60 s): a host asking ten seconds
    was asked once a minute. A number followed by s, sec, secs, second or seconds is that many seconds."""
    assert waited_before_a_page(b"User-agent: *\nCrawl-delay: " + delay + b"\n") == [
        pytest.approx(10 * 1.02)]  # the page, ten seconds after robots.txt


def test_a_crawl_delay_line_is_read_no_further_than_its_start(monkeypatch):
    """A Crawl-delay's value was tried to the line's end from each of its characters: a robots.txt line of 32,000
    blanks took 11 s, and discovery reads the robots.txt of any site a search finds. Counted, not timed: the text the
    pattern is handed. A line past its start holds no number of seconds: the longest delay honoured."""
    import re

    from affiliate_matrix import fetch

    handed, compile_ = [], re.compile
    monkeypatch.setattr(re, "compile", lambda *args, **kwargs: CountedPattern(compile_(*args, **kwargs), handed))
    read = fetch._delays_read("User-agent: *\nCrawl-delay: 1" + " " * 5_000 + "x\nCrawl-delay: 10s\n")
    monkeypatch.undo()
    assert handed and max(handed) <= 200
    assert read.splitlines()[1:] == [f"Crawl-delay: {MAX_CRAWL_DELAY:g}", "Crawl-delay: 10"]


def test_conditional_get_turns_an_unchanged_page_into_a_304(server):
    f = fetcher()
    assert f.get(f"{server.url}/etag").status == 200
    assert f.get(f"{server.url}/etag").status == 304


@pytest.mark.parametrize("header", ["ETag", "Last-Modified"])
def test_a_validator_that_cannot_be_sent_back_does_not_stop_the_page_being_fetched(header):
    """A server's ETag or Last-Modified with a byte past ASCII (HTTP allows it; httpx reads it as Latin-1) was kept
    and sent back as If-None-Match or If-Modified-Since, which httpx cannot encode: every later fetch of that page
    failed before it was sent, as "not a valid URL", for as long as the cache kept the entry (a 200 alone replaces
    it). Such a validator is not sent: the page is fetched in full."""
    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        return 200, {header: '"caf\u00e9"', "Content-Type": "text/html"}, b"<html>ok</html>"

    with Loopback(answer) as site:
        client = fetcher()
        assert client.get(f"{site.url}/page").status == 200
        assert client.get(f"{site.url}/page").status == 200
        assert len([request for request in site.requests if request.path == "/page"]) == 2


def test_a_validator_of_kilobytes_is_not_kept_in_the_cache():
    """A page's ETag and Last-Modified were kept as the server sent them, however long (a header may run to 16 KB):
    5,000 pages of a site filled a connection's cache, read and written whole each run, with 80 MB it chose. A
    validator longer than any real one is not kept; the page is fetched in full next time."""
    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        return 200, {"ETag": '"' + "e" * 10_000 + '"', "Last-Modified": "x" * 10_000,
                     "Content-Type": "text/html"}, b"<html>ok</html>"

    with Loopback(answer) as site:
        client = fetcher()
        assert client.get(f"{site.url}/page").status == 200
        assert client.validators[f"{site.url}/page"] == {"etag": None, "last_modified": None}


def test_the_validator_cache_keeps_only_the_urls_fetched_or_revalidated_last(server):
    """A connection's cache kept every URL ever fetched. It holds MAX_VALIDATORS, the oldest dropped first; a URL
    revalidated (a 304) counts as fetched, so pages still in use stay."""
    from affiliate_matrix import fetch

    etag, ok = f"{server.url}/etag", f"{server.url}/ok"
    cache = {f"https://old.example/{i}": {"etag": f'"{i}"', "last_modified": None} for i in range(20)}
    cache[etag] = {"etag": '"v1"', "last_modified": None, "raw_key": "raw/x"}
    cache |= {f"https://old.example/{i}": {"etag": f'"{i}"', "last_modified": None}
              for i in range(20, fetch.MAX_VALIDATORS + 10)}
    f = fetcher(validators=cache)  # one over the bound: the 11 oldest go at once
    assert len(f.validators) == fetch.MAX_VALIDATORS and next(iter(f.validators)) == "https://old.example/11"
    assert f.get(etag).status == 304  # revalidated: the newest now
    assert f.get(ok).status == 200  # one more: the oldest goes
    assert len(f.validators) == fetch.MAX_VALIDATORS and next(iter(f.validators)) == "https://old.example/12"
    assert list(f.validators)[-2:] == [etag, ok] and f.validators[etag]["raw_key"] == "raw/x"


def test_the_rate_limit_spaces_requests_to_one_host(server):
    """Four threads, one host at 5 requests/s: each turn is taken 0.2 s after the last (time faked, as above)."""
    from concurrent.futures import ThreadPoolExecutor

    time = FakeTime()
    f = fetcher(rate_limit_per_s=5, concurrency=4, **time.options(HostLimits()))
    with ThreadPoolExecutor(4) as pool:
        assert {r.status for r in pool.map(lambda i: f.get(f"{server.url}/page/{i}"), range(8))} == {200}
    assert len(time.sleeps) >= 8 and time.sleeps == [pytest.approx(0.2 * 1.02)] * len(time.sleeps)  # robots.txt, 8 pages


def test_the_charset_comes_from_the_meta_tag_when_the_header_has_none(server):
    assert "Café Crème" in fetcher().get(f"{server.url}/latin1").text


@pytest.mark.parametrize("content_type,text", [
    ("application/rss+xml", "d\u2019affiliation"),  # no charset said: the declaration's (was read as UTF-8: "d\ufffda...")
    ("application/rss+xml; charset=utf-8", "d\ufffdaffiliation"),  # the header's wins over what the body declares
])
def test_a_feed_with_no_charset_in_its_header_is_read_in_the_encoding_it_declares(content_type, text):
    from affiliate_matrix.polite import Response

    feed = '<?xml version="1.0" encoding="windows-1252"?><rss><title>d\u2019affiliation</title></rss>'.encode("cp1252")
    assert text in Response("https://forum.example/feed", 200, {"content-type": content_type}, feed).text


@pytest.mark.parametrize("bom,encoding", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                                          (codecs.BOM_UTF8, "utf-8")])
def test_a_byte_order_mark_names_the_encoding_over_the_header_and_the_meta(bom, encoding):
    """A body starting with a BOM was read in the header's charset (or its <meta>'s): mojibake, or every other
    character a NUL for UTF-16. The WHATWG Encoding Standard has the BOM win over both, and the mark is not text."""
    from affiliate_matrix.polite import Response

    page = '<html><head><meta charset="windows-1252"></head><body>café – d’affiliation</body></html>'
    for content_type in ("text/html; charset=iso-8859-1", "text/html"):
        response = Response("https://directory.example/p/x/", 200, {"content-type": content_type},
                            bom + page.encode(encoding))
        assert response.text == page


@pytest.mark.parametrize("coding,wire", [
    ("deflate", zlib.compress(b"<html>deflated</html>")),                                # with its zlib header
    ("deflate", zlib.compress(b"<html>deflated</html>", wbits=-zlib.MAX_WBITS)),         # raw, as some servers send it
    ("gzip", zlib.compress(b"<html>deflated</html>", wbits=16 + zlib.MAX_WBITS)),
])
def test_each_content_coding_httpx_undoes_is_undone_within_the_cap(coding, wire):
    from affiliate_matrix.content_coding import BoundedDecoder

    decoder = BoundedDecoder(coding, 100)
    assert b"".join([decoder.decode(wire[:5]), decoder.decode(wire[5:]), decoder.flush()]) == b"<html>deflated</html>"


def test_a_body_coded_as_x_gzip_is_read_as_gzip():
    """RFC 9110 8.4.1.3: a recipient takes "x-gzip" as "gzip", and older servers still send it. Its page was refused
    as a coding not asked for, its programs never read."""
    page = (200, {"Content-Type": "text/html", "Content-Encoding": "x-gzip"},
            zlib.compress(b"<html>gzipped</html>", wbits=16 + zlib.MAX_WBITS))
    with Loopback(lambda request: page if request.path == "/page" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/page").body == b"<html>gzipped</html>"


def test_a_gzip_body_of_several_members_is_read_whole_within_the_cap():
    """RFC 1952 2.2: a gzip body is a series of members (a server compressing a page piece by piece sends one a
    piece). Only the first was read, as zlib and httpx stop at its end: the rest of the page was dropped unsaid. Every
    member is read now (zero bytes between them are padding), within the one cap."""
    from affiliate_matrix.content_coding import BodyTooLarge, BoundedDecoder, Undecodable

    pieces = [b"<html><body><p>first</p>", b"<p>second</p>", b"</body></html>"]
    members = [zlib.compress(piece, wbits=31) for piece in pieces]
    wire = b"".join(members)
    page = (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, b"".join(members[:2]) + b"\0\0" + members[2])
    with Loopback(lambda request: page if request.path == "/page" else (404, {}, b"")) as site:
        assert fetcher().get(f"{site.url}/page").body == b"".join(pieces)
    with pytest.raises(BodyTooLarge):  # the cap holds over them all: a second member is no way past it
        decoder = BoundedDecoder("gzip", 30)
        decoder.decode(wire + zlib.compress(bytes(10**6), wbits=31))
    with pytest.raises(Undecodable, match=r"not valid gzip \(its member 4: .*incorrect header check"):
        BoundedDecoder("gzip", 1000).decode(wire + b"<p>past the members</p>")


@pytest.mark.parametrize("coding,wire,problem", [
    ("gzip", zlib.compress(b"<html>page</html>", wbits=31)[:-3], "cut short: the body ends before its gzip stream"),
    ("gzip", zlib.compress(b"<html>page</html>", wbits=31)[:-8], "cut short"),  # no trailer at all
    ("gzip", zlib.compress(b"<p>1</p>", wbits=31) + zlib.compress(b"<p>2</p>", wbits=31)[:-2],
     "cut short: .* in its member 2"),
    ("deflate", zlib.compress(b"<html>page</html>")[:-4], "cut short: the body ends before its deflate stream"),
    ("gzip", zlib.compress(b"<html>page</html>", wbits=31)[:-8] + b"\0\0\0\0" + b"\x11\0\0\0",
     "incorrect data check"),  # a damaged CRC
])
def test_a_coded_body_cut_short_or_with_a_damaged_trailer_is_refused_naming_it(coding, wire, problem):
    """A gzip body whose trailer (CRC and size) was cut short was accepted silently: zlib's flush hands out what it
    has and says nothing of a stream not ended. It is refused as cut short, as a body cut short elsewhere is."""
    from affiliate_matrix.content_coding import BoundedDecoder, Undecodable

    decoder = BoundedDecoder(coding, 10_000)
    with pytest.raises(Undecodable, match=problem):
        decoder.decode(wire)
        decoder.flush()
    assert BoundedDecoder("gzip", 100).flush() == b""  # no body (a HEAD's, a 304's) is nothing cut short
    cut = BoundedDecoder("gzip", 5, cut=True)  # a robots.txt of which only the opening is read
    assert cut.decode(zlib.compress(b"<html>page</html>", wbits=31)) == b"<html" and cut.cut_short


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip,br"])
def test_a_body_in_a_coding_not_asked_for_is_refused_naming_it_with_the_body_as_it_came(server, coding):
    """Only gzip and deflate are asked for, and decoded; a server sending brotli or zstd all the same had its bytes
    pass as the page's text, to fail in the parser as a layout it did not know. The page fails naming the coding,
    and its answer is kept as it came, for a crawl to keep raw."""
    from affiliate_matrix.polite import Undecoded, UnusableAnswer

    path = f"/coded/{coding}"
    with pytest.raises(Undecoded, match=rf"{path}: its body is coded as '(br|zstd)' \(its Content-Encoding\), which "
                                        r"was not asked for \(Accept-Encoding: gzip, deflate\) and is not decoded"):
        fetcher().get(f"{server.url}{path}")
    try:
        fetcher().get(f"{server.url}{path}")
    except Undecoded as refused:
        assert refused.response.body == PAGE and isinstance(refused, UnusableAnswer)
    assert {request.headers["accept-encoding"] for request in server.hits[path]} == {"gzip, deflate"}


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_an_answer_in_a_transfer_coding_other_than_chunked_is_refused_at_once_naming_it(server, coding):
    """h11 reads no Transfer-Encoding but chunked, nor hands its body over raw to decode: its refusal, a
    RemoteProtocolError, was taken for a network fault and the page asked again, to the same answer, every attempt."""
    from affiliate_matrix.polite import UnusableAnswer

    path = f"/transfer-coded/{coding}"
    with pytest.raises(UnusableAnswer, match=rf"{path}: answers with a Transfer-Encoding other than chunked alone "
                                             r"\(such as 'gzip, chunked'\), a transfer coding not read here"):
        fetcher(sleep=lambda seconds: None).get(f"{server.url}{path}")
    assert len(server.hits[path]) == 1


def test_a_robots_txt_in_a_coding_not_asked_for_keeps_the_site_unfetched():
    """Its bytes read as rules were no rules: everything allowed. Rules that cannot be read keep the site away."""
    pages = {"/robots.txt": (200, {"Content-Type": "text/plain", "Content-Encoding": "br"}, b"\x1b\x2f\x00\xf8"),
             "/ok": (200, {"Content-Type": "text/html"}, b"<p>fine</p>")}
    with Loopback(lambda request: pages.get(request.path, (404, {}, b""))) as site:
        with pytest.raises(FetchError, match="coded as 'br'.*its robots.txt could not be read"):
            fetcher().get(f"{site.url}/ok")
        assert [request.path for request in site.requests] == ["/robots.txt"]


@pytest.mark.parametrize("header, kept_as, web_page", [
    ("Application/RSS+XML", ".xml", False),
    ("APPLICATION/JSON; charset=UTF-8", ".json", False),
    ("Text/HTML; Charset=UTF-8", ".html", True),
    ("application/XHTML+xml", ".xml", True),  # kept as XML, as a lower-case one is
])
def test_a_media_type_written_in_capitals_is_the_same_type(tmp_path, header, kept_as, web_page):
    """Media types are case-insensitive (RFC 9110 8.3.1) and were compared as written: an `Application/RSS+XML` feed
    was kept as an .html page, and a `Text/HTML` maintenance page answering an API was not said to be a web page."""
    from types import SimpleNamespace

    from affiliate_matrix.crawl import keep_raw
    from affiliate_matrix.polite import Response
    from affiliate_matrix.storage.local import LocalObjectStore
    from affiliate_matrix.sync import _what_came

    response = Response("https://forum.example/feed", 200, {"content-type": header}, b"<p>Down for maintenance</p>")
    assert response.content_type == header.split(";")[0].lower()
    assert keep_raw(SimpleNamespace(name="forum"), LocalObjectStore(tmp_path), response).endswith(kept_as)
    assert ("a web page came" in _what_came(response)) is web_page
