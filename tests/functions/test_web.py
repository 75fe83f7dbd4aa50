"""The web function through functions-framework's own HTTP stack: sign-in, CSRF, cookies, every
page over a small index, escaping and the CSP. (The browser test, tests/e2e/test_web_browser.py,
drives the same pages in Chromium.)"""

import html
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

import pytest
from functions_framework import create_app

from affiliate_matrix.auth import create_token, revoke_token
from affiliate_matrix.config import Settings
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.handlers.web import PAGE_HEADERS
from affiliate_matrix.merge import merge
from affiliate_matrix.models import DeltaChange, FieldChange, RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import to_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program, make_record
from tests.support.processes import ROOT
from tests.support.web_pages import HOSTILE, csrf_of, filled, pager_link, shown, sign_in


@pytest.fixture
def rt(web_rt):
    return web_rt


@pytest.fixture
def app(web_client):
    return web_client


def indexed_merged(rt, records):
    """One program merged from `records` (each source's), indexed."""
    program = normalize(records[0])
    for other in records[1:]:
        program = merge(program, normalize(other))
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    return program


def test_pages_need_a_session_and_sign_in_sets_a_strict_http_only_cookie(app, rt):
    answer = app.get("/programs?q=shop")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/signin?next=%2Fprograms%3Fq%3Dshop")
    token = create_token(rt.secrets, "read")
    signed = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": "/programs?q=shop"})
    cookie = next(c for c in signed.headers.getlist("Set-Cookie") if c.startswith("amx_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # loopback
    assert signed.headers["Location"] == "/programs?q=shop"
    assert app.get("/programs?q=shop").status_code == 200


def test_on_loopback_each_ports_site_keeps_its_own_cookies(app, rt):
    """A browser sends a host's cookies to every port of it (RFC 6265 §8.5): two runs on 127.0.0.1 (`amx up` twice, or
    amx and another local app) read each other's session and CSRF cookies, and one refusing the other's session signed
    the browser out of it. On loopback the cookies' names carry the port."""
    first, second = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
    page = app.get("/signin", base_url=first)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"token": create_token(rt.secrets, "read"), "csrf": csrf, "next": "/programs"}
    signed = app.post("/signin", base_url=first, data=form)
    assert signed.status_code == 303
    elsewhere = app.get("/programs", base_url=second)  # the other port's site: not signed in, and ending nothing
    assert elsewhere.status_code == 303 and elsewhere.headers["Location"] == "/signin?next=%2Fprograms"
    assert not any(c.startswith("amx_session_8001=") for c in elsewhere.headers.getlist("Set-Cookie"))
    assert app.post("/signin", base_url=second, data=form).status_code == 400  # its CSRF cookie is its own
    assert app.get("/programs", base_url=first).status_code == 200
    assert [c.split("=")[0] for c in signed.headers.getlist("Set-Cookie")] == ["amx_session_8001"]


@pytest.mark.parametrize("base_url", ["http://[::1]", "http://[::1]:80", "http://[::1]:8001"])
def test_on_ipv6_loopback_the_cookies_are_plain_http_ones_whatever_the_port(rt, base_url):
    """The host was read by cutting at its last colon, so [::1] with no port (werkzeug drops http's 80) was no address:
    taken as off loopback, its cookies were Secure and __Host-, which a browser over plain HTTP may not keep."""
    client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    page = client.get("/signin", base_url=base_url, environ_base={"REMOTE_ADDR": "::1"})
    [cookie] = page.headers.getlist("Set-Cookie")
    assert cookie.startswith("amx_csrf") and "Secure" not in cookie, cookie
    assert "Strict-Transport-Security" not in page.headers


def test_the_cookie_is_secure_off_loopback(rt):
    client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    page = client.get("/signin", base_url="https://amx.example.com")
    assert all("Secure" in c for c in page.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("path", ["/signin", "/programs", "/assets/app.css", "/nowhere", "/favicon.ico"])
def test_off_loopback_every_answer_tells_the_browser_to_come_back_over_https_alone(rt, path):
    """The cookies are Secure there, but a browser that was sent to http://the-host (a typed address, a link) asked it
    in the clear: whoever sat on the path could answer with a sign-in page of their own, asking for the API token.
    Strict-Transport-Security makes the browser ask over HTTPS alone, a year from its last answer; not on loopback,
    where the site is plain HTTP."""
    client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    for base in ("https://amx.example.com", "http://amx.example.com"):  # TLS may end in front of the function
        answer = client.get(path, base_url=base)
        assert answer.headers.get("Strict-Transport-Security") == "max-age=31536000", (base, answer.status_code)
    assert "Strict-Transport-Security" not in client.get(path).headers


def test_secure_cookies_are_host_prefixed_so_a_sibling_subdomain_cannot_set_them(rt):
    """A Secure cookie named __Host-… is taken by a browser only with Path=/ and no Domain: a page on a sibling
    subdomain cannot set or shadow it. The plain names, which such a page could set for the parent domain, are
    not read where the cookies are Secure."""
    https = "https://amx.example.com"
    client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    page = client.get("/signin", base_url=https)
    cookies = page.headers.getlist("Set-Cookie")
    assert cookies and all(c.startswith("__Host-amx_csrf=") and "; Secure" in c and "; Path=/" in c
                           and "Domain=" not in c for c in cookies), cookies
    token = create_token(rt.secrets, "read")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    signed = client.post("/signin", base_url=https, data={"token": token, "csrf": csrf, "next": "/programs"})
    session = [c for c in signed.headers.getlist("Set-Cookie") if "amx_session" in c]
    assert signed.status_code == 303 and len(session) == 1 and session[0].startswith("__Host-amx_session=")
    assert client.get("/programs", base_url=https).status_code == 200
    out = client.post("/signout", base_url=https, data={"csrf": csrf})
    assert out.status_code == 303
    assert any(c.startswith("__Host-amx_session=;") for c in out.headers.getlist("Set-Cookie"))

    planted = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    planted.set_cookie("amx_session", token, domain="amx.example.com")
    planted.set_cookie("amx_csrf", csrf, domain="amx.example.com")
    assert planted.get("/programs", base_url=https).status_code == 303  # not signed in
    refused = planted.post("/signin", base_url=https, data={"token": token, "csrf": csrf})
    assert refused.status_code == 400 and "CSRF token is missing or stale" in refused.text


def test_sign_in_works_where_tls_ends_in_front_of_the_function(rt):
    """Knative's ingress ends TLS and forwards plain HTTP: the function sees http://amx.example.com while the browser,
    on https://amx.example.com (the only page that keeps a Secure cookie), names that origin. It was refused as
    "another origin", so nobody could sign in or out in production; the plain-HTTP origin of that host is the foreign
    one now."""
    behind = "http://amx.example.com"  # what the function sees
    client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    page = client.get("/signin", base_url=behind)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"token": create_token(rt.secrets, "read"), "csrf": csrf, "next": "/programs"}
    plain = client.post("/signin", base_url=behind, data=form, headers={"Origin": behind})
    assert plain.status_code == 400 and "another origin" in plain.text
    signed = client.post("/signin", base_url=behind, data=form, headers={"Origin": "https://amx.example.com"})
    assert signed.status_code == 303 and signed.headers["Location"] == "/programs"
    assert client.get("/programs", base_url=behind).status_code == 200
    out = client.post("/signout", base_url=behind, data={"csrf": csrf}, headers={"Origin": "https://amx.example.com"})
    assert out.status_code == 303 and client.get("/programs", base_url=behind).status_code == 303


def test_sign_in_refuses_a_bad_token_a_missing_csrf_and_a_foreign_origin(app, rt):
    csrf = csrf_of(app)
    bad = app.post("/signin", data={"token": "amx_0123456789ab_" + "x" * 43, "csrf": csrf})
    assert bad.status_code == 401 and "amx_session=" not in str(bad.headers)
    # where to look: a token minted in another data dir (the demo's, run in another folder) is refused so too
    assert "the token is not valid: revoked, or not minted where this runs (its AMX_DATA_DIR or Vault): `amx tokens " \
           "list` there shows the tokens it holds" in shown(bad.text), shown(bad.text)
    assert app.post("/signin", data={"token": "hello", "csrf": csrf}).status_code == 400
    token = create_token(rt.secrets, "read")
    assert app.post("/signin", data={"token": token, "csrf": "wrong" * 9}).status_code == 400
    foreign = app.post("/signin", data={"token": token, "csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 400 and "another origin" in foreign.text
    # past the form's limit: 413 (Content Too Large), as the APIs answer a body past theirs, where it was 400
    huge = app.post("/signin", data={"token": token, "csrf": csrf, "pad": "x" * 20_000})
    assert huge.status_code == 413 and "the form is larger than 8192 bytes" in huge.text
    assert "amx_session=" not in str(huge.headers)


def test_sign_in_takes_only_a_url_encoded_form(app, rt):
    """The forms are URL-encoded; a multipart body (files spooled to disk before any check) is refused."""
    token, csrf = create_token(rt.secrets, "read"), csrf_of(app)
    for content_type in ("multipart/form-data", "application/json", "text/plain"):
        data = {"token": token, "csrf": csrf} if content_type == "multipart/form-data" else f"token={token}&csrf={csrf}"
        answer = app.post("/signin", data=data, content_type=content_type)
        assert answer.status_code == 400 and "application/x-www-form-urlencoded" in answer.text, content_type
        assert "amx_session=" not in str(answer.headers)


def test_a_form_in_a_content_coding_is_refused_naming_the_coding(app, rt):
    """Nothing decodes a form's coding (so no gzip bomb is inflated), but its compressed bytes were read as the form,
    refused as 'not UTF-8', naming the bytes: refused naming the coding, as the APIs refuse a body in one."""
    import gzip

    form = f"token={create_token(rt.secrets, 'read')}&csrf={csrf_of(app)}&next=/programs".encode()
    for path in ("/signin", "/signout"):
        answer = app.post(path, data=gzip.compress(form), headers={"Content-Encoding": "gzip"},
                          content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 415 and "Content-Encoding 'gzip'" in answer.text, answer.text[:300]
        assert "amx_session=" not in str(answer.headers)


def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_500(app, rt):
    csrf = csrf_of(app)
    for path in ("/signin", "/signout"):
        answer = app.post(path, data={"csrf": csrf[:-1] + "é", "token": create_token(rt.secrets, "read")})
        assert answer.status_code == 400 and "CSRF token is missing or stale" in answer.text, path
    app.set_cookie("amx_csrf", "é" * 43)
    assert app.post("/signin", data={"csrf": "é" * 43}).status_code == 400


def test_sign_in_never_redirects_off_site(app, rt):
    token = create_token(rt.secrets, "read")
    # A browser drops tabs and line breaks from a URL and reads "\\" as "/" ("/\t/evil.example" is
    # "//evil.example"); a line break in a Location header was a 500.
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
                   "/\n/evil.example", "/\r\n/evil.example", "/\t\\evil.example", "/x\r\nSet-Cookie: a=b"):
        answer = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": target})
        assert answer.status_code == 303 and answer.headers["Location"] == "/programs", repr(target)
    page = app.get("/signin?next=%2F%09%2Fevil.example")  # the redirect of a signed-out GET /%09/evil.example
    assert 'name="next" value="/programs"' in page.text


def test_sign_in_follows_no_next_holding_a_c1_control_a_line_separator_or_a_bidi_control(app, rt):
    """`next` was checked for C0 controls only: one holding a C1 control, U+2028 or a bidi override (which shows
    the address reordered) signed in and went there; now it goes to /programs, as with any control character."""
    token = create_token(rt.secrets, "read")
    for target in ("/programs\x85", "/programs\u2028x", "/programs\u2029", "/\u202egnp.evil/programs", "/x\u2066y"):
        answer = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": target})
        assert answer.status_code == 303 and answer.headers["Location"] == "/programs", repr(target)
    assert 'name="next" value="/programs"' in app.get("/signin?next=%2Fchanges%E2%80%AE").text
    assert 'name="next" value="/changes?q=caf%C3%A9"' in app.get("/signin?next=%2Fchanges%3Fq%3Dcaf%25C3%25A9").text


def test_a_sign_in_link_or_form_that_is_not_utf8_is_refused_naming_the_field(app, rt):
    """A form's bytes that are not UTF-8 were read as U+FFFD: `next=/programs%FF` signed in and sent the browser to
    /programs%EF%BF%BD, a page that is not there."""
    form = f"token={create_token(rt.secrets, 'read')}&csrf={csrf_of(app)}&next=/programs%FF"
    answer = app.post("/signin", data=form, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400 and "&#39;next&#39; is not UTF-8" in answer.text, answer.text[-600:]
    assert "Set-Cookie" not in answer.headers or "amx_session=" not in answer.headers.get("Set-Cookie", "")
    link = app.get("/signin?next=/programs%FF")
    assert link.status_code == 400 and "&#39;next&#39; is not UTF-8" in link.text


def test_a_sign_in_link_or_form_with_two_next_values_is_refused_not_guessed(app, rt):
    """`/signin?next=a&next=b` went to the first after signing in: which of two a proxy, a cache and we read
    differs, so it is refused naming it, as the API and the other pages refuse a parameter given twice."""
    page = app.get("/signin?next=%2Fchanges&next=%2Fgraph")
    assert page.status_code == 400 and "next is given more than once; give it once" in page.text, page.text[:400]
    token = create_token(rt.secrets, "read")
    posted = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": ["/changes", "/graph"]})
    assert posted.status_code == 400 and "next is given more than once" in posted.text
    assert not any(c.startswith("amx_session=") for c in posted.headers.getlist("Set-Cookie"))  # not signed in
    assert 'name="next" value="/changes"' in app.get("/signin?next=%2Fchanges").text  # once, as before


def test_a_sign_in_form_with_two_tokens_or_two_csrf_values_is_refused_not_guessed(app, rt):
    """The form's first `token` (or `csrf`) was read and a second passed over: which of two a proxy and we read
    differs, so a form with either given twice is refused naming it, as `next` is, and nobody is signed in."""
    token, other, csrf = create_token(rt.secrets, "read"), create_token(rt.secrets, "read"), csrf_of(app)
    for form, name in (({"token": [token, other], "csrf": csrf}, "token"),
                       ({"token": token, "csrf": [csrf, "x" * 43]}, "csrf")):
        posted = app.post("/signin", data={**form, "next": "/programs"})
        assert posted.status_code == 400 and f"{name} is given more than once; give it once" in posted.text, name
        assert not any(c.startswith("amx_session=") for c in posted.headers.getlist("Set-Cookie"))
    assert app.post("/signin", data={"token": token, "csrf": csrf, "next": "/programs"}).status_code == 303


def test_a_revoked_token_signs_the_browser_out_at_its_next_request(app, rt):
    token = sign_in(app, rt)
    assert app.get("/programs").status_code == 200
    revoke_token(rt, token.split("_")[1])
    answer = app.get("/programs")
    assert answer.status_code == 303 and answer.headers["Location"] == "/signin?next=%2Fprograms&refused=1"
    assert any(c.startswith("amx_session=;") for c in answer.headers.getlist("Set-Cookie"))
    assert "revoked or has expired" in app.get(answer.headers["Location"]).text


def test_revoking_a_token_removes_its_sessions_records_and_no_other(rt):
    """A revoked token's sessions were refused but their records stayed in the store until their 12 hours ended."""
    from affiliate_matrix.auth import SESSIONS, open_session

    token, other = create_token(rt.secrets, "read"), create_token(rt.secrets, "read")
    for _ in range(3):
        open_session(rt, token)
    kept = open_session(rt, other)
    revoke_token(rt, token.split("_")[1])
    assert [name.partition("-")[0] for name in rt.secrets.list(SESSIONS)] == [other.split("_")[1]]
    assert kept.startswith(f"amxs_{other.split('_')[1]}-")


def test_the_browser_holds_a_session_of_its_own_never_the_api_token(app, rt):
    """The cookie held the API token itself (valid 90 days by default): its 12 hours were the browser's word only,
    so a copied cookie was the token for months, and signing out ended nothing but the browser's copy."""
    token = create_token(rt.secrets, "read")
    signed = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": "/programs"})
    [cookie] = [c for c in signed.headers.getlist("Set-Cookie") if c.startswith("amx_session=")]
    assert token not in str(signed.headers) and cookie.startswith("amx_session=amxs_")
    copied = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    copied.set_cookie("amx_session", cookie.split(";")[0].split("=", 1)[1])
    assert copied.get("/programs").status_code == 200
    assert app.post("/signout", data={"csrf": csrf_of(app)}).status_code == 303
    refused = copied.get("/programs")
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/signin?")
    assert app.get("/programs").status_code == 303


def test_a_session_lasts_twelve_hours_and_never_past_its_tokens_expiry(rt):
    from datetime import UTC, datetime, timedelta

    from affiliate_matrix.auth import open_session, session_token_id
    from affiliate_matrix.errors import Unauthorized

    at = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    token = create_token(rt.secrets, "read", now=at)
    session = open_session(rt, token, now=at)
    assert session_token_id(rt, session, now=at + timedelta(hours=11, minutes=59)) == token.split("_")[1]
    with pytest.raises(Unauthorized, match="the session expired"):
        session_token_id(rt, session, now=at + timedelta(hours=12))
    short = create_token(rt.secrets, "read", ttl=timedelta(hours=1), now=at)
    brief = open_session(rt, short, now=at)
    with pytest.raises(Unauthorized, match="the session expired"):
        session_token_id(rt, brief, now=at + timedelta(hours=1))
    with pytest.raises(Unauthorized, match="not valid"):  # another session's id with a guessed secret
        session_token_id(rt, session[:-43] + "x" * 43, now=at)


def test_a_session_is_held_to_the_role_its_page_needs_as_its_token_is_in_the_api(rt):
    """The Connections page asks its session's token for the role the connections API's listing needs (web/connections.py);
    a read token's session is refused a page that would need an admin token, as the token is in the API."""
    from affiliate_matrix.auth import open_session, session_token_id
    from affiliate_matrix.errors import AccessDenied
    from affiliate_matrix.web.connections import needed_role

    read, admin = create_token(rt.secrets, "read"), create_token(rt.secrets, "admin")
    assert needed_role() == "read"
    for token in (read, admin):
        assert session_token_id(rt, open_session(rt, token), needed=needed_role()) == token.split("_")[1]
    assert session_token_id(rt, open_session(rt, admin), needed="admin") == admin.split("_")[1]
    with pytest.raises(AccessDenied, match="needs an admin token"):
        session_token_id(rt, open_session(rt, read), needed="admin")


def test_ended_sessions_records_are_swept_at_sign_in_a_bounded_few_each_time(rt):
    """A session's record stayed in the secret store for good, one a sign-in: expired ones and those closed at
    sign-out (which destroyed the versions and kept the metadata). Each sign-in now removes the ended ones among
    the SWEPT_AT_SIGN_IN records after its own in the listing; sign-out removes its record."""
    from datetime import timedelta

    from affiliate_matrix.auth import SESSIONS, SWEPT_AT_SIGN_IN, close_session, open_session

    at = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    token = create_token(rt.secrets, "read", now=at)

    def sessions() -> set[str]:
        return set(rt.secrets.list(SESSIONS))

    def session_id(session: str) -> str:
        return session.split("_")[1]

    expired = [open_session(rt, token, now=at) for _ in range(SWEPT_AT_SIGN_IN + 2)]
    later = at + timedelta(hours=12)
    live = open_session(rt, token, now=later)  # sweeps SWEPT_AT_SIGN_IN of the expired: every one it checks
    assert len(sessions()) == 1 + 2 and session_id(live) in sessions()
    closed = open_session(rt, token, now=later)  # sweeps the last two expired, and checks `live`: kept
    assert sessions() == {session_id(live), session_id(closed)}
    path = f"{SESSIONS}/{session_id(closed)}"
    rt.secrets.destroy(path, [1])  # closed as sign-out closed a session before: only its metadata left
    last = open_session(rt, token, now=later)
    assert sessions() == {session_id(live), session_id(last)}
    close_session(rt, last)  # signing out removes the record itself
    assert sessions() == {session_id(live)}
    assert {session_id(s) for s in expired} & sessions() == set()


def test_a_token_holds_a_bounded_number_of_sessions_signing_in_past_it_ends_the_oldest(rt):
    """Every sign-in wrote a session record good for 12 hours, however many the token held: a script signing in with
    one token in a loop filled Vault with live sessions, and each sign-in's sweep listed them all. A token now holds at
    most SESSIONS_PER_TOKEN: each sign-in past them ends its sessions opened first; other tokens' are not touched."""
    from datetime import timedelta

    from affiliate_matrix.auth import SESSIONS, SESSIONS_PER_TOKEN, open_session, session_token_id
    from affiliate_matrix.errors import Unauthorized

    at = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    token, other = create_token(rt.secrets, "read", now=at), create_token(rt.secrets, "read", now=at)
    elsewhere = open_session(rt, other, now=at)
    opened = [open_session(rt, token, now=at + timedelta(minutes=i)) for i in range(SESSIONS_PER_TOKEN + 3)]
    last = at + timedelta(minutes=SESSIONS_PER_TOKEN + 3)
    assert len(list(rt.secrets.list(SESSIONS))) == SESSIONS_PER_TOKEN + 1
    for ended in opened[:3]:
        with pytest.raises(Unauthorized, match="not valid"):
            session_token_id(rt, ended, now=last)
    assert {session_token_id(rt, session, now=last) for session in opened[3:]} == {token.split("_")[1]}
    assert session_token_id(rt, elsewhere, now=last) == other.split("_")[1]


def test_sign_out_needs_the_csrf_token_and_forgets_the_session(app, rt):
    sign_in(app, rt)
    assert app.post("/signout", data={}).status_code == 400
    out = app.post("/signout", data={"csrf": csrf_of(app)})
    assert out.status_code == 303 and any(c.startswith("amx_session=;") for c in out.headers.getlist("Set-Cookie"))
    assert app.get("/programs").status_code == 303


def test_sign_out_by_any_method_but_post_is_refused_naming_post_and_ends_nothing(app, rt):
    """A GET of /signout (typed, or a link) was "there is no page at /signout", a 404 for a page that is there, and
    signed out, a redirect to sign in: the method is what is wrong, and is named."""
    sign_in(app, rt)
    for method in ("GET", "HEAD", "PUT"):
        answer = app.open("/signout", method=method)
        assert answer.status_code == 405 and answer.headers["Allow"] == "POST", (method, answer.text[:300])
    assert "use POST" in app.get("/signout").text
    assert app.get("/programs").status_code == 200


def test_signing_in_again_ends_the_session_the_browser_held(app, rt):
    """Signing in again (another token, or the sign-in page opened while signed in) replaced the cookie but left the
    earlier session's record: signing out then ended only the new one, and a copy of the earlier cookie still opened
    the pages for up to 12 hours."""
    sign_in(app, rt)
    earlier = app.get_cookie("amx_session").value
    sign_in(app, rt)
    assert app.get_cookie("amx_session").value != earlier
    assert app.post("/signout", data={"csrf": csrf_of(app)}).status_code == 303
    copy = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    copy.set_cookie("amx_session", earlier)
    assert copy.get("/programs").status_code == 303


@pytest.mark.parametrize("failure", ["the secrets store's outage", "a damaged record"])
def test_a_sign_in_whose_closing_of_the_earlier_session_fails_signs_in_and_leaves_no_new_record(app, rt, monkeypatch,
                                                                                                failure):
    """Signing in again opened the new session, then closed the browser's earlier one: when that close failed, the
    browser got an error page and the new session's record, its cookie never set, held one of the token's
    SESSIONS_PER_TOKEN places until it expired. The sign-in stands now, the earlier session logged by its id (never
    its secret) and left to end at its expiry."""
    from structlog.testing import capture_logs

    from affiliate_matrix.auth import SESSIONS
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.secrets.local import LocalSecretStore

    sign_in(app, rt)
    earlier = app.get_cookie("amx_session").value
    earlier_id = earlier.split("_")[1]
    if failure == "a damaged record":
        rt.secrets.write(f"{SESSIONS}/{earlier_id}", {"token_id": earlier_id.partition("-")[0]})
    else:
        def down(store, path):
            raise BackendUnavailable("secrets store: connection refused")
        monkeypatch.setattr(LocalSecretStore, "remove", down)
    with capture_logs() as logs:
        sign_in(app, rt)
    later = app.get_cookie("amx_session").value
    assert later != earlier and app.get("/programs").status_code == 200
    assert sorted(rt.secrets.list(SESSIONS)) == sorted([earlier_id, later.split("_")[1]])
    [warning] = [line for line in logs if line["event"] == "session.not_closed_at_sign_in"]
    assert warning["session_id"] == earlier_id and earlier not in str(logs)


@pytest.mark.parametrize("damage", [{"sha256": None}, {"expires_at": "soon"}, {"expires_at": "2999-01-01T00:00:00"},
                                    {"sha256": "\u00e9" * 64}])
def test_a_damaged_session_record_asks_the_browser_to_sign_in_again(app, rt, damage):
    """A session record not as a sign-in writes it (a hand edit, a store's fault) was read field by field: a missing
    hash or an unreadable expiry was a 500 on every page, and so was a hash holding a character outside ASCII
    (hmac.compare_digest raises TypeError on such text). Now the browser is sent to sign in, the record named in the
    log (never the cookie's secret)."""
    from structlog.testing import capture_logs

    from affiliate_matrix.auth import SESSIONS

    sign_in(app, rt)
    cookie = app.get_cookie("amx_session").value
    session_id = cookie.split("_")[1]
    record = rt.secrets.read(f"{SESSIONS}/{session_id}").data
    damaged = {key: value for key, value in {**record, **damage}.items() if value is not None}  # None: left out
    rt.secrets.write(f"{SESSIONS}/{session_id}", damaged)
    with capture_logs() as logs:
        answer = app.get("/programs")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/signin?next=%2Fprograms")
    [warning] = [line for line in logs if line["event"] == "session.damaged"]
    assert warning["session_id"] == session_id and cookie not in str(logs)


def test_search_page_filters_sorts_and_pages_by_cursor(app, rt):
    sign_in(app, rt)
    typo = app.get("/programs?q=hostnig")
    assert typo.status_code == 200 and "Hosting Co" in typo.text and "Shop 1" not in typo.text
    names = re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', app.get("/programs?sort=name").text)
    assert names == sorted(names) and len(names) == 7
    first = app.get("/programs?sort=name&limit=3")
    cursor = re.search(r'rel="next" href="/programs\?([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = app.get(f"/programs?{cursor}")
    later = re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', second.text)
    assert later and not set(later) & set(re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', first.text))
    filtered = app.get("/programs?network=impact")
    assert "Hosting Co" in filtered.text and "Shop 1" not in filtered.text
    assert re.search(r'value="impact" checked', filtered.text)
    assert "Shop 1" not in app.get("/programs?min_commission_percent=45").text
    assert "(7)" in app.get("/programs").text or "(6)" in app.get("/programs").text  # facet counts shown
    assert app.get("/programs?sort=bogus").status_code == 400


def test_a_paged_programs_list_says_which_of_its_programs_it_shows(app, rt):
    """The list said "7 programs" above its first three and its Next page's alike: now which ones (1–3 of 7), on a page
    by number too; a cursor page knows its place from the earlier pages its Next link carries (back=), or at the end
    (the last of the total), else (a bare cursor) how many more."""
    sign_in(app, rt)

    def count(page: str) -> str:
        return " ".join(re.search(r'id="result-count" role="status">([^<]*)</p>', page).group(1).split())

    assert count(app.get("/programs").text) == "7 programs"  # all of them: no range to say
    first = app.get("/programs?sort=name&limit=3").text
    assert count(first) == "1–3 of 7 programs"
    assert count(app.get("/programs?sort=name&limit=3&page=2").text) == "4–6 of 7 programs"
    assert count(app.get("/programs?sort=name&limit=3&page=3").text) == "7 of 7 programs"
    second_url = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    second = app.get(second_url).text
    assert count(second) == "4–6 of 7 programs"
    assert count(app.get(re.sub(r"&back=[^&]*", "", second_url)).text) == "3 more of 7 programs"
    last = app.get(html.unescape(re.search(r'rel="next" href="([^"]+)"', second).group(1))).text
    assert count(last) == "7 of 7 programs"
    from_two = app.get("/programs?sort=name&limit=2&page=2").text  # paging on from a page by number
    third = app.get(html.unescape(re.search(r'rel="next" href="([^"]+)"', from_two).group(1))).text
    assert count(third) == "5–6 of 7 programs"
    assert count(app.get("/programs?q=shop&limit=2").text) == "1–2 of 5 programs for “shop”"


def test_the_programs_list_pages_back_by_a_previous_link_as_it_pages_on(app, rt, monkeypatch):
    """The list had Next page but no Previous: a person three pages in could only start again. A cursor pages forward
    only, so Next carries the earlier pages in its address (back=), bounded, and Previous (rel="prev", a link in the
    Pages navigation as Next is) goes to the page before, its programs the same, with the filters kept."""
    from affiliate_matrix.web import pages

    sign_in(app, rt)

    def names(page: str) -> list[str]:
        return re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', page)

    visited = [app.get("/programs?sort=name&limit=2&status=active&status=discovered").text]
    assert pager_link(visited[0], "prev") is None
    while pager_link(visited[-1], "next"):
        visited.append(app.get(pager_link(visited[-1], "next")).text)
    assert len(visited) == 4 and [len(names(page)) for page in visited] == [2, 2, 2, 1]
    for before, page in zip(visited, visited[1:]):  # back from each: the page before it, filters and all
        back = pager_link(page, "prev")
        assert "sort=name" in back and "limit=2" in back and back.count("status=") == 2, back
        assert names(app.get(back).text) == names(before), back
    assert 'rel="prev" href="/programs?' in visited[1] and ">Previous page</a>" in visited[1]
    # kept within its bound: past it, the oldest cursor's page is kept by its number (test_web_paging.py)
    monkeypatch.setattr(pages, "BACK_KEPT", 1)
    third = app.get(pager_link(app.get(pager_link(visited[0], "next")).text, "next")).text
    assert parse_qs(urlsplit(pager_link(third, "next")).query)["back"] == ["3"]
    second_again = app.get(pager_link(third, "prev")).text
    assert names(second_again) == names(visited[1]) and pager_link(second_again, "prev") == "/programs?" + urlencode(
        [("sort", "name"), ("limit", "2"), ("status", "active"), ("status", "discovered")])
    assert "First page" in second_again
    # by number: Previous is the page before
    third_by_number = app.get("/programs?sort=name&limit=2&page=3").text
    assert pager_link(third_by_number, "prev") == "/programs?sort=name&limit=2&page=2"
    assert pager_link(app.get("/programs?sort=name&limit=2&page=2").text, "prev") == "/programs?sort=name&limit=2"


@pytest.mark.parametrize("back,fragment", [
    (["1"], "back is the pages before a cursor's page"),  # with no cursor
    (["1", "1"], "back holds one page number at most, first"),
    (["99999"], "back holds one page number at most, first, from 1 to 10000"),
    (["bm90IGEgY3Vyc29y"], "back holds an earlier page's cursor not of this search (cursor is malformed"),
    (["x"] * 51, "back holds at most 50 earlier pages"),
])
def test_an_earlier_pages_stack_it_cannot_read_is_refused_in_the_page_naming_it(app, rt, back, fragment):
    """The earlier pages' stack (back=) is a parameter like the others: checked, and refused naming it, in the page."""
    sign_in(app, rt)
    first = app.get("/programs?sort=name&limit=2").text
    cursor = parse_qs(urlsplit(html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))).query)["cursor"]
    given = [("sort", "name"), ("limit", "2"), *([] if fragment.endswith("cursor's page") else [("cursor", cursor[0])]),
             *[("back", value) for value in back]]
    answer = app.get("/programs?" + urlencode(given))
    assert answer.status_code == 400 and fragment in html.unescape(answer.text), shown(answer.text)[-600:]
    assert '<p id="result-count" class="error" role="alert">' in answer.text


def test_an_earlier_pages_cursor_of_another_search_is_refused_as_the_api_refuses_its_cursor(app, rt):
    sign_in(app, rt)

    def cursor_of(path: str) -> str:
        found = re.search(r'rel="next" href="([^"]+)"', app.get(path).text).group(1)
        return parse_qs(urlsplit(html.unescape(found)).query)["cursor"][0]

    own, other = cursor_of("/programs?sort=name&limit=2"), cursor_of("/programs?sort=cookie&limit=2")
    answer = app.get("/programs?" + urlencode([("sort", "name"), ("limit", "2"), ("cursor", own), ("back", "1"),
                                               ("back", other)]))
    assert answer.status_code == 400 and "cursor belongs to a different query" in html.unescape(answer.text)
    assert app.get("/programs?" + urlencode([("sort", "name"), ("limit", "2"), ("cursor", own),
                                             ("back", "1")])).status_code == 200


def test_the_changes_page_pages_back_by_a_newer_link_as_it_pages_older(app, rt):
    """The Changes page had Newest and Older but no Newer: a person two pages back could only start again. It pages
    back by the feed's previous_cursor: Older twice, then Newer twice, lands on the same changes (their tie on when
    they were recorded ordered by id both ways), the filter kept."""
    changes = [DeltaChange(id=f"d_page{day}", program_id=rt.hosting_id, change="updated", source="test",
                           at=datetime(2026, 11, day, tzinfo=UTC),
                           fields=[FieldChange(field="cookie_days", old=day, new=day + 1)]) for day in range(1, 6)]
    rt.index.bulk_upsert("deltas", [delta_document(change, recorded_at=datetime(2026, 11, 23, tzinfo=UTC))
                                    for change in changes], refresh=True)
    sign_in(app, rt)

    def rows(page: str) -> list[str]:
        return re.findall(r"<strong>Cookie[^<]*</strong>: ([^<]+)</div>", page)

    visited = [app.get("/changes?field=cookie_days&limit=2").text]
    assert pager_link(visited[0], "prev") is None and "Newest</a>" not in visited[0]
    for _ in range(2):
        visited.append(app.get(pager_link(visited[-1], "next")).text)
    assert [len(rows(page)) for page in visited] == [2, 2, 2] and len(set(sum(map(rows, visited), []))) == 6
    page = visited[-1]
    for before in reversed(visited[:-1]):
        newer = pager_link(page, "prev")
        assert "field=cookie_days" in newer and "limit=2" in newer and ">Newer</a>" in page, newer
        page = app.get(newer).text
        assert rows(page) == rows(before), newer
    assert pager_link(page, "prev") is None and pager_link(page, "next") == pager_link(visited[0], "next")


def test_an_empty_index_says_what_fills_it_not_to_loosen_a_filter(tmp_path, monkeypatch):
    """A newcomer signing in before anything was indexed read "No program matches. Loosen a filter or check the
    words." on a page with no filter and no words: the page says the index holds no programs yet and what fills it,
    as `amx search` does; a search that finds nothing in a filled index still says to loosen it."""
    empty = tmp_path / "empty"
    monkeypatch.setenv("AMX_DATA_DIR", str(empty))
    rt = Runtime("test", Settings(data_dir=empty))
    app = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    sign_in(app, rt)
    for page in (app.get("/programs").text, app.get("/programs?q=hosting&category=pets").text):
        said = shown(page)
        assert "The index holds no programs yet: amx demo fills it from recorded sources, amx scrape SOURCE from a " \
               "live one." in said and "Loosen a filter" not in said, said
    filled(rt)
    said = shown(app.get("/programs?q=zzzzzzzz").text)
    assert "No program matches. Loosen a filter or check the words." in said and "no programs yet" not in said, said
    assert "is a network" not in said, said
    # words naming a network of the index, which the words do not search: the page says so and links its filter
    page = app.get("/programs?q=Impact").text
    assert "Impact is a network, which the words do not search: its programs" in shown(page), shown(page)
    assert '<a href="/programs?network=impact">its programs</a>' in page, page


def test_a_flat_commission_shows_its_currency_and_its_minimum_can_hold_to_one(app, rt):
    """The list said a commission by its highest figure ("USD 130 flat" of $65–$130) where the CLI and the program
    page say the range: one way to say one (wording.terms_summary), in all three."""
    sign_in(app, rt)
    rt.index.bulk_upsert("programs", [to_document(make_program(name, f"https://{name.lower()}.com", commission_text=text))
                                      for name, text in [("Dollarshop", "$25 per sale"), ("Yenshop", "¥100 per sale"),
                                                         ("Rangeshop", "$65–$130 per sale"),
                                                         ("Bothshop", "10-20% per sale or $5 per lead")]],
                         refresh=True)
    listed = app.get("/programs?sort=name").text
    cells = dict(re.findall(r'>(Dollarshop|Yenshop|Rangeshop|Bothshop)</a>.*?data-label="Commission">\s*(.*?)\s*</td>',
                            listed, re.S))
    assert cells == {"Dollarshop": "25 USD", "Yenshop": "100 JPY", "Rangeshop": "65–130 USD",  # as written, not 25.0
                     "Bothshop": "10–20%, 5 USD"}, cells
    [range_id] = re.findall(r'href="/programs/(p_[0-9a-f]+)">Rangeshop<', listed)
    assert "<p>65–130 USD</p>" in app.get(f"/programs/{range_id}").text  # the program page's parsed terms
    assert re.search(r'name="flat_currency" value="JPY"', app.get("/programs").text)  # a facet to pick one
    assert re.search(r'name="status" value="active"', app.get("/programs").text)  # what state each program is in
    # a flat minimum holds to a currency (no exchange rates): alone it is refused, naming the currency it needs
    in_dollars = app.get("/programs?min_commission_flat=20&flat_currency=USD").text
    assert "Dollarshop" in in_dollars and "Yenshop" not in in_dollars
    alone = app.get("/programs?min_commission_flat=20")
    assert alone.status_code == 400 and "Minimum flat commission needs a currency: tick one under Flat commission " \
                                        "currency" in shown(alone.text)


def test_a_search_the_api_refuses_is_said_in_the_programs_page_keeping_the_form_as_sent(app, rt):
    """A minimum flat commission without its currency (sent by the form itself) or a search word with query syntax was
    an error page naming parameters (`min_commission_flat needs flat_currency`, `q contains…`) whose way back held
    nothing typed: the words, minimums and filters had to be given again. The programs page says it by the form's
    labels, in place of results, with its form as sent."""
    sign_in(app, rt)
    answer = app.get("/programs?q=hosting&sort=name&category=software&network=nowhere&min_commission_flat=20"
                     "&min_cookie_days=30")
    assert answer.status_code == 400
    page = answer.text
    assert 'role="alert">Minimum flat commission needs a currency: tick one under Flat commission currency.' in page
    assert 'name="q" type="search" value="hosting"' in page and '<option value="name" selected>' in page
    assert re.search(r'name="min_commission_flat" type="number"[^>]*value="20"', page)
    assert re.search(r'name="min_cookie_days" type="number"[^>]*value="30"', page)
    for name, value in [("category", "software"), ("network", "nowhere"), ("status", "active")]:
        assert re.search(rf'name="{name}" value="{value}" checked', page), name
    assert "Export this result" not in page  # there is no result to export
    # the currency to tick is offered: the rest of the search counts the filters
    rt.index.bulk_upsert("programs", [to_document(make_program("Dollarshop", "https://dollarshop.com",
                                                               commission_text="$25 per sale"))], refresh=True)
    counted = app.get("/programs?min_commission_flat=20").text
    assert re.search(r'name="flat_currency" value="USD"', counted) and "Minimum flat commission needs" in counted
    for words in ("/programs?q=host*&flat_currency=USD&min_commission_flat=20", "/programs?q=host*&min_epc=1"):
        assert "“Search programs” contains query syntax ('*'); search for plain words" in shown(app.get(words).text)


def test_searches_are_recorded_for_the_query_analysis_like_the_apis(app, rt):
    from affiliate_matrix.query_log import QUERIES_INDEX, flush_all
    from affiliate_matrix.search import SearchQuery

    sign_in(app, rt)
    app.get("/programs?q=hosting&network=impact")
    flush_all()
    recorded = [h.doc for h in rt.index.search(QUERIES_INDEX.name, SearchQuery(size=10)).hits]
    assert [(d["query"], d["hits"]) for d in recorded] == [("/programs?network=impact&q=hosting", 1)]


def test_export_of_the_current_result_is_the_apis(app, rt):
    sign_in(app, rt)
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.handlers.programs import search

    answer = app.get("/programs/export?q=hosting&format=csv")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = answer.text.strip().splitlines()
    found = search(rt, MultiDict({"q": "hosting"}))["items"]  # Hosting Co, and hostile.com by its domain (a typo)
    assert [row.split(",")[0] for row in rows[1:]] == [item["id"] for item in found] and "Hosting Co" in rows[1]


def test_a_head_on_the_export_builds_no_file(app, rt, monkeypatch):
    from affiliate_matrix import exchange

    sign_in(app, rt)
    monkeypatch.setattr(exchange, "write_parquet", lambda items, sink: pytest.fail("a HEAD built the file"))
    head = app.head("/programs/export?q=hosting&format=parquet")
    assert head.status_code == 200 and head.headers["Content-Type"] == "application/vnd.apache.parquet"


def test_a_network_typed_in_capitals_or_full_width_is_the_one_the_index_names_and_shows_ticked(app, rt):
    """`/programs?network=Impact` or full-width `ｉｍｐａｃｔ` found nothing, silently, the index naming the network
    impact: the explorer reads it as the API does, and ticks the facet's value it stands for."""
    sign_in(app, rt)
    for typed in ("Impact", "ｉｍｐａｃｔ"):
        filtered = app.get(f"/programs?network={quote(typed)}")
        assert "Hosting Co" in filtered.text and "Shop 1" not in filtered.text, typed
        assert re.search(r'value="impact" checked', filtered.text) and f'value="{typed}"' not in filtered.text
    refused = app.get("/programs?network=%21%21")
    assert refused.status_code == 400 and "“Network” &#39;!!&#39; names no network" in refused.text


def test_program_page_shows_each_sources_claim_terms_verbatim_and_history(app, rt):
    sign_in(app, rt)
    page = app.get(f"/programs/{rt.hosting_id}").text
    assert "50% per sale" in page and "otherdir" in page and "40%" in page
    assert "Cookie length" in page and "90" in page and "https://hosting.sjv.io/c/1/2/3" in page
    assert "Updated" in page and "30 days → 90 days" in page
    # its history names it, as the Changes page does, not by its id
    assert f'<a href="/programs/{rt.hosting_id}">Hosting Co</a>' in page.split("Change history")[1]
    assert app.get("/programs/p_ffffffffffffffff").status_code == 404


def test_a_programs_page_showing_its_newest_changes_links_to_the_rest(app, rt, monkeypatch):
    """A program's page listed its newest 100 changes and said nothing of the older ones, which no link reached."""
    from affiliate_matrix.web import pages

    sign_in(app, rt)
    assert "every change of this program" not in app.get(f"/programs/{rt.hosting_id}").text  # all of them shown
    newer = DeltaChange(id="d_2", program_id=rt.hosting_id, change="updated", source="test",
                        at=datetime(2026, 11, 23, tzinfo=UTC), fields=[FieldChange(field="cookie_days", old=90, new=60)])
    rt.index.bulk_upsert("deltas", [delta_document(newer, recorded_at=datetime(2026, 11, 23, 6, tzinfo=UTC))],
                         refresh=True)
    monkeypatch.setattr(pages, "HISTORY_SHOWN", 1)
    page = app.get(f"/programs/{rt.hosting_id}").text
    assert "90 days → 60 days" in page and "30 days → 90 days" not in page
    assert f'The newest 1 changes are shown: <a href="/changes?program_id={rt.hosting_id}">every change' in page
    assert "30 days → 90 days" in app.get(f"/changes?program_id={rt.hosting_id}").text


def test_a_sources_record_key_and_tier_thresholds_reach_no_page_with_a_bidi_or_invisible_character(app, rt):
    """A source's own id for a program (an API payload's offer id) and a tier's threshold a plugin builds from a
    payload's words (Rakuten's offer name) were kept as given, where its names and descriptions are cleaned: a bidi
    override showed the program's page reversed ('123<U+202E>gnp.exe' as 123exe.png), a zero-width space made two
    keys of one. They are cleaned where every reader's record goes through, as its other text is."""
    from affiliate_matrix.models import CommissionTerm, CommissionTier

    tier = CommissionTier(threshold="50+ sales\u202e\u2066 a month\u200b", value=Decimal("7"))
    record = make_record("Mirror Co", "https://mirror.com",
                         commission=[CommissionTerm(type="percent", value_min=Decimal("5"), tiers=[tier])])
    record = RawRecord.model_validate({**record.model_dump(), "record_key": "123\u202egnp.exe\u200b\x85"})
    program = normalize(record)
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    sign_in(app, rt)
    page = app.get(f"/programs/{program.id}")
    assert page.status_code == 200 and "123gnp.exe" in page.text and "50+ sales a month" in page.text
    for character in ("\u202e", "\u2066", "\u200b", "\x85"):
        assert character not in page.text, repr(character)


def test_a_program_or_merchant_pages_programs_crumb_leads_back_to_the_list_it_was_opened_from(app, rt):
    """The "Programs" crumb of a program's and a merchant's page led to the whole list: the search and filters of the
    list a person opened it from were gone. It leads back to that list (this site's, by its Referer), else the whole."""
    sign_in(app, rt)
    came = "/programs?q=hosting&category=software&sort=name"
    for path in (f"/programs/{rt.hosting_id}", "/merchants/hosting.com"):
        opened = app.get(path, headers={"Referer": f"http://localhost{came}"}).text
        assert f'<p class="crumbs"><a href="{html.escape(came)}">Programs</a>' in opened, path
    for referer in ("http://localhost/changes?change=updated", "https://evil.example/programs?q=x", None):
        elsewhere = app.get(f"/programs/{rt.hosting_id}", headers={"Referer": referer} if referer else {}).text
        assert '<p class="crumbs"><a href="/programs">Programs</a>' in elsewhere, referer


def test_a_merchant_pages_crumb_leads_to_the_merchants_it_is_listed_under(app, rt):
    """A merchant's page opened from the Merchants list said "Programs › Hosting Co" while the nav marked Merchants:
    its crumb leads back to the Merchants list it was opened from, its search kept, else the whole one (a programs
    search it was opened from is still the one it leads back to, above)."""
    sign_in(app, rt)
    came = "/merchants?q=host"
    opened = app.get("/merchants/hosting.com", headers={"Referer": f"http://localhost{came}"}).text
    assert f'<p class="crumbs"><a href="{html.escape(came)}">Merchants</a> › Hosting Co</p>' in opened
    assert '<a href="/merchants" aria-current="page">Merchants</a>' in opened  # the nav marks the same list
    for referer in ("http://localhost/changes?change=updated", "https://evil.example/merchants?q=x", None):
        elsewhere = app.get("/merchants/hosting.com", headers={"Referer": referer} if referer else {}).text
        assert '<p class="crumbs"><a href="/merchants">Merchants</a> › Hosting Co</p>' in elsewhere, referer


def test_a_merchant_pages_crumb_names_the_merchant_as_a_program_pages_names_its_merchant(app, rt):
    """The merchant page's crumb read "Programs › merchant", a generic word in lower case, where a program's page
    names its merchant there: it names the merchant."""
    sign_in(app, rt)
    assert '<p class="crumbs"><a href="/merchants">Merchants</a> › Hosting Co</p>' in app.get("/merchants/hosting.com").text
    program_page = app.get(f"/programs/{rt.hosting_id}").text
    assert '<a href="/programs">Programs</a> › <a href="/merchants/hosting.com">Hosting Co</a></p>' in program_page


def test_a_network_listing_without_a_join_link_says_so_under_join(app, rt):
    """A listing with no join link was its network's name alone under "Join", read as a link that was missing."""
    sign_in(app, rt)
    listed = make_program("Listed Co", "https://listed.com", network="cj", network_program_id="77")
    joinable = make_program("Joinable Co", "https://joinable.com", network="impact", join_url="https://j.sjv.io/c/1")
    rt.index.bulk_upsert("programs", [to_document(listed), to_document(joinable)], refresh=True)
    assert "<li>CJ: no join link given</li>" in app.get(f"/programs/{listed.id}").text
    assert re.search(r'<li>Impact: <a href="https://j.sjv.io/c/1"[^>]*>join on Impact</a></li>',
                     app.get(f"/programs/{joinable.id}").text)


def test_program_page_lists_the_offers_of_one_source_it_was_made_of(app, rt):
    from affiliate_matrix.merge import combined

    offers = [normalize(make_record(name, f"https://acme.com/{name[-2:]}", commission_text=paid))
              for name, paid in (("Acme - US", "$2.50 per lead"), ("Acme - UK", "$40 per sale"))]
    rt.index.bulk_upsert("programs", [to_document(program := combined(offers))], refresh=True)
    sign_in(app, rt)
    page = app.get(f"/programs/{program.id}").text
    assert "2 records of its sources" in page and page.count("https://dir.example.org/p/x/") >= 2
    assert ">acme---us</a>" in page and ">acme---uk</a>" in page and "$40 per sale; $2.50 per lead" in page


def test_merchant_page_marks_best_terms_and_disagreements(app, rt):
    sign_in(app, rt)
    page = app.get("/merchants/hosting.com").text
    assert page.count("★ best") >= 2 and "⚠ disputed" in page
    assert ">test (c)<" in page and ">otherdir (c)<" in page  # a row per source's connection, named
    bad = app.get("/merchants/Bad%20Key")  # in the API's words, which say what a key is
    assert bad.status_code == 400 and "the merchant key &#39;bad key&#39; is no merchant&#39;s: a key is a merchant&#39;s " \
                                      "domain" in bad.text, bad.text


@pytest.mark.parametrize("key, status", [("Bad%20Key", 400), ("hosting", 404)])
def test_a_merchant_key_refused_or_unknown_says_what_lists_keys_in_the_sites_words(app, rt, key, status):
    """The merchant page's refusal of a key, and its 404 for a key no merchant has, said "as GET /merchants lists
    them", the API's route, to a person in a browser: it names the Merchants page."""
    sign_in(app, rt)
    page = app.get(f"/merchants/{key}")
    assert page.status_code == status and "as the Merchants page lists them" in page.text, page.text
    assert "GET /merchants" not in page.text, page.text


def test_a_merchant_pages_source_that_said_nothing_of_a_disputed_field_is_not_marked_disputed(app, rt):
    """CJ said no cookie at all, two other sources disagreed on it: CJ's row showed "— ⚠ disputed" under Cookie, the
    program's disagreement marked on every row of it. Only the rows whose own values disagree are marked, and the one
    whose value the program holds is marked kept (a ★ best may be another's)."""
    said = {"test": "90 days", "otherdir": "30 days", "cj": None}
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", cookie_text=cookie)
               .model_copy(update={"source": source}) for source, cookie in said.items()]
    program = indexed_merged(rt, records)
    sign_in(app, rt)
    page = app.get("/merchants/acme.com").text
    cookies = {source: shown(cell) for source, cell in re.findall(
        r'>([^<>]+) \(c\)(?:</a>)?</th>.*?<td data-label="Cookie"[^>]*>(.*?)</td>', page, re.S)}
    expected = {"test": "90 days ★ best ⚠ disputed", "otherdir": "30 days ⚠ disputed", "CJ Advertiser Lookup API": "—"}
    expected[{90: "test", 30: "otherdir"}[program.cookie_days]] += " ✓ kept"  # the disputed value the program holds
    assert cookies == expected, cookies


def test_merchant_page_of_a_key_holding_a_control_character_is_refused_naming_it(app, rt):
    """The page folded a bidi override out of the key (search.unwritten) and showed hosting.com's view for a mangled
    link; it is refused, as the API refuses it."""
    sign_in(app, rt)
    for key, character in (("hosting.com%E2%80%AE", "U+202E"), ("hosting.com%C2%85", "U+0085")):
        page = app.get(f"/merchants/{key}")
        assert page.status_code == 400 and f"the merchant key holds {character}, a control character" in page.text, key
    assert app.get("/merchants/hosting.com").status_code == 200


def test_merchant_page_folds_a_full_width_or_capitalised_key_as_resolution_does(app, rt):
    """The explorer's merchant page with a key in full width (ｈｏｓｔｉｎｇ．ｃｏｍ) or capitals answered 404."""
    sign_in(app, rt)
    for typed in ("ｈｏｓｔｉｎｇ．ｃｏｍ", "Hosting.com"):
        page = app.get(f"/merchants/{quote(typed)}")
        assert page.status_code == 200 and "⚠ disputed" in page.text, typed
        assert 'href="/graph?merchant=hosting.com"' in page.text


def test_a_merchant_key_ending_in_a_newline_is_refused_as_the_api_refuses_it(rt):
    """The page checked the key with re.match and a pattern ending in "$", which also matches before a final newline:
    `hosting.com` and a line break passed for a merchant key and was looked up, where the API's model refuses it.
    (Over HTTP Werkzeug's routing takes no newline in a path, and the graph strips its query's values.)"""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.web import pages

    with pytest.raises(InvalidInput, match="the merchant key holds U[+]000A, a control character"):
        pages.merchant_page(rt, "hosting.com\n")
    assert pages.merchant_page(rt, "hosting.com")["view"]["rows"]


def test_merchant_page_of_a_name_key_with_marks_is_shown(app, rt):
    """A merchant keyed by a name whose words keep their marks ('कोमल-रसोई': a vowel sign) was refused by the page
    as no merchant key (it checked the key with Python's re, whose \\w takes no mark), where the API showed it."""
    program = make_program("कोमल रसोई", commission_text="10% per sale")
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    sign_in(app, rt)
    page = app.get(f"/merchants/{quote(program.merchant_key)}")
    assert page.status_code == 200 and "कोमल रसोई" in page.text


def test_merchant_page_shows_each_networks_own_epcs_with_their_currency(app, rt):
    # The merchant page showed no EPC, though the merchant view carries each network's own: which of CJ and Awin
    # pays more per click could not be seen. A row shows its own source's EPC over 7 days and over 3 months, each
    # with its currency (Awin reports the 3-month one alone), and a dash where its source reported none.
    sign_in(app, rt)
    said = {"awin": {"epc_90d": "0.47", "epc_currency": "GBP"},
            "cj": {"epc_7d": "0.4512", "epc_90d": "0.389", "epc_currency": "USD"}, "otherdir": {}}
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", extra=extra)
               .model_copy(update={"source": source}) for source, extra in said.items()]
    program = indexed_merged(rt, records)
    page = app.get("/merchants/acme.com").text
    assert '<th scope="col">EPC</th>' in page
    epcs = {source: shown(cell) for source, cell in re.findall(
        r'>([^<>]+) \(c\)(?:</a>)?</th>.*?<td data-label="EPC">(.*?)</td>', page, re.S)}
    assert epcs == {"Awin publisher API": "0.47 GBP (3 months)", "CJ Advertiser Lookup API": "0.4512 USD (7 days) "
                    "0.389 USD (3 months)", "otherdir": "—"}


def test_merchants_page_lists_merchants_whose_programs_match(app, rt):
    sign_in(app, rt)
    page = app.get("/merchants?q=hostnig").text
    assert 'href="/merchants/hosting.com"' in page and "shop1.com" not in page and "Impact" in page
    assert 'href="/merchants/shop1.com"' in app.get("/merchants").text
    assert app.get("/merchants?q=a;b").status_code == 400
    assert app.get("/merchants?q=hosting:").status_code == 200  # a colon is punctuation


def test_merchants_page_finds_a_merchant_by_the_start_of_its_name_and_says_when_more_match(app, rt):
    """/merchants?q=host found no Hosting Co: merchant search matched whole words only."""
    sign_in(app, rt)
    assert 'href="/merchants/hosting.com"' in app.get("/merchants?q=host").text
    assert "Merchants 1–2; more on the next page." in app.get("/merchants?q=shop&limit=2").text
    assert "more on the next page" not in app.get("/merchants?q=shop&limit=5").text  # five shops: no more


def test_a_merchant_search_the_api_refuses_is_said_in_the_merchants_page_keeping_the_words(app, rt):
    """`/merchants?q=host*` was an error page saying `q contains query syntax` whose way back lost the words: the
    Merchants page says it by its search field's label, the words still in the field."""
    sign_in(app, rt)
    answer = app.get("/merchants?q=host*")
    assert answer.status_code == 400 and 'name="q" type="search" value="host*"' in answer.text
    assert "“Merchants with programs matching” contains query syntax ('*')" in shown(answer.text)


def test_changes_page_filters_and_links_to_the_program(app, rt):
    sign_in(app, rt)
    page = app.get("/changes?field=cookie_days&since=2026-11-01").text
    assert f'href="/programs/{rt.hosting_id}"' in page
    assert "2026-11-22T06:00:00Z" in page  # when it was recorded, beside when it was observed: where to resume
    assert "No change recorded" in app.get("/changes?field=cookie_days&since=2026-11-23").text  # recorded before
    assert "No change recorded" in app.get("/changes?field=commission").text
    assert app.get("/changes?since=yesterday").status_code == 400


def test_the_changes_page_of_one_program_says_so_keeps_it_in_its_form_and_links_to_every_programs(app, rt):
    """`/changes?program_id=…` listed that program's changes alone under the heading of the whole feed: nothing said it
    was filtered, the Filter button dropped it, and no link led back to every program's changes."""
    sign_in(app, rt)
    page = app.get(f"/changes?program_id={rt.hosting_id}&field=cookie_days").text
    form = page[page.index('<form method="get" action="/changes"'):]
    form = form[:form.index("</form>")]
    assert f'<input type="hidden" name="program_id" value="{rt.hosting_id}">' in form
    shown = re.search(r'<span class="filtered">(.*?)</span>', form, re.S)
    assert shown and f'<a href="/programs/{rt.hosting_id}">Hosting Co</a>' in shown.group(1), form
    assert 'href="/changes?field=cookie_days">every program</a>' in shown.group(1), shown.group(1)
    assert 'class="filtered"' not in app.get("/changes?field=cookie_days").text


def test_the_changes_pages_say_how_many_damaged_changes_they_left_out_never_their_content(app, rt):
    """The API leaves a damaged delta out and names it (routes.of_shape); the Changes page and a program's history,
    read through it, dropped it without a word, or said "No change recorded" when it was all there was. Now they
    say how many of the page could not be shown, and nothing of what they hold."""
    when = {"at": "2026-11-23T00:00:00Z", "recorded_at": "2026-11-23T00:00:00Z", "program_id": rt.hosting_id}
    rt.index.bulk_upsert("deltas", [{"id": "d_list", "delta": ["<b>secret</b>"], **when},
                                    {"id": "d_shape", "delta": {"id": "d_shape", "change": "<b>exploded</b>"}, **when}],
                         refresh=True)
    sign_in(app, rt)
    for path in ("/changes", f"/programs/{rt.hosting_id}"):
        page = app.get(path)
        assert page.status_code == 200, page.text
        assert "2 changes could not be shown: their stored records in the index are damaged." in shown(page.text)
        assert "30 days → 90 days" in shown(page.text)  # the sound one is shown
        assert "secret" not in page.text and "exploded" not in page.text
    alone = shown(app.get("/changes?since=2026-11-23").text)  # nothing else since: no "No change recorded"
    assert "2 changes could not be shown" in alone and "No change recorded" not in alone
    assert "could not be shown" not in app.get("/changes?since=2026-11-24").text


def test_the_programs_page_says_how_many_damaged_programs_it_left_out_and_a_damaged_ones_page_names_it(app, rt):
    """A program document of the index not of its shape (a hand edit) was shown as it was on the Programs page, and
    its own page was a bare 500. Now the page says how many of its programs could not be shown (the search leaves them
    out: handlers/programs.py summaries), never their content, and the program's page names it as damaged."""
    hand_edited = to_document(make_program("Shop Edited", "https://shopedited.com"))
    rt.index.bulk_upsert("programs", [{**hand_edited, "name": ["<b>secret</b>"], "program": {"name": 5}}],
                         refresh=True)
    sign_in(app, rt)
    page = app.get("/programs?q=shop")
    assert page.status_code == 200, page.text
    assert "1 program could not be shown: its stored record in the index is damaged." in shown(page.text)
    assert "Shop 0" in page.text and "secret" not in page.text
    assert "could not be shown" not in app.get("/programs?q=hosting").text
    alone = shown(app.get("/programs?q=shopedited").text)
    assert "1 program could not be shown" in alone and "No program matches" not in alone
    page = app.get(f"/programs/{hand_edited['id']}")
    assert page.status_code == 500 and "Stored data is damaged" in page.text, page.text
    assert f"program {hand_edited['id']} is damaged" in shown(page.text) and "secret" not in page.text
    merchants = shown(app.get("/merchants?q=shop").text)
    assert "1 program could not be shown" in merchants and "Shop 0" in merchants and "secret" not in merchants
    # a second program of Hosting Co's merchant, its stored program not of a Program's shape
    beside = {**rt.index.get("programs", rt.hosting_id), "id": "p_00000000000000aa", "program": {"name": 5}}
    rt.index.bulk_upsert("programs", [beside], refresh=True)
    merchant = shown(app.get("/merchants/hosting.com").text)
    assert "1 program could not be shown" in merchant and "50% per sale" in merchant


def test_the_changes_pages_field_filter_and_rows_name_fields_in_words_not_their_stored_names(app, rt):
    """The Changes page's Field filter listed raw names (merchant_domain, cookie_days), where categories are shown by
    their labels; the filter still sends the field's name."""
    from affiliate_matrix.deltas import TRACKED
    from affiliate_matrix.web.render import FIELD_LABELS

    assert set(TRACKED) <= set(FIELD_LABELS)
    sign_in(app, rt)
    page = app.get("/changes?field=cookie_days").text
    assert '<option value="merchant_domain">Merchant domain</option>' in page
    assert '<option value="cookie_days" selected>Cookie length</option>' in page
    assert "<strong>Cookie length</strong>: 30 days → 90 days" in page


def test_a_programs_page_names_its_fields_in_words_as_its_change_history_does(app, rt):
    """The program page's field table named each field as stored (cookie_days, first_seen_at, merchant_domain) where
    the same page's summary and change history said Cookie length, First seen, Merchant domain: two names for one
    field on one page. Every field shown has its words (a field added to Program without them fails here)."""
    from affiliate_matrix.models import Program
    from affiliate_matrix.web.pages import HIDDEN_FIELDS
    from affiliate_matrix.web.render import FIELD_LABELS

    assert set(Program.model_fields) - HIDDEN_FIELDS <= set(FIELD_LABELS)
    sign_in(app, rt)
    page = app.get(f"/programs/{rt.hosting_id}").text
    named = re.findall(r'<th scope="row" data-label="Field">([^<]*)</th>', page)
    assert "Cookie length" in named and "First seen" in named and "Merchant domain" in named, named
    assert not [name for name in named if "_" in name or name.islower()], named


def test_an_error_page_links_back_to_the_page_of_this_site_it_came_from_with_its_query(app, rt):
    """The error page (a merchant page of a key no merchant can have) linked only "Back to the programs", losing the
    filters set on the page a person came from. It links back there, query and all; never to another site, nor to the page that
    failed."""
    sign_in(app, rt)
    came = "/changes?field=cookie_days&change=updated"
    failed = app.get("/merchants/Bad%20Key", headers={"Referer": f"http://localhost{came}"})
    assert failed.status_code == 400
    assert f'<a href="{html.escape(came)}">Back</a>' in failed.text
    for referer in ("https://evil.example/changes?x=1", "http://localhost//evil.example/", "http://localhost/\\evil",
                    "http://localhost/merchants/Bad%20Key", None):
        page = app.get("/merchants/Bad%20Key", headers={"Referer": referer} if referer else {}).text
        assert '<a href="/programs">Back to the programs</a>' in page, referer


@pytest.mark.parametrize("since", ["yesterday", "2026-11-21T00:00:00", "1763424000", "2026-11-21 06:00:00Z",
                                   "<b>2026</b>"])
def test_a_since_the_feed_cannot_read_is_refused_naming_the_parameter_and_the_forms_it_takes(app, rt, since):
    """`/changes?since=yesterday` was refused in the validator's words, and a time without its zone in pydantic's
    ("since: Input should have timezone info"): the page says, in plain words, which forms `since` takes."""
    sign_in(app, rt)
    answer = app.get("/changes?" + urlencode({"since": since}))
    assert answer.status_code == 400
    assert (f"“Since” must be an ISO 8601 date (2026-12-01, from its midnight UTC) or a time with its zone "
            f"(2026-12-01T12:00:00Z), not {since!r}") in shown(answer.text), shown(answer.text)
    assert "<b>2026" not in answer.text  # escaped


def test_a_filter_the_feed_refuses_is_said_in_the_changes_page_keeping_the_form_as_sent(app, rt):
    """A `since` the feed cannot read was an error page whose way back held none of the form: the Changes page says it
    in place of the changes, with its field, change type, since and program as sent."""
    sign_in(app, rt)
    answer = app.get(f"/changes?field=cookie_days&change=updated&since=yesterday&program_id={rt.hosting_id}")
    assert answer.status_code == 400 and '<p class="error" role="alert">“Since” must be' in answer.text
    page = answer.text
    assert '<option value="cookie_days" selected>' in page and '<option value="updated" selected>' in page
    assert 'name="since" value="yesterday"' in page
    assert f'<input type="hidden" name="program_id" value="{rt.hosting_id}">' in page


def test_categories_are_shown_by_the_taxonomys_labels_not_their_slugs(app, rt):
    """The explorer showed a program's categories as the index keeps them (home_garden) in its results, the
    Category filter, the program's page and the change feed: each is shown by the taxonomy's label, and the filter
    still sends the category itself."""
    garden = make_program("Garden Co", "https://garden.com", categories=["Home and Garden", "Pets"])
    rt.index.bulk_upsert("programs", [to_document(garden)], refresh=True)
    change = DeltaChange(id="d_garden", program_id=garden.id, change="updated", source="test",
                         at=datetime(2026, 11, 21, tzinfo=UTC),
                         fields=[FieldChange(field="categories", old=["pets"], new=["home_garden", "pets"])])
    rt.index.bulk_upsert("deltas", [delta_document(change, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))],
                         refresh=True)
    sign_in(app, rt)
    results = app.get("/programs?q=garden").text
    assert 'name="category" value="home_garden"' in results
    assert "Home & garden (1)" in shown(results) and "Home & garden, Pets" in shown(results)
    assert "Home & garden, Pets" in shown(app.get(f"/programs/{garden.id}").text)
    assert "Categories : Pets → Home & garden, Pets" in shown(app.get("/changes?field=categories").text)
    for page in (results, app.get(f"/programs/{garden.id}").text):
        assert "home_garden" not in shown(page)


def test_closed_vocabularies_codes_are_shown_in_words_and_filters_keep_the_codes(app, rt):
    """Payout methods and frequencies, statuses, restrictions, kinds and change types were shown as the index keeps
    them (bank_transfer, net30, on_request, closed_suspected) on a program's page, the facets, a merchant's rows and
    the Changes page: each is shown in words (codes.WORDS), and a filter's URL still sends the code."""
    from affiliate_matrix.models import Payout

    payout = Payout(methods=["bank_transfer", "paypal"], frequency="net30")
    program = make_program("Bank Co", "https://bank.com", commission_text="5%").model_copy(
        update={"payout": payout, "status": "closed_suspected", "restrictions": ["ppc_brand_bidding"]})
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    change = DeltaChange(id="d_bank", program_id=program.id, change="updated", source="test",
                         at=datetime(2026, 11, 21, tzinfo=UTC),
                         fields=[FieldChange(field="status", old="active", new="closed_suspected"),
                                 FieldChange(field="payout", old={"methods": ["paypal"], "frequency": "on_request"},
                                             new=payout.model_dump(mode="json"))])
    rt.index.bulk_upsert("deltas", [delta_document(change, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))],
                         refresh=True)
    sign_in(app, rt)
    page = shown(app.get(f"/programs/{program.id}").text)
    assert "Payout Bank transfer, PayPal; Net 30" in page and "Status Possibly closed" in page, page
    assert "Restrictions PPC brand bidding" in page
    results = app.get("/programs?q=bank&status=closed_suspected").text
    assert 'name="payout_method" value="bank_transfer"' in results and 'value="closed_suspected" checked' in results
    assert "Bank transfer (1)" in shown(results) and "Possibly closed (1)" in shown(results), shown(results)
    assert "Bank Co (possibly closed)" in shown(results), shown(results)  # in the list too, beside its name
    changes = app.get("/changes?change=updated").text
    assert '<option value="updated" selected>Updated</option>' in changes
    assert "Status : Active → Possibly closed" in shown(changes)
    assert "Payout : PayPal; On request → Bank transfer, PayPal; Net 30" in shown(changes)
    for text in (page, shown(results), shown(changes), shown(app.get("/merchants/bank.com").text)):
        assert not re.search(r"\b(bank_transfer|net30|on_request|closed_suspected|ppc_brand_bidding)\b", text), text
    # every code of each vocabulary has its words, and no words for a code that is not one
    from typing import get_args

    from affiliate_matrix.codes import WORDS
    from affiliate_matrix.models import NetworkListing, Program
    from affiliate_matrix.models import Payout as PayoutModel

    def codes(model, name):
        return {value for arg in get_args(model.model_fields[name].annotation) for value in get_args(arg) or [arg]}

    assert set(WORDS["payout_method"]) == set(get_args(get_args(PayoutModel.model_fields["methods"].annotation)[0]))
    assert set(WORDS["payout_frequency"]) == codes(PayoutModel, "frequency") - {type(None)}
    assert set(WORDS["restriction"]) == set(get_args(get_args(Program.model_fields["restrictions"].annotation)[0]))
    for vocabulary, field in (("status", "status"), ("kind", "kind"), ("approval", "approval"),
                              ("merchant_key_source", "merchant_key_source")):
        assert set(WORDS[vocabulary]) == codes(Program, field) - {type(None)}, vocabulary
    assert set(WORDS["contract"]) == codes(NetworkListing, "contract") - {type(None)}
    from affiliate_matrix.connections import SyncResult

    assert set(WORDS["sync_status"]) == codes(SyncResult, "status")
    from affiliate_matrix.rules.model import EVENT_TRIGGERS, OPTIONAL_PARAMS, REQUIRED_PARAMS, ActionType

    assert set(WORDS["rule_trigger"]) == set(EVENT_TRIGGERS)
    assert set(WORDS["rule_action"]) == set(get_args(ActionType))
    assert set(WORDS["rule_param"]) == set().union(*REQUIRED_PARAMS.values(), *OPTIONAL_PARAMS.values())


def test_countries_are_shown_by_name_and_filters_keep_their_codes(app, rt):
    """Countries were shown as codes (US, DE) on a program's page, its sources' claims and the Country filter, where
    every other closed vocabulary is shown in words: each is its name now (codes.COUNTRY_NAMES), the filter still
    sending the code; "Open to every country" stays."""
    program = make_program("Atlas Co", "https://atlas.com", commission_text="5%", countries=["United States", "DE"])
    program = program.model_copy(update={"excluded_countries": ["GB"]})
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    sign_in(app, rt)
    page = shown(app.get(f"/programs/{program.id}").text)
    assert "Countries Germany, United States" in page or "Countries United States, Germany" in page, page
    assert "Excluded countries United Kingdom" in page
    results = app.get("/programs?country=DE").text
    assert 'name="country" value="DE" checked' in results
    assert re.search(r"Germany \(\d+\) United States \(\d+\)", shown(results)), shown(results)
    assert "Open to every country" in shown(app.get("/programs").text)


def test_the_filters_panel_says_how_many_filters_hold(app, rt):
    """On a phone the Filters panel starts folded (app.js), and a filtered result read "3 programs" with nothing saying
    a filter held: the panel's summary counts the filters in use. The open statuses, what a search naming none lists,
    filter nothing."""
    sign_in(app, rt)

    def summary(query):
        return re.search(r"<summary>([^<]*)</summary>", app.get(f"/programs?{query}").text).group(1)

    assert summary("q=shop") == "Filters"
    assert summary("status=active&status=discovered") == "Filters"
    assert summary("network=impact&network=cj&min_cookie_days=1&min_epc=") == "Filters (3 in use)"
    assert summary("status=removed") == "Filters (1 in use)"


def test_the_graph_shows_the_filters_it_keeps_each_with_a_link_dropping_it(app, rt):
    """The graph of a filtered search kept its filters as hidden fields only: a person who came from the programs page
    could not see which held nor drop one. It names each in words, with a link drawing the graph without it, and links
    back to the search's programs."""
    sign_in(app, rt)
    page = app.get("/graph?q=shop&payout_method=bank_transfer&min_cookie_days=1&limit=10&page=2").text
    kept = page[page.index('<p class="kept">'):]
    kept = kept[:kept.index("</p>")]
    assert "Filtered by Payout method: Bank transfer ( drop" in shown(kept), shown(kept)
    assert "Minimum cookie (days): 1 ( drop" in shown(kept)
    links = [html.unescape(link) for link in re.findall(r'<a href="([^"]+)"', kept)]
    assert links == ["/graph?q=shop&min_cookie_days=1&limit=10", "/graph?q=shop&payout_method=bank_transfer&limit=10",
                     "/programs?q=shop&payout_method=bank_transfer&min_cookie_days=1&limit=10"], links
    assert "<h1>Graph of search “shop”</h1>" in app.get(links[1].replace("&payout_method=bank_transfer", "")).text
    for bare in ("/graph", "/graph?merchant=hosting.com"):  # nothing kept: nothing to show
        assert 'class="kept"' not in app.get(bare).text
    # the open statuses, which "Graph of this result" always names, filter nothing: not listed as if they did
    page = shown(app.get("/graph?status=active&status=discovered&network=impact").text)
    assert "Filtered by Network: Impact ( drop" in page and "Status:" not in page, page
    assert "Filtered by Status: Active ( drop" in shown(app.get("/graph?status=active").text)


def test_the_open_statuses_given_with_one_twice_filter_nothing_either(app, rt):
    """`status=active&status=discovered&status=active` (the open statuses, one given twice) was listed as kept
    filters and counted in use, the graph titled as a filtered search's: the check compared the values as lists."""
    sign_in(app, rt)
    page = app.get("/graph?status=active&status=discovered&status=active").text
    assert 'class="kept"' not in page and "<h1>Graph of the first programs of the index</h1>" in page, shown(page)
    assert "in use" not in shown(app.get("/programs?status=discovered&status=active&status=discovered").text)


def test_the_graphs_kept_filters_are_said_as_the_search_read_them_and_dropped_however_spelled(app, rt):
    """A filter's value as typed (country=de, which the search reads as DE) was listed as typed, not in words; given
    in two spellings it was listed twice, and the link dropping one drew the graph of the other: filtered still."""
    sign_in(app, rt)
    page = app.get("/graph?country=DE&country=de&network=impact").text
    kept = page[page.index('<p class="kept">'):]
    kept = kept[:kept.index("</p>")]
    assert shown(kept).startswith("Filtered by Country: Germany ( drop Country: Germany ), Network: Impact ( drop"), \
        shown(kept)
    assert "de" not in shown(kept).split()
    links = [html.unescape(link) for link in re.findall(r'<a href="([^"]+)"', kept)]
    assert links[0] == "/graph?network=impact", links


def test_times_are_shown_to_people_in_one_readable_form(app, rt):
    """Times were shown as the index keeps them, to the microsecond (2026-12-01T10:00:00.123456+00:00): on a program's
    page, its sources' claims, the change feed and a merchant's rows each is shown as a person reads one, in UTC, the
    ISO time kept in the <time> element's datetime for machines (the API answers ISO)."""
    seen = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    program = make_program("Clock Co", "https://clock.com", commission_text="5%")
    program = program.model_copy(update={"first_seen_at": seen, "last_seen_at": seen, "last_verified_at": seen})
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    change = DeltaChange(id="d_clock", program_id=program.id, change="updated", source="test", at=seen,
                         fields=[FieldChange(field="cookie_days", old=30, new=90)])
    rt.index.bulk_upsert("deltas", [delta_document(change, recorded_at=seen)], refresh=True)
    sign_in(app, rt)
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:")
    program_page = app.get(f"/programs/{program.id}").text
    assert "First seen 2026-12-01 10:00 UTC" in shown(program_page)
    assert '(<time datetime="2026-11-21T12:00:00Z">2026-11-21 12:00 UTC</time>' in program_page  # a claim's fetch
    assert '<time datetime="2026-12-01T10:00:00.123456Z">2026-12-01 10:00 UTC</time>' in program_page
    changes = app.get("/changes").text
    assert "2026-12-01 10:00 UTC" in shown(changes)
    merchant = app.get("/merchants/clock.com").text
    assert 'title="2026-11-21 12:00 UTC"' in merchant
    for page in (program_page, changes, merchant):
        shown_times = shown(page.split("</form>")[-1])  # (the Changes form's hint shows a time to type)
        assert not iso.search(shown_times), iso.search(shown_times)
        assert not re.search(r'title="\d{4}-\d\d-\d\dT', page)


def test_approval_and_conversion_rates_are_shown_in_percent_as_amx_show_does(app, rt):
    """A program's approval and conversion rates (fractions in the index, 0.873) were shown as 0.873 on its page, in its
    sources' claims and in the change feed, where `amx show` and the networks say 87.3%."""
    program = make_program("Rate Co", "https://rate.com", commission_text="5%")
    program = program.model_copy(update={"approval_rate": Decimal("0.873"), "conversion_rate": Decimal("0.012")})
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    change = DeltaChange(id="d_rate", program_id=program.id, change="updated", source="test",
                         at=datetime(2026, 11, 21, tzinfo=UTC),
                         fields=[FieldChange(field="approval_rate", old=0.95, new=0.873)])
    rt.index.bulk_upsert("deltas", [delta_document(change, recorded_at=datetime(2026, 11, 22, tzinfo=UTC))],
                         refresh=True)
    sign_in(app, rt)
    page = shown(app.get(f"/programs/{program.id}").text)
    assert "Approval rate 87.3%" in page and "Conversion rate 1.2%" in page, page
    assert "Approval rate : 95% → 87.3%" in shown(app.get("/changes?field=approval_rate").text)


def test_a_program_not_in_the_index_is_a_404_naming_the_program(app, rt):
    """/programs/p_ffffffffffffffff answered "there is no page at /programs/…", as for a page the site has not."""
    sign_in(app, rt)
    answer = app.get("/programs/p_ffffffffffffffff")
    assert answer.status_code == 404
    assert "no program p_ffffffffffffffff in the index" in shown(answer.text), shown(answer.text)
    assert "there is no page at /programs/" in shown(app.get("/programs/").text)  # names no program
    # nor /merchants/, which was a 400 "merchant key '' is not a domain or a name key"
    assert app.get("/merchants/").status_code == 404 and "there is no page at /merchants/" in shown(
        app.get("/merchants/").text)


@pytest.mark.parametrize("program_id, said", [
    ("p_123", "'p_123'"),
    ("<b>x", "'<b>x'"),
    ("p_0123456789abcde\x00", "'p_0123456789abcde\\x00'"),  # a NUL, as the API's 400 names it: escaped
    ("p_0123456789abcdef\u202e", "'p_0123456789abcdef\\u202e'"),  # a bidi override, never shown reversing the rest
    ("p_" + "a" * 498, "'p_" + "a" * 38 + "'"),  # cut to 40 characters
])
def test_a_program_id_of_no_programs_shape_is_refused_as_the_api_refuses_it(app, rt, program_id, said):
    """The explorer's program page with an id of no program's shape answered 404 echoing the id as it came (a NUL, a
    bidi override, 500 characters), where the API answers 400 naming what is wrong: it is a 400 as the API's, the id
    cut and escaped as there, but said in the page's terms: the API's parameter, program_id, is nothing a person on
    the web typed."""
    token = sign_in(app, rt)
    answer = app.get("/programs/" + quote(program_id))
    text = shown(answer.text)
    assert answer.status_code == 400 and "That request is not valid" in text, text
    assert f"{said} is not a program's id: an id is p_ and 16 hex digits, as the Programs page links each " \
           "program" in text, text
    assert "program_id" not in text, text
    assert not [c for c in ("\x00", "\u202e", "<b>x", "a" * 41) if c in answer.text]
    api = create_app("handle", str(ROOT / "functions/programs/main.py")).test_client()
    in_the_api = api.get("/programs/" + quote(program_id), headers={"Authorization": f"Bearer {token}"})
    refused = "program_id must be a program's id, p_ and 16 hex digits as amx search and the API list them, not "
    assert in_the_api.status_code == 400 and in_the_api.json["error"]["message"] == refused + said


def test_a_program_id_in_upper_case_is_refused_saying_ids_are_in_lower_case(app, rt):
    """An id in upper case was refused as any other of no id's form: the page and the API say an id is in lower
    case, the id so (neither folds it: amx show refuses it the same)."""
    token = sign_in(app, rt)
    typed, meant = rt.hosting_id.upper(), rt.hosting_id
    assert f"is not a program's id: an id is p_ and 16 hex digits, as the Programs page links each program (an id is " \
           f"in lower case: {meant})" in shown(app.get(f"/programs/{typed}").text)
    api = create_app("handle", str(ROOT / "functions/programs/main.py")).test_client()
    in_the_api = api.get(f"/programs/{typed}", headers={"Authorization": f"Bearer {token}"})
    assert in_the_api.status_code == 400 and in_the_api.json["error"]["message"] == (
        "program_id must be a program's id, p_ and 16 hex digits as amx search and the API list them, not "
        f"{typed!r} (an id is in lower case: {meant})")


def test_changes_page_reads_its_programs_names_in_one_request(app, rt, monkeypatch):
    """The page read each listed program by its own get to show its name: 20 round trips to OpenSearch a page."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    changes = [DeltaChange(id=f"d_shop{i}", program_id=f"p_missing{i}", change="updated", source="test",
                           at=datetime(2026, 11, 21, tzinfo=UTC), fields=[FieldChange(field="cookie_days", old=1, new=2)])
               for i in range(3)]
    rt.index.bulk_upsert("deltas", [delta_document(c, recorded_at=datetime(2026, 11, 22, tzinfo=UTC)) for c in changes],
                         refresh=True)
    sign_in(app, rt)
    gets = []
    monkeypatch.setattr(SqliteSearchIndex, "get", lambda self, name, doc_id: gets.append(doc_id))
    page = app.get("/changes").text
    assert gets == []
    assert f'href="/programs/{rt.hosting_id}">Hosting Co</a>' in page
    assert 'href="/programs/p_missing1">p_missing1</a>' in page  # a program no longer indexed: its id


def test_graph_links_merchants_and_networks(app, rt):
    sign_in(app, rt)
    page = app.get("/graph?merchant=hosting.com").text
    assert "<svg" in page and 'href="/merchants/hosting.com"' in page and 'href="/programs?network=impact"' in page
    assert 'href="/programs?source=otherdir"' in page
    assert "Hosting Co" in app.get("/programs?source=otherdir").text
    assert "Shop 1" not in app.get("/programs?source=otherdir").text
    assert 'href="/merchants/shop1.com"' in app.get("/graph?q=shop").text


def test_the_graph_of_a_filtered_result_is_not_titled_the_index(app, rt):
    """The programs page's "Graph of this result" of a filtered search drew that result under "Graph of the first
    programs of the index", as if unfiltered; the open statuses its link always names filter nothing."""
    sign_in(app, rt)
    link = re.search(r'<a href="(/graph\?[^"]*)">Graph of this result</a>', app.get("/programs?network=impact").text)
    heading = re.search(r"<h1>([^<]*)</h1>", app.get(html.unescape(link.group(1))).text).group(1)
    assert heading == "Graph of the first programs of this search", heading
    assert "<h1>Graph of the first programs of the index</h1>" in app.get(
        "/graph?status=active&status=discovered").text
    assert "<h1>Graph of search “shop” and its filters</h1>" in app.get("/graph?q=shop&min_cookie_days=1").text
    assert "<h1>Graph of search “shop”</h1>" in app.get("/graph?q=shop").text


def test_the_graph_names_a_merchant_as_the_other_pages_do_not_by_its_key(app, rt):
    """Each merchant of the graph was labelled by its key (a domain, or a name's words run together:
    seopressoranktrackersoftware), where the programs and merchants lists name it; its link is still by its key."""
    sign_in(app, rt)
    for page in (app.get("/graph?q=hosting").text, app.get("/graph?merchant=hosting.com").text):
        merchant = re.search(r'<a href="/merchants/hosting.com">\s*<g class="node merchant">.*?<text[^>]*>([^<]*)</text>',
                             page, re.S)
        assert merchant and merchant.group(1) == "Hosting Co", merchant and merchant.group(1)


def test_a_graph_node_whose_label_is_cut_keeps_its_whole_name_for_a_screen_reader(app, rt):
    """A label longer than 28 characters is cut ("SEOpresso - Rank Tracker..."), and that cut text was its link's only
    name: a screen reader read the half name, and no pointer could see the rest. Its <title> holds it whole."""
    sign_in(app, rt)
    long = make_program("SEOpresso - Rank Tracker Software", "https://seopresso.com", commission_text="50% per sale")
    rt.index.bulk_upsert("programs", [to_document(long)], refresh=True)
    page = app.get("/graph?q=seopresso").text
    node = re.search(r'<a href="/merchants/seopresso.com">\s*<g class="node merchant">(.*?)</g>', page, re.S).group(1)
    assert "<title>SEOpresso - Rank Tracker Software</title>" in node and ">SEOpresso - Rank Tracker...</text>" in node


def test_the_pages_name_a_source_by_its_title_keeping_its_name_in_links(app, rt):
    """The explorer named sources by their plugins' names ("cj") in the facets, a program's records, the Changes
    page's Source column and the graph, where each plugin has a title, as the Connections page shows it: each is named by
    its title now (one no plugin has, as it is), its name kept in the URLs and filters."""
    sign_in(app, rt)
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", network="cj").model_copy(
        update={"source": source, "connection_id": source}) for source in ("cj", "otherdir")]
    program = merge(normalize(records[0]), normalize(records[1]))
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    delta = DeltaChange(id="d_cj", program_id=program.id, change="created", source="cj",
                        at=datetime(2026, 11, 23, tzinfo=UTC), fields=[])
    rt.index.bulk_upsert("deltas", [delta_document(delta, recorded_at=datetime(2026, 11, 23, tzinfo=UTC))],
                         refresh=True)
    title = "CJ Advertiser Lookup API"
    facet = re.search(r'name="source" value="cj" checked>\s*<label[^>]*>([^<]*)<', app.get("/programs?source=cj").text)
    assert facet and facet.group(1) == title, facet and facet.group(1)
    listed = shown(app.get(f"/programs/{program.id}").text)
    assert f"{title}: acme" in listed and "otherdir: acme" in listed, listed  # its records, unknown as it is
    assert f"Source records {title}: acme" in listed, listed  # the records field
    rows = re.findall(r'<td data-label="Source" class="id">([^<]*)</td>', app.get("/changes").text)
    assert title in rows and "test" in rows, rows
    graph = app.get("/graph?merchant=acme.com").text
    node = re.search(r'<a href="/programs\?source=cj">\s*<g class="node source">.*?<text[^>]*>([^<]*)</text>', graph,
                     re.S)
    assert node and node.group(1) == title, node and node.group(1)
    assert f"Filtered by Listed by: {title} ( drop" in shown(app.get("/graph?source=cj").text)


def test_the_pages_name_a_network_a_plugin_reads_by_its_proper_name_keeping_the_stored_one_in_links(app, rt):
    """The explorer showed networks as the index keeps them (cj, impact) where it names sources by their titles: one a
    network plugin reads is shown by its proper name (CJ, as the plugin declares it) on a merchant's rows, the
    programs and merchants lists, a program's page, the facet and the graph; one no plugin reads (a directory may name
    any) as its source wrote it (MaxBounty) on each of those too (a merchant's rows, the merchants list and the graph
    showed the stored maxbounty). The URLs and the filter keep the stored name, and filter by it."""
    sign_in(app, rt)
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", network=network,
                           join_url=join).model_copy(update={"source": source, "connection_id": source})
               for source, network, join in (("cj", "cj", "https://www.anrdoezrs.net/click-1-2"),
                                             ("otherdir", "MaxBounty", None))]
    program = merge(normalize(records[0]), normalize(records[1]))
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    merchant = app.get("/merchants/acme.com").text
    cells = {shown(cell) for cell in re.findall(r'<td data-label="Network"[^>]*>(.*?)</td>', merchant, re.S)}
    assert cells == {"CJ", "MaxBounty"}, cells
    listed = app.get("/programs?network=cj")
    assert total(listed.text) == 1, shown(listed.text)  # filtered by the stored name: Acme alone
    row = re.search(r'<a href="/programs/' + program.id + r'">.*?<td data-label="Networks"[^>]*>([^<]*)</td>',
                    listed.text, re.S)
    assert row and row.group(1) == "CJ, MaxBounty", row and row.group(1)
    facet = dict(re.findall(r'name="network" value="([^"]+)"[^>]*>\s*<label[^>]*>([^<]*?) ?<', listed.text))
    assert facet == {"cj": "CJ", "maxbounty": "MaxBounty", "impact": "Impact"}, facet
    assert re.search(r'name="network" value="cj" checked>', listed.text)
    merchants = re.findall(r'<td data-label="Networks"[^>]*>([^<]*)</td>', app.get("/merchants?q=acme").text)
    assert merchants == ["CJ, MaxBounty"], merchants
    page = shown(app.get(f"/programs/{program.id}").text)
    assert "CJ: join on CJ" in page, page
    graph = app.get("/graph?merchant=acme.com").text
    nodes = dict(re.findall(r'<a href="/programs\?network=([^"]+)">\s*<g class="node network">.*?<text[^>]*>([^<]*)<',
                            graph, re.S))
    assert nodes == {"cj": "CJ", "maxbounty": "MaxBounty"}, nodes
    assert "Filtered by Network: CJ ( drop" in shown(app.get("/graph?network=cj").text)


def test_drawing_again_from_the_graph_keeps_the_filters_of_the_search_it_was_opened_from(app, rt):
    """The graph's search box sent its words alone: drawing again from the graph of a filtered result ("Graph of this
    result") dropped every filter. It keeps them now, as hidden fields; not a cursor or a page of the words before."""
    sign_in(app, rt)
    page = app.get("/graph?q=shop&network=impact&min_cookie_days=1&limit=10&page=2").text
    form = page[page.index('<form method="get" action="/graph"'):]
    form = form[:form.index("</form>")]
    kept = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert sorted(kept) == [("limit", "10"), ("min_cookie_days", "1"), ("network", "impact")], form
    drawn = app.get("/graph?" + urlencode([*kept, ("q", "hosting")])).text
    assert "<h1>Graph of search “hosting” and its filters</h1>" in drawn
    merchant = app.get("/graph?merchant=hosting.com").text  # a merchant's graph takes nothing beside: the box, words
    assert 'type="hidden"' not in merchant[merchant.index('<form method="get" action="/graph"'):]


def test_a_merchants_graph_is_headed_by_the_merchants_name_not_the_key_as_typed(app, rt):
    sign_in(app, rt)
    page = app.get("/graph?merchant=HOSTING.COM").text
    assert "<h1>Graph of merchant Hosting Co</h1>" in page, re.search(r"<h1>.*?</h1>", page).group(0)


def test_the_graph_counts_one_merchant_in_the_singular(app, rt):
    """A merchant's graph, one merchant by its nature, said "1 merchants"."""
    sign_in(app, rt)
    page = app.get("/graph?merchant=hosting.com").text
    counts = re.search(r"<p>(\d+ sources?, \d+ merchants?, \d+ networks?)\.", page)
    assert counts and "1 merchant," in counts.group(1), counts


@pytest.mark.parametrize("query,fragment", [
    ("merchant=hosting.com&merchant=shop1.com", "merchant is given more than once; give it once"),
    ("merchant=hosting.com&q=shop", "a merchant's graph takes no other parameter: q"),
    ("merchant=hosting.com&network=awin", "a merchant's graph takes no other parameter: network"),
    ("q=shop&merchnt=hosting.com", "unknown parameter(s): merchnt"),
])
def test_a_graph_asked_twice_over_or_with_a_parameter_it_would_not_read_is_refused_naming_it(app, rt, query, fragment):
    """The graph drew the first merchant of two, a merchant's graph left the search's filters beside it unread, and a
    misspelt parameter was dropped, drawing the whole index's first programs: each silently, where the programs page
    (the API's search) refuses them."""
    sign_in(app, rt)
    answer = app.get(f"/graph?{query}")
    assert answer.status_code == 400 and fragment in html.unescape(answer.text), answer.text[:400]


def test_a_refused_graph_is_said_in_the_graph_page_keeping_its_form_and_a_link_dropping_each_parameter(app, rt):
    """A graph the search refused (a network no network has, a sort it does not know) was a bare error page whose way
    back held nothing of it; the programs page says its own refusal in the page, its form as sent. The graph page does
    the same, naming the field by its label, and lists each parameter given with a link drawing the graph without it,
    the one to change among them (the form keeps them as hidden fields)."""
    sign_in(app, rt)
    answer = app.get("/graph?q=shop&network=%21%21&min_cookie_days=1")
    assert answer.status_code == 400
    page = answer.text
    assert '<p class="error" role="alert">“Network” &#39;!!&#39; names no network' in page, shown(page)
    form = page[page.index('<form method="get" action="/graph"'):]
    form = form[:form.index("</form>")]
    assert 'name="q" type="search" value="shop"' in form
    assert re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form) == [
        ("network", "!!"), ("min_cookie_days", "1")]
    kept = page[page.index('<p class="kept">'):]
    kept = kept[:kept.index("</p>")]
    assert "Asked with Network: !! ( drop" in shown(kept) and "Minimum cookie (days): 1 ( drop" in shown(kept)
    links = [html.unescape(link) for link in re.findall(r'<a href="([^"]+)"', kept)]
    assert links == ["/graph?q=shop&min_cookie_days=1", "/graph?q=shop&network=%21%21"], links
    dropped = app.get(links[0])  # the refused one dropped: drawn
    assert dropped.status_code == 200 and "<h1>Graph of search “shop” and its filters</h1>" in dropped.text
    sort = app.get("/graph?q=shop&sort=bogus")
    assert sort.status_code == 400 and "“Sort by” must be one of" in html.unescape(sort.text), shown(sort.text)
    merchant = app.get("/graph?merchant=Bad%20Key")  # a merchant no key names: its box, and the merchant to drop
    assert merchant.status_code == 400 and '<p class="error" role="alert">' in merchant.text
    assert 'Asked with merchant: Bad Key ( drop' in shown(merchant.text) and 'href="/graph"' in merchant.text
    assert "Back to the programs" not in merchant.text and "<svg" not in merchant.text


def test_every_value_is_escaped_and_no_page_has_inline_script_or_style(app, rt):
    sign_in(app, rt)
    hostile = app.get("/programs?q=alert")
    assert '<script>alert("x")' not in hostile.text and "&lt;script&gt;" in hostile.text
    program_id = re.search(r'href="/programs/(p_[0-9a-f]{16})"', hostile.text).group(1)
    for page in (app.get(f"/programs/{program_id}").text, app.get("/merchants/hostile.com").text):
        assert "javascript:" not in page and "&lt;script&gt;" in page
    for path in ("/programs", f"/programs/{rt.hosting_id}", "/merchants", "/merchants/hosting.com", "/changes",
                 "/graph", "/signin"):
        answer = app.get(path)
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text) and " style=" not in answer.text
        assert "<style" not in answer.text


@pytest.mark.parametrize("path,status", [
    ("/programs?q=a;b", 400), ("/programs?q=" + "x" * 501, 400), ("/programs?cursor=" + "x" * 2001, 400),
    ("/programs?cursor=garbage", 400), ("/programs?min_cookie_days=many", 400), ("/programs?page=0", 400),
    ("/programs?page=1&cursor=x", 400), ("/programs?nope=1", 400), ("/programs/export?format=xml", 400),
    ("/changes?since=2026-11-21T00:00:00", 400), ("/changes?change=gone", 400),  # created, updated or removed ("/merchants/..%2Fetc", 400),
    ("/merchants/-bad", 400), ("/graph?merchant=Bad%20Key", 400), ("/programs/p_123", 400), ("/assets/../x", 404),
    ("/nowhere", 404), ("/programs/", 404), ("/programs/p_ffffffffffffffff/x", 404),
    ("/programs?network=c%FFj", 400), ("/merchants?q=host%ED%A0%80", 400),  # not UTF-8: searched as the escapes' text
])
def test_hostile_or_malformed_requests_get_a_clear_4xx_page(app, rt, path, status):
    sign_in(app, rt)
    answer = app.get(path)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["Content-Type"].startswith("text/html") and "Content-Security-Policy" in answer.headers


@pytest.mark.parametrize("path,status,title", [
    ("/favicon.ico", 404, "Not found"), ("/robots.txt", 404, "Not found"),
    ("/programs/p_0000000000000000%0A", 400, "That request is not valid"),  # no program's id, as the API says
    ("/merchants/a%0Ab", 400, "That request is not valid")])
def test_a_path_the_framework_answers_itself_is_a_page_with_the_pages_headers(app, rt, path, status, title):
    """functions-framework answers /favicon.ico and /robots.txt itself, and Werkzeug's routing a path holding a line
    break, before this function is called: Flask's own page, with none of every answer's headers (no CSP, no
    nosniff, no framing refusal, no Cache-Control). They are the function's to answer, as any other path."""
    signed_out = app.get(path)
    assert signed_out.status_code == 303 and signed_out.headers["Location"].startswith("/signin?next=")
    sign_in(app, rt)
    answer = app.get(path)
    assert answer.status_code == status and f"<h1>{title}</h1>" in answer.text, answer.text[:300]
    for name, value in PAGE_HEADERS.items():
        assert answer.headers.get(name) == value == signed_out.headers.get(name), name


@pytest.mark.parametrize("method,path", [("PUT", "/programs"), ("DELETE", "/signin"), ("POST", "/changes")])
def test_an_answer_the_pages_do_not_render_still_carries_their_headers(app, rt, method, path):
    """What the shared error handling answers (a 405 here; a 503 while the index is down) was JSON with none of
    the pages' headers: no CSP, no nosniff, no framing refusal, no Cache-Control on a signed-in browser's answer."""
    sign_in(app, rt)
    answer = app.open(path, method=method)
    assert answer.status_code == 405
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in \
        answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("fault, status, title", [
    ("index down", 503, "Not available right now"), ("a bug", 500, "Something went wrong")])
def test_the_shared_error_handlings_answer_is_a_page_for_a_person(app, rt, monkeypatch, fault, status, title):
    """A 503 while the index is down and a 500 of a fault no route foresaw (handlers.serve) were its JSON in the
    browser; they are the explorer's error page, its message and request id said, Retry-After kept. A 405 too."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.handlers import web

    sign_in(app, rt)

    def failing(rt, request, page):
        raise BackendUnavailable("search index: connection refused") if fault == "index down" else KeyError("x")

    monkeypatch.setattr(web, "dispatch", failing)  # a stand-in for a backend failing: the index cannot be taken down
    answer = app.get("/programs", headers={"X-Request-Id": "req-77"})
    assert answer.status_code == status and answer.headers["Content-Type"].startswith("text/html"), answer.text
    assert f"<h1>{title}</h1>" in answer.text and "<code>req-77</code>" in answer.text, answer.text
    assert answer.headers["X-Request-Id"] == "req-77" and answer.headers["X-Frame-Options"] == "DENY"
    assert ("a backend is unavailable; retry later" in answer.text) == (fault == "index down")
    assert ("Retry-After" in answer.headers) == (fault == "index down")
    assert app.get("/healthz").headers["Content-Type"] == "application/json"
    monkeypatch.undo()
    refused = app.open("/programs", method="PUT")
    assert refused.status_code == 405 and "<h1>Not a way this page is asked for</h1>" in refused.text


@pytest.mark.slow
def test_the_pages_read_an_opensearch_index_by_settings_alone(tmp_path, monkeypatch, opensearch_node):
    for name, value in {"AMX_DATA_DIR": str(tmp_path), "AMX_SEARCH": "opensearch",
                        "AMX_OPENSEARCH_URL": opensearch_node.url, "AMX_INDEX_PREFIX": f"w{uuid.uuid4().hex[:8]}"}.items():
        monkeypatch.setenv(name, value)
    rt = filled(Runtime("test"))
    app = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
    sign_in(app, rt)
    assert "Hosting Co" in app.get("/programs?q=hostnig").text
    names = []
    url = "/programs?sort=name&limit=3"
    while url:
        page = app.get(url).text
        names += re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', page)
        cursor = re.search(r'rel="next" href="(/programs\?[^"]+)"', page)
        url = cursor.group(1).replace("&amp;", "&") if cursor else None
    assert len(names) == 7 and names == sorted(names, key=str.lower)
    assert re.search(r'value="impact" checked', app.get("/programs?network=impact").text)
    assert "otherdir" in app.get(f"/programs/{rt.hosting_id}").text
    assert "⚠ disputed" in app.get("/merchants/hosting.com").text
    assert f'href="/programs/{rt.hosting_id}"' in app.get("/changes?field=cookie_days").text
    # a network nothing names, its facet labelled as its source wrote it: the first-seen program's, sorted by OpenSearch
    rt.index.bulk_upsert("programs", [to_document(make_program("Offer Co", "https://offer.com", network="MaxBounty"))],
                         refresh=True)
    assert re.search(r'value="maxbounty">\s*<label[^>]*>MaxBounty <', app.get("/programs").text)


def resent(page: str) -> str:
    """The query the programs page's form sends as it stands: its checked boxes, its sort, its filled fields."""
    form = page[page.index('<form method="get" action="/programs"'):]
    form = form[:form.index("</form>")]
    fields = re.findall(r'<input type="checkbox"[^>]*name="([^"]+)" value="([^"]*)" checked', form)
    fields += re.findall(r'<input type="hidden" name="(limit)" value="([^"]*)"', form)
    typed = r'<input id="[^"]+" name="([^"]+)" type="(?:number|search)"[^>]*value="([^"]*)"'
    fields += [(n, v) for n, v in re.findall(typed, form) if v]
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        fields += [(name, re.search(r'<option value="([^"]+)" selected', options).group(1))]
    return urlencode([(n, html.unescape(v)) for n, v in fields])


def total(page: str) -> int:
    return int(re.search(r'id="result-count" role="status">(?:[^<]* of )?(\d+) program', page).group(1))


@pytest.mark.parametrize("query", ["source=otherdir", "kind=program", "epc_currency=USD",
                                   "min_epc=0.5&epc_currency=USD", "network=impact&country=JP", "q=shop&limit=2",
                                   "epc_window=90d&epc_currency=USD",
                                   "source=otherdir&source=test"])
def test_the_form_sends_every_filter_of_the_address_again_so_sorting_or_ticking_keeps_it(app, rt, query):
    # A source picked in the graph (`/programs?source=…`), a filter with no facet, or one whose value the result no
    # longer counts was on no field of the form: the next sort or tick silently dropped it and widened the result.
    sign_in(app, rt)
    page = app.get(f"/programs?{query}").text
    again = app.get(f"/programs?{resent(page)}").text
    assert total(again) == total(page)
    # no status asked lists the open programs: the form shows them ticked, and sends them
    shown = [("status", "active"), ("status", "discovered")]
    chosen = [("sort", "relevance")] + ([] if "epc_window" in query else [("epc_window", "7d")])  # its selects
    assert sorted(parse_qsl(resent(page))) == sorted(parse_qsl(query) + chosen + shown)


def test_a_facet_that_is_ticked_counts_what_each_other_value_would_add(app, rt):
    # Values of one filter are alternatives (category=a&category=b is either): its counts come from the search
    # without it, so the other values stay on offer with what ticking them adds, not only those also in the first.
    sign_in(app, rt)
    rt.index.bulk_upsert("programs", [to_document(make_program(name, f"https://{name.lower()}.com", countries=countries))
                                      for name, countries in [("Usonly", ["US"]), ("Both", ["US", "DE"]),
                                                              ("Deonly", ["DE"])]], refresh=True)
    counts = dict(re.findall(r'name="country" value="([A-Z]+)"[^>]*>\s*<label[^>]*>[^<]+ <span class="count">\((\d+)\)',
                             app.get("/programs?country=US").text))
    # a country's count is what ticking it finds: the programs naming it and those naming no country (open to all)
    assert counts == {"US": str(total(app.get("/programs?country=US").text)),
                      "DE": str(total(app.get("/programs?country=DE").text))}
    assert total(app.get("/programs?country=US&country=DE").text) == int(counts["US"]) + 1  # and Deonly


def test_a_change_and_a_programs_fields_read_as_terms_not_as_stored_json(app, rt):
    # The change feed showed a commission raise as `[{"type": "percent", "value_min": "50", …}] → […]`, a lifetime
    # cookie as -1 and an EPC as {"amount": …}: the shapes of the index, not what a marketer reads.
    sign_in(app, rt)
    lifetime = make_program("Forever Co", "https://forever.com", commission_text="30% per sale",
                            cookie_text="lifetime cookie")
    assert lifetime.cookie_days == -1
    rt.index.bulk_upsert("programs", [to_document(lifetime)], refresh=True)
    percent = {"type": "percent", "value_max": None, "currency": None, "recurring": False, "tiers": []}
    delta = DeltaChange(id="d_2", program_id=lifetime.id, change="updated", source="test",
                        at=datetime(2026, 11, 23, tzinfo=UTC),
                        fields=[FieldChange(field="commission", old=[{**percent, "value_min": "50"}],
                                            new=[{**percent, "value_min": "60"}]),
                                FieldChange(field="cookie_days", old=30, new=-1),
                                FieldChange(field="epc_7d", old=None, new={"amount": "0.45", "currency": "USD"})])
    rt.index.bulk_upsert("deltas", [delta_document(delta, recorded_at=datetime(2026, 11, 23, 6, tzinfo=UTC))],
                         refresh=True)
    for page in (app.get("/changes").text, app.get(f"/programs/{lifetime.id}").text):
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert "50% one-time → 60% one-time" in text and "30 days → lifetime" in text and "— → 0.45 USD" in text
        assert "value_min" not in text and '"amount"' not in text
    row = re.search(r'<th scope="row" data-label="Field">Cookie length</th>\s*<td data-label="Value">([^<]*)</td>',
                    app.get(f"/programs/{lifetime.id}").text)
    assert row.group(1) == "lifetime"


def test_the_change_feed_names_each_program(app, rt):
    # The feed's Program column showed p_… ids only: which program changed took a click per row to learn.
    sign_in(app, rt)
    page = app.get("/changes").text
    assert re.search(rf'<a href="/programs/{rt.hosting_id}">Hosting Co</a>', page), page


def test_the_merchant_list_says_when_it_shows_only_the_first_ones(app, rt):
    # /merchants lists at most `limit` (20) merchants and said nothing of the others: the list read as all of them.
    sign_in(app, rt)
    assert "Merchants 1–2; more on the next page." in app.get("/merchants?limit=2").text
    assert "more on the next page" not in app.get("/merchants").text  # seven: all of them


def test_the_programs_open_to_every_country_are_a_country_choice_of_their_own(app, rt):
    # The countries facet counts them after its 20 countries, as the value worldwide (what country=worldwide lists):
    # shown as what it means, and ticking it lists them.
    sign_in(app, rt)
    rt.index.bulk_upsert("programs", [to_document(make_program(name, f"https://{name.lower()}.com", countries=countries))
                                      for name, countries in [("Germanonly", ["DE"]), ("Anywhere", [])]], refresh=True)
    page = app.get("/programs").text
    shown = re.search(r'name="country" value="worldwide"[^>]*>\s*<label[^>]*>Open to every country '
                      r'<span class="count">\((\d+)\)', page)
    ticked = app.get("/programs?country=worldwide").text
    assert shown and int(shown.group(1)) == total(ticked)  # the count is what ticking it lists
    assert "Anywhere" in ticked and "Germanonly" not in ticked


def explorer_programs(rt):
    """Programs across categories, countries, commission types, flat and EPC currencies and statuses."""
    from affiliate_matrix.models import Money

    made = []
    for i, (category, countries, commission, status, epc, quarter) in enumerate([
            ("Web Hosting", ["US"], "$50 per sale", "active", ("1.50", "USD"), ("1.10", "USD")),
            ("Web Hosting", ["US", "DE"], "20% per sale", "active", ("2.00", "EUR"), None),
            ("VPN", ["DE"], "€40 per sale", "discovered", ("0.90", "USD"), None),
            ("VPN", [], "30% per sale", "closed_suspected", None, None),
            ("Web Hosting", [], "$10 per sale", "removed", ("150", "JPY"), None),
            ("VPN", ["US"], "5% per sale", "active", None, ("0.80", "GBP")),  # Awin's: a 3-month EPC only
            ("Web Hosting", ["US"], "€30 per sale", "active", ("0.50", "USD"), None),
            ("VPN", ["US"], "$20 per sale", "discovered", ("0.70", "USD"), ("2.40", "GBP")),
            ("Web Hosting", ["US"], "$25 per sale", "active", ("3", "GBP"), None)]):
        program = make_program(f"Explored {i}", f"https://explored{i}.com", categories=[category], countries=countries,
                               commission_text=commission)
        program.status, program.epc_7d = status, Money(amount=epc[0], currency=epc[1]) if epc else None
        program.epc_90d = Money(amount=quarter[0], currency=quarter[1]) if quarter else None
        made.append(to_document(program))
    rt.index.bulk_upsert("programs", made, refresh=True)


def counts_of(facets: dict) -> dict:
    return {field: [(bucket["value"], bucket["count"]) for bucket in buckets if bucket["count"] is not None]
            for field, buckets in facets.items()}


def counted_one_search_per_filter(rt, args):
    """The explorer's counts as it made them before: its search, then one more per ticked filter of a faceted field,
    without that filter, for that facet's counts."""
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.handlers import programs as api
    from affiliate_matrix.program_index import faceted

    counted = dict(api.search(rt, args)["facets"])
    for name in [name for name in api.FILTERS if name in args and faceted(name)]:
        without = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in (name, "cursor", "page")])
        without["limit"] = "1"
        counted[api.FILTERS[name]] = api.search(rt, without)["facets"].get(api.FILTERS[name], [])
    return counts_of(counted)


@pytest.mark.parametrize("query", [
    "category=hosting_domains&country=US", "category=vpn_security&country=DE&status=active&status=closed_suspected",
    "commission_type=flat&flat_currency=USD&epc_currency=USD&country=US", "q=explored&country=DE&category=vpn_security",
    "min_commission_percent=10&category=hosting_domains&commission_type=percent&status=active&status=removed",
    "country=worldwide&epc_currency=JPY&status=removed", "source=test&kind=program&category=vpn_security&country=US",
    "epc_window=90d&epc_currency=GBP&category=vpn_security"])
def test_the_explorer_counts_each_facet_without_its_own_filter_in_one_search(rt, monkeypatch, query):
    # Each ticked filter of a faceted field cost a search of its own, to count that facet without it: a page with
    # three ticked took four. One search now answers the hits and every facet counted without its own filter (its
    # filter a post filter), with the counts the searches per filter made.
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.web import pages

    explorer_programs(rt)
    args = MultiDict(parse_qsl(query))
    before = counted_one_search_per_filter(rt, args)
    searched = []
    search = rt.index.search
    monkeypatch.setattr(rt.index, "search", lambda *a, **k: searched.append(a) or search(*a, **k))
    page = pages.search_page(rt, args)
    assert len(searched) == 1
    after = counts_of({facet["field"]: facet["values"] for facet in page["facets"]})
    assert after == {field: before.get(field, []) for field in after}
    assert page["result"]["total"] == pages.api.search(rt, args)["total"]  # the same hits


def test_the_networks_nothing_names_are_titled_in_one_search_however_many_a_page_lists(rt, monkeypatch):
    # network_titles_of searched once per network the taxonomy does not name (a facet's up to 20) on every programs
    # page: one search titles them all, each as the program first seen titling it wrote it.
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.web import pages

    written = ["ZetaClicks", "OmegaAds", "PlumLeads", "QuillNet", "RookCPA", "SableAff"]
    seen = datetime(2026, 11, 1, tzinfo=UTC)
    programs = []
    for n, network in enumerate(written):
        for later, spelling in ((0, network), (1, network.upper())):  # the later one's spelling is not shown
            record = make_record(f"Net {n} {later}", f"https://net{n}-{later}.com", commission_text="5% per sale",
                                 network=spelling).model_copy(update={"source": "otherdir"})
            program = normalize(record)
            programs.append(program.model_copy(update={"first_seen_at": seen.replace(day=1 + later + n)}))
    rt.index.bulk_upsert("programs", [to_document(program) for program in programs], refresh=True)

    def searches_for(networks: list[str]) -> tuple[int, dict]:
        searched = []
        search = rt.index.search  # a spy on the real embedded index: each search counted, then run
        monkeypatch.setattr(rt.index, "search", lambda *a, **k: searched.append(a) or search(*a, **k))
        page = pages.search_page(rt, MultiDict([("network", network) for network in networks]))
        monkeypatch.setattr(rt.index, "search", search)
        return len(searched), page["network_titles"]

    one, titled_one = searches_for([written[0].lower()])
    every, titled = searches_for([network.lower() for network in written])
    assert one == every == 2, (one, every)  # the page's own search, and the titles'
    assert titled_one[written[0].lower()] == written[0]
    assert {key: titled[key] for key in map(str.lower, written)} == {n.lower(): n for n in written}, titled


def test_the_explorer_offers_the_epc_currencies_an_epc_minimum_needs(app, rt):
    # min_epc alone compared €2.00 and ¥150 with a minimum meant in dollars: it now needs epc_currency, which the
    # explorer offered no box for (a filter with no facet): EPC currencies are a facet, and a lone minimum is a 400.
    sign_in(app, rt)
    explorer_programs(rt)
    page = app.get("/programs").text
    assert re.search(r'name="epc_currency" value="USD"', page) and re.search(r'name="epc_currency" value="EUR"', page)
    in_dollars = app.get("/programs?epc_currency=USD&min_epc=1").text
    assert "Explored 0" in in_dollars and "Explored 1" not in in_dollars  # $1.50, not €2.00
    alone = app.get("/programs?min_epc=1")
    assert alone.status_code == 400 and "Minimum EPC needs a currency: tick one under EPC currency" in alone.text


def test_the_explorer_offers_the_three_month_epc_its_sort_minimum_and_currencies_read(app, rt):
    # The EPC sort and minimum read the 7-day EPC only: an Awin programme (a 3-month EPC only) was never found nor
    # ranked by EPC. The explorer offers epc_window beside the sort; the sort, the minimum and the EPC currencies
    # facet say and read the EPC chosen, and the form sends it again.
    sign_in(app, rt)
    explorer_programs(rt)
    page = app.get("/programs").text
    assert re.search(r'<select id="epc_window" name="epc_window"[^>]*>\s*<option value="7d" selected>7 days</option>'
                     r'\s*<option value="90d">3 months</option>', page)
    assert ">EPC (7 days)</option>" in page and ">Minimum EPC (7 days)</label>" in page
    assert not re.search(r'name="epc_currency" value="GBP"[^>]*>\s*<label[^>]*>GBP <span class="count">\(2\)', page)
    quarter = app.get("/programs?epc_window=90d&epc_currency=GBP&min_epc=1&sort=epc").text
    assert ">EPC (3 months)</option>" in quarter and ">Minimum EPC (3 months)</label>" in quarter
    assert re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', quarter) == ["Explored 7"]
    assert '<option value="90d" selected>' in quarter and "epc_window=90d" in resent(quarter)
    counted = app.get("/programs?epc_window=90d").text
    assert re.search(r'name="epc_currency" value="GBP"[^>]*>\s*<label[^>]*>GBP <span class="count">\(2\)', counted)
    unknown = app.get("/programs?epc_window=30d")
    assert unknown.status_code == 400 and "“EPC over” must be one of" in unknown.text


def test_a_filter_naming_no_code_is_refused_listing_the_words_its_boxes_show(app, rt):
    """`/programs?category=hosting` was a 400 listing the category codes while the Category filter shows titles: it
    lists each title with the code the URL takes."""
    sign_in(app, rt)
    refused = app.get("/programs?category=hosting")
    assert refused.status_code == 400, refused.text
    text = html.unescape(refused.text)
    assert "“Category” must be one of Apparel (apparel), " in text and "Hosting & domains (hosting_domains)" in text \
        and "or VPN & security (vpn_security), got 'hosting'" in text, text
    status = html.unescape(app.get("/programs?status=closed").text)
    assert "Possibly closed (closed_suspected)" in status and "got 'closed'" in status, status
    assert app.get("/programs?category=hosting_domains&status=closed_suspected").status_code == 200


def test_the_explorer_shows_the_epc_its_epc_over_select_names_with_its_currency(app, rt):
    # The results had no EPC column, though the page sorts and filters by EPC: sorted by EPC, the figure it sorted
    # by could not be seen. The column shows the EPC of the window "EPC over" names, in its currency, a dash where
    # a program has none (Awin's programme has no 7-day EPC, only a 3-month one).
    sign_in(app, rt)
    explorer_programs(rt)

    def epcs(query: str) -> dict[str, str]:
        page = app.get(f"/programs?q=explored&{query}").text
        return dict(re.findall(r'>(Explored [0-9])</a>.*?<td data-label="EPC \([0-9a-z ]+\)">(.*?)</td>', page, re.S))

    week = app.get("/programs?q=explored").text
    assert '<th scope="col">EPC (7 days)</th>' in week and '<td data-label="EPC (7 days)">' in week
    assert {name: epcs("")[name] for name in ("Explored 0", "Explored 1", "Explored 5", "Explored 7")} == {
        "Explored 0": "1.5 USD", "Explored 1": "2 EUR", "Explored 5": "—", "Explored 7": "0.7 USD"}
    quarter = app.get("/programs?q=explored&epc_window=90d").text
    assert '<th scope="col">EPC (3 months)</th>' in quarter
    assert {name: epcs("epc_window=90d")[name] for name in ("Explored 0", "Explored 1", "Explored 5", "Explored 7")} \
        == {"Explored 0": "1.1 USD", "Explored 1": "—", "Explored 5": "0.8 GBP", "Explored 7": "2.4 GBP"}
    ranked = epcs("epc_window=90d&epc_currency=GBP&sort=epc")
    assert list(ranked.items()) == [("Explored 7", "2.4 GBP"), ("Explored 5", "0.8 GBP")]  # the figures it sorted by


def test_a_currency_ticked_with_its_minimum_counts_what_the_page_lists(app, rt):
    # The searches per filter counted a currency facet without its minimum too (a minimum needs its currency): USD
    # showed every dollar payer beside a list of those paying $30 or more. In the one search the minimum is a range,
    # which holds for every count: the ticked currency counts what the page lists.
    sign_in(app, rt)
    explorer_programs(rt)
    page = app.get("/programs?flat_currency=USD&min_commission_flat=30").text
    usd = re.search(r'name="flat_currency" value="USD"[^>]*>\s*<label[^>]*>USD <span class="count">\((\d+)\)', page)
    assert int(usd.group(1)) == total(page) == 1  # $50, not $25, $20 nor $10


def test_merchant_page_shows_each_accounts_contract_beside_its_network(app, rt):
    """The merchant view and `amx compare` carry each account's contract with the program (Impact's expired, CJ's
    pending), the page did not show it: a person could not see which account may promote the program."""
    sign_in(app, rt)
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", network=network,
                           contract=contract).model_copy(update={"source": source, "connection_id": connection})
               for source, connection, network, contract in (("impact", "impact-a", "impact", "expired"),
                                                             ("cj", "cj", "cj", "not_joined"),
                                                             ("otherdir", "c", None, None))]
    program = indexed_merged(rt, records)
    page = app.get("/merchants/acme.com").text
    networks = {source: shown(cell) for source, cell in re.findall(
        r'<th scope="row"[^>]*>(?:<a [^>]*>)?([^<(]+?) ?(?:\([^<]*)?(?:</a>)?</th>'
        r'.*?<td data-label="Network"[^>]*>(.*?)</td>', page, re.S)}
    assert networks == {"Impact partner API": "Impact account: expired",
                        "CJ Advertiser Lookup API": "CJ account: not joined", "otherdir": "—"}


def test_a_programs_page_says_each_accounts_contract_beside_its_join_link(app, rt):
    """A program's page listed its networks to join with no word of the account's contract, which the merchant page
    shows: Impact's live campaign list says SunnySports' contract `Expired` (no tracking link) and Wine Express'
    `Active`, and the page read "Impact" for one and "Impact: join on Impact" for the other, as if both were open."""
    sign_in(app, rt)
    records = [make_record("Acme", "https://acme.com", commission_text="10% per sale", network=network, join_url=join,
                           contract=contract).model_copy(update={"source": source, "connection_id": source})
               for source, network, join, contract in (("impact", "impact", None, "expired"),
                                                       ("cj", "cj", "https://www.anrdoezrs.net/click-1-2", "joined"),
                                                       ("otherdir", "MaxBounty", None, None))]
    program = indexed_merged(rt, records)
    page = app.get(f"/programs/{program.id}").text
    joins = [shown(item) for item in re.findall(r"<li>(.*?)</li>", re.search(
        r'<ul class="joins">(.*?)</ul>', page, re.S).group(1), re.S)]
    assert sorted(joins) == ["CJ (account: joined): join on CJ", "Impact (account: expired): no join link given",
                             "MaxBounty: no join link given"], joins  # as its source wrote it


def test_a_change_of_an_accounts_contract_alone_reads_as_one(app, rt):
    """Awin's membershipStatus read for the first time changed the program's networks by their contract alone, and its
    page's change history said "Networks: Awin (3) → Awin (3)": a listing shows its contract beside its program id,
    there and in the Networks field, as the merchant page words it."""
    sign_in(app, rt)
    before = normalize(make_record("Affiliate Window", "http://www.affiliatewindow.com", network="awin",
                                   network_program_id="3").model_copy(update={"source": "awin",
                                                                               "connection_id": "awin"}))
    after = before.model_copy(update={"networks": [before.networks[0].model_copy(update={"contract": "joined"})]})
    rt.index.bulk_upsert("programs", [to_document(after)], refresh=True)
    delta = DeltaChange(id="d_awin", program_id=after.id, change="updated", source="awin",
                        at=datetime(2026, 12, 6, 19, 15, tzinfo=UTC),
                        fields=[FieldChange(field="networks", old=[n.model_dump(mode="json") for n in before.networks],
                                            new=[n.model_dump(mode="json") for n in after.networks])])
    rt.index.bulk_upsert("deltas", [delta_document(delta, recorded_at=datetime(2026, 12, 6, 19, 15, tzinfo=UTC))],
                         refresh=True)
    page = app.get(f"/programs/{after.id}").text
    value = re.search(r'<th scope="row" data-label="Field">Networks</th>\s*<td data-label="Value">(.*?)</td>', page, re.S)
    assert value and shown(value.group(1)) == "Awin (3; account: joined)", value and value.group(1)
    assert "Awin (3) → Awin (3; account: joined)" in shown(page), shown(page)


def test_a_programs_page_names_each_claim_by_its_claimant_as_the_merchant_page_does(app, rt):
    """A program's page named each claim by its source alone: two accounts of one network saying different terms read
    "cj: 10%" and "cj: 12%", where the merchant page names them by the source's title and "… (cj-agency)"
    (merge.claimant_name)."""
    sign_in(app, rt)
    records = [make_record("Acme", "https://acme.com", commission_text=terms, network="cj").model_copy(
        update={"source": "cj", "connection_id": connection}) for connection, terms in (("cj", "10% per sale"),
                                                                                       ("cj-agency", "12% per sale"))]
    program = merge(normalize(records[0]), normalize(records[1]))
    rt.index.bulk_upsert("programs", [to_document(program)], refresh=True)
    claims = shown(app.get(f"/programs/{program.id}").text)
    assert "CJ Advertiser Lookup API : 10%" in claims and "CJ Advertiser Lookup API (cj-agency) : 12%" in claims, claims


def test_the_sign_in_page_says_what_the_browser_keeps_and_for_how_long(app):
    """The sign-in page said "this browser keeps it until you sign out": the browser never gets the token, only a
    session of its own, which ends after 12 hours (SESSION_TTL) or when the token is revoked or expires."""
    from affiliate_matrix.auth import SESSION_TTL, SESSIONS_PER_TOKEN

    said = " ".join(re.sub(r"<[^>]+>", " ", app.get("/signin").text).split())
    assert "keeps it until you sign out" not in said, said
    assert "not the token" in said and f"{SESSION_TTL.total_seconds() / 3600:.0f} hours" in said, said
    # and that a token holds a bounded number of sessions, the oldest ended past it, there and when one ended
    assert f"the token signs in {SESSIONS_PER_TOKEN} more times" in said, said
    ended = " ".join(re.sub(r"<[^>]+>", " ", app.get("/signin?refused=1").text).split())
    assert f"the token signed in {SESSIONS_PER_TOKEN} more times since" in ended, ended


def test_a_claim_read_from_a_networks_api_links_the_programs_own_page_never_the_api_request(app, rt):
    """An API source's claim names the request it was read from (Impact's carries the account's SID): no page shows
    that request as the source's page; one whose source gave the program's own page (OfferVault's offer) links it."""
    request = "https://api.impact.com/Mediapartners/IRsecretSID123/Campaigns?Page=1"
    impact = normalize(make_record("Impact Shop", "https://impactshop.com", commission_text="10% per sale")
                       .model_copy(update={"source": "impact", "url": request}))
    offer = "https://offervault.com/offer/77/vault-shop"
    vault = normalize(make_record("Vault Shop", "https://vaultshop.com", commission_text="$5 per lead",
                                  extra={"offer_url": offer})
                      .model_copy(update={"source": "offervault", "url": "https://offervault.com/api/offers/search"}))
    rt.index.bulk_upsert("programs", [to_document(impact), to_document(vault)], refresh=True)
    sign_in(app, rt)
    for page in (app.get(f"/programs/{impact.id}").text, app.get("/merchants/impactshop.com").text):
        assert "IRsecretSID123" not in page and "api.impact.com" not in page
    page = app.get(f"/programs/{vault.id}").text
    assert "/api/offers/search" not in page
    assert f'<a href="{offer}" rel="noopener noreferrer nofollow">page</a>' in page
    # a directory's claim still links the page it was read from
    assert '<a href="https://dir.example.org/p/x/" rel="noopener noreferrer nofollow">page</a>' in \
        app.get(f"/programs/{rt.hosting_id}").text


SECRET = "sk-test-secret-value-98765"


def stored_connection(rt, **fields) -> None:
    """A connection as the store holds it (its last sync and health are the server's: written here as a run would)."""
    from affiliate_matrix.connections import Connection, save_connection

    save_connection(rt.store, Connection.model_validate({"source": "affiliateprograms", **fields}), create=True)


def connections_rows(page: str) -> dict[str, str]:
    """Each connection's row of the Connections page as the words it shows, by the connection's id (its first cell)."""
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>", 1)[-1], re.S)
    said = [shown(row) for row in rows]
    return {words.split(" ", 1)[0]: words for words in said}


def test_the_connections_page_lists_each_connection_with_its_health_and_last_sync_in_words(app, rt):
    stored_connection(rt, id="ap", last_sync={
        "status": "succeeded", "started_at": "2026-12-01T09:58:00Z", "finished_at": "2026-12-01T10:00:05.123456Z",
        "pages": 5, "records": 1234, "errors": [],
        "sitemaps_refused": ["sitemap https://cdn.example/sitemap.xml: on another host than the directory's"]})
    stored_connection(rt, id="awin-main", source="awin", schedule="30 */6 * * *", enabled=False,
                      disabled_reason="paused for the audit", healthy=False,
                      health_reason="the provider refused its credentials at 2026-12-02 07:00 UTC",
                      last_sync={"status": "failed", "started_at": "2026-12-02T07:00:00+00:00",
                                 "finished_at": "2026-12-02T07:01:00+00:00", "pages": 1, "records": 0,
                                 "errors": ["list https://api.awin.com/publishers/ACCOUNT/programmes: HTTP 401"]})
    stored_connection(rt, id="fresh")
    stored_connection(rt, id="odd", schedule="0 3 L * *")
    sign_in(app, rt)
    page = app.get("/connections")
    assert page.status_code == 200
    rows = connections_rows(page.text)
    assert set(rows) == {"ap", "awin-main", "fresh", "odd"}, rows
    ap, awin = rows["ap"], rows["awin-main"]
    for said in ("AffiliatePrograms.com", "Enabled", "every day at 03:00 UTC", "0 3 * * *", "Healthy",
                 "Succeeded 2026-12-01 10:00 UTC", "1,234 listings read from 5 pages",
                 "Sitemaps refused, read without: sitemap https://cdn.example/sitemap.xml"):
        assert said in ap, (said, ap)
    assert "failed" not in ap  # a sitemap refused is no failure of the run
    for said in ("Awin publisher API", "Disabled: paused for the audit", "every 6 hours from 00:30 UTC",
                 "30 */6 * * *",
                 "Unhealthy: the provider refused its credentials at 2026-12-02 07:00 UTC", "Failed 2026-12-02 07:01 UTC",
                 "0 listings read from 1 page; 1 failed",
                 "list https://api.awin.com/publishers/ACCOUNT/programmes: HTTP 401"):
        assert said in awin, (said, awin)
    assert "Never synced" in rows["fresh"]
    assert "Enabled 0 3 L * * Healthy" in rows["odd"], rows["odd"]  # a cron the words cannot say: its text alone
    # the page, its title and the nav name what it lists, as `amx connections` and the README do (it said "Sources",
    # the word `amx sources list` uses for plugins)
    assert '<a href="/connections" aria-current="page">Connections</a>' in page.text
    assert "<h1>Connections</h1>" in page.text and "<title>Connections" in page.text


def test_a_failed_syncs_message_quoting_a_key_is_shown_without_it_whatever_the_sessions_role(app, rt):
    """A failure recorded before runs named their requests without credentials (or by one that named less) quotes the
    key a request carried: the page shows it as the connections API shows it to a read token, to an admin's session
    too, and a base_url stored with a key in its query (before writes refused one) is nowhere on it."""
    stored_connection(rt, id="cj-main", source="cj", base_url=f"https://cj.example.com/?api_key={SECRET}",
                      last_sync={"status": "failed", "errors": [
                          f"list https://advertiser-lookup.api.cj.com/v2?requestor-cid=ACCOUNT&api_key={SECRET}: HTTP "
                          f"500", f"page https://robot:{SECRET}@cj.example.com/feed: refused"]})
    sign_in(app, rt, "admin")
    page = app.get("/connections").text
    assert SECRET not in page
    row = connections_rows(page)["cj-main"]
    assert "requestor-cid=ACCOUNT&api_key=[redacted]: HTTP 500" in row and "robot:[redacted]@" in row, row
    assert "Failed" in row and "2 failed" in row, row


def test_a_damaged_stored_connection_is_named_as_damaged_and_the_others_still_list(app, rt):
    stored_connection(rt, id="ap")
    rt.store.put("connections/broken.json", b'{"id": "broken", "source": "affiliateprograms", "rate_limit_per_s": 0}')
    rt.store.put("connections/cut.json", b'{"id": "cut", "sour')
    sign_in(app, rt)
    page = app.get("/connections")
    assert page.status_code == 200
    assert set(connections_rows(page.text)) == {"ap"}
    said = shown(page.text)
    for key in ("connections/broken.json", "connections/cut.json"):
        assert f"The stored connection {key} is damaged" in said, said
    assert "rate_limit_per_s: 0.0 requests a second is outside 0.01 to 50" in said  # what is wrong, as the API says
    assert "or delete it and create it again" in said  # and how to mend it


def test_the_connections_page_needs_a_session(app, rt):
    stored_connection(rt, id="ap")
    answer = app.get("/connections")
    assert answer.status_code == 303 and answer.headers["Location"] == "/signin?next=%2Fconnections"
    assert "ap" not in answer.text


def test_the_connections_page_follows_the_apis_rule_for_who_may_read_connections(app, rt, monkeypatch):
    """Were the connections API's listing to need an admin token, a read token's session would be refused the page
    in the same words (a 403 page, not the sign-in: the session is valid), and an admin's shown it."""
    monkeypatch.setattr("affiliate_matrix.web.connections.needed_role", lambda: "admin")
    stored_connection(rt, id="ap")
    sign_in(app, rt)
    refused = app.get("/connections")
    assert refused.status_code == 403 and "this needs an admin token" in html.unescape(refused.text)
    assert "ap" not in connections_rows(refused.text) and "Sign out" in refused.text  # signed in all the same
    sign_in(app, rt, "admin")
    assert set(connections_rows(app.get("/connections").text)) == {"ap"}


def stored_rule(rt, state: dict | None = None, **fields) -> None:
    """A rule as the store holds it (written as `amx rules add` would, unchecked here), and its state as the engine
    writes it."""
    import json

    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule, state_key

    rule = Rule.model_validate({"trigger": {"event": "program.delta"}, "condition": "true",
                                "action": {"type": "alert", "params": {"text": "changed"}}, **fields})
    save_rule(rt.store, rule, create=True)
    if state is not None:
        rt.store.put(state_key(rule.id), json.dumps(state).encode(), content_type="application/json")


def rules_rows(page: str) -> dict[str, str]:
    """Each rule's row of the Rules page as the words it shows, each cell's after its label (as a phone shows it: its
    data-label), by the rule's id (its first cell)."""
    labelled = re.sub(r'<t[hd] scope="row" data-label="[^"]*">|<td data-label="([^"]*)">',
                      lambda m: f" {m.group(1)}: " if m.group(1) else "", page.split("<tbody>", 1)[-1])
    return connections_rows("<tbody>" + labelled)


def test_the_rules_page_lists_each_rule_with_its_trigger_action_state_and_warnings_in_words(app, rt):
    stored_rule(rt, id="commission-up", description="Tell us when a commission rises",
                condition='delta.commission_new > delta.commission_old && program.name != "<b>x</b>"',
                action={"type": "alert", "params": {"severity": "warning", "text": "{program_name} pays more"}},
                state={"last_fired_at": "2026-12-01T10:00:05.123456+00:00", "failures": 0})
    stored_rule(rt, id="nightly-resync", trigger={"schedule": "0 3 * * *"}, condition="true", cooldown_s=7200,
                action={"type": "resync", "params": {"connection_id": "ap"}}, enabled=False,
                disabled_reason="raised 3 times; last: EvalError: no such key 'stats'",
                state={"last_fired_at": None, "failures": 3, "last_error": "EvalError: no such key 'stats'"})
    stored_rule(rt, id="flaky", state={"last_fired_at": None, "failures": 1,
                                       "last_error": "EvalError: division by zero"})
    stored_rule(rt, id="old-relay", action={"type": "notify", "params": {
        "webhook_url": "https://amx:s3cr3t-pw@hooks.example.com/services/T0/B0"}})
    sign_in(app, rt)
    page = app.get("/rules")
    assert page.status_code == 200
    rows = rules_rows(page.text)
    assert set(rows) == {"commission-up", "nightly-resync", "flaky", "old-relay"}, rows
    up, nightly = rows["commission-up"], rows["nightly-resync"]
    for said in ("Tell us when a commission rises", "Enabled", "A program changed (program.delta)",
                 'delta.commission_new > delta.commission_old && program.name != "<b>x</b>"',  # the CEL as written
                 "Record an alert", "Severity: warning", "Text: {program_name} pays more", "Cool-down: 3,600 s",
                 "Last fired 2026-12-01 10:00 UTC", "Needs a change: Nothing"):
        assert said in up, (said, up)
    assert "Failed" not in up and "Enabled: Enabled" in up and "Trigger: A program changed" in up
    for said in ("Disabled: raised 3 times; last: EvalError: no such key 'stats'", "On a schedule: every day at 03:00 UTC",
                 "Sync a connection again", "Connection: ap", "Cool-down: 7,200 s", "Never fired",
                 "Failed 3 times in a row (disabled at 3); last: EvalError: no such key 'stats'"):
        assert said in nightly, (said, nightly)
    assert "Failed 1 time in a row (disabled at 3); last: EvalError: division by zero" in rows["flaky"]
    relay = rows["old-relay"]
    assert "Post to a webhook" in relay and "Webhook: https://hooks.example.com/…" in relay, relay
    assert "action.params.webhook_url holds credentials (user:password@)" in relay, relay  # its warning, in words
    assert "<b>x</b>" not in page.text  # the condition escaped, shown as text
    # codes in words
    assert "Action: Sync a connection again Connection: ap" in nightly and "Action: Record an alert" in up
    assert '<a href="/rules" aria-current="page">Rules</a>' in page.text  # the nav names it
    assert "<form" not in page.text.split("</header>", 1)[1]  # nothing on it changes anything


def test_a_disabled_rule_needs_a_change_on_the_rules_page(app, rt):
    """The demo's rule was shown "Disabled: its webhook is a placeholder…" beside "Needs a change: Nothing" (the
    column said only what a rule needs changed though it still runs): a disabled rule never acts, so the column says
    what it needs, beside any change it would need once enabled."""
    stored_rule(rt, id="demo-commission-raised", enabled=False, action={"type": "notify", "params": {
        "webhook_url": "https://hooks.slack.com/services/amx-demo"}},
        disabled_reason="the demo's rule: its webhook is a placeholder; give it yours and amx rules add --replace to use it")
    stored_rule(rt, id="old-relay", enabled=False, disabled_reason="disabled by hand", action={
        "type": "notify", "params": {"webhook_url": "https://amx:s3cr3t-pw@hooks.example.com/services/T0/B0"}})
    stored_rule(rt, id="paused", enabled=False, disabled_reason="paused for the sale week")
    stored_rule(rt, id="running")
    sign_in(app, rt)
    rows = rules_rows(app.get("/rules").text)
    # the demo's said to run `amx rules enable`, which refuses it until its webhook is changed: what to change first
    enabling = ("Needs a change: It never acts while disabled: first make the change below (enabling it is refused "
                "while its webhook or key is one it could not use), then enable it with amx rules enable")
    demo, relay = rows["demo-commission-raised"], rows["old-relay"]
    assert f"{enabling} demo-commission-raised action.params.webhook_url is the demo's placeholder, which posts to no " \
           "one" in demo and "Nothing" not in demo, demo
    assert f"{enabling} old-relay" in relay, relay
    assert "action.params.webhook_url holds credentials (user:password@)" in relay, relay
    assert ("Needs a change: It never acts while disabled: change what disabled it, then enable it with amx rules "
            "enable paused") in rows["paused"], rows["paused"]  # nothing else to change first
    assert "Needs a change: Nothing" in rows["running"], rows["running"]


def test_a_rules_webhook_and_its_key_are_shown_to_no_session_whatever_its_role(app, rt, monkeypatch):
    """A webhook's address is its credential, and a notify's key is sent in a header: the page shows a rule as the
    rules API shows it to a read token (the webhook's host alone, the key's path, never its value), to an admin's
    session too, and a stored user:password@ is nowhere on it. What a key needs is said from its record alone: the
    page reads no secret of webhooks/, which the web function's Vault policy (fn-web.hcl) does not grant."""
    from affiliate_matrix.keys import KeyRecord, add_key, origin
    from affiliate_matrix.secrets.local import LocalSecretStore

    add_key(rt, KeyRecord(path="webhooks/relay", rotation="manual", created_at=datetime(2026, 12, 1, tzinfo=UTC),
                          origins=[origin("https://relay.example.com")]), {"value": f"Bearer {SECRET}"})
    stored_rule(rt, id="relay", action={"type": "notify", "params": {
        "webhook_url": "https://relay.example.com/hooks/T0SECRETPATH", "auth_key": "webhooks/relay",
        "auth_header": "X-Relay-Token"}})
    stored_rule(rt, id="elsewhere", action={"type": "notify", "params": {
        "webhook_url": f"https://bot:{SECRET}@other.example.com/T1SECRETPATH", "auth_key": "webhooks/relay"}})
    read, reads = LocalSecretStore.read, []
    monkeypatch.setattr(LocalSecretStore, "read", lambda store, path, *args, **kwargs: (
        reads.append(path), read(store, path, *args, **kwargs))[1])
    sign_in(app, rt, "admin")
    page = app.get("/rules").text
    assert SECRET not in page and "SECRETPATH" not in page
    assert reads and not [path for path in reads if path.startswith("webhooks/")], reads
    rows = rules_rows(page)
    relay, elsewhere = rows["relay"], rows["elsewhere"]
    for said in ("Webhook: https://relay.example.com/…", "Webhook's key: webhooks/relay",
                 "Key sent in header: X-Relay-Token", "Needs a change: Nothing"):
        assert said in relay, (said, relay)
    assert "Webhook: https://other.example.com/…" in elsewhere, elsewhere
    # its key is for another origin: said from the key's record, as GET /rules says it
    assert "is sent only to https://relay.example.com, not to https://other.example.com" in elsewhere, elsewhere


def test_a_damaged_stored_rule_is_named_as_damaged_and_the_others_still_list(app, rt):
    stored_rule(rt, id="ok")
    stored_rule(rt, id="fresh-state")
    rt.store.put("rules/broken.json", b'{"id": "broken", "trigger": {}, "condition": "true", '
                                      b'"action": {"type": "alert"}}')
    rt.store.put("rules/cut.json", b'{"id": "cut", "trig')
    rt.store.put("rules/state/fresh-state.json", b'{"failures": "many"}')
    sign_in(app, rt)
    page = app.get("/rules")
    assert page.status_code == 200
    rows = rules_rows(page.text)
    assert set(rows) == {"ok", "fresh-state"}, rows
    said = shown(page.text)
    for key in ("rules/broken.json", "rules/cut.json"):
        assert f"The stored rule {key} is damaged" in said, said
    assert "give exactly one of event or schedule" in said  # what is wrong, as the API says
    assert ("The stored state rules/state/fresh-state.json is damaged and cannot be shown: not a rule's state (its "
            "last_fired_at a time, its failures a count of 0 or more) It starts afresh at its next evaluation.") \
        in rows["fresh-state"], rows["fresh-state"]
    assert "Never fired" in rows["ok"]


def test_a_stored_rule_state_of_negative_failures_is_named_as_damaged_not_shown_as_a_count(app, rt):
    """A state counting -5 failures in a row (a hand edit, a restore) was shown as "Failed -5 times in a row": no count
    of failures is below 0, so the state is damaged, named as the page names a damaged rule (its key, what is wrong);
    the engine starts it afresh (a rule counting from -5 took 8 failures to disable, not 3)."""
    stored_rule(rt, id="negative", state={"last_fired_at": None, "failures": -5, "last_error": "EvalError: x"})
    sign_in(app, rt)
    row = rules_rows(app.get("/rules").text)["negative"]
    assert "Failed" not in row and "-5" not in row, row
    assert "The stored state rules/state/negative.json is damaged and cannot be shown" in row, row


def test_a_stored_rules_hostile_description_and_unreadable_schedule_are_shown_as_text(app, rt):
    """A rule stored past the API's checks (a restore, a hand edit): a schedule holding a number of over 4,300 digits
    (its model checks five fields only) was a 500, schedule_words' int() raising ValueError; it is shown as its cron.
    Its description is text, escaped."""
    long_schedule = "0 " + "1" * 5000 + " * * *"
    stored_rule(rt, id="hostile", description=HOSTILE, trigger={"schedule": long_schedule})
    sign_in(app, rt)
    page = app.get("/rules")
    assert page.status_code == 200, page.text[:300]
    assert '<script>alert("x")' not in page.text and "&lt;script&gt;" in page.text
    assert f"On the schedule {long_schedule} (UTC)" in rules_rows(page.text)["hostile"]


@pytest.mark.parametrize(("path", "rows", "empty"), [
    ("/connections", connections_rows, ("No connection yet", "amx connections add ID --source SOURCE")),
    ("/rules", rules_rows, ("No rule yet", "amx rules add FILE"))])
def test_the_sources_and_rules_pages_with_nothing_stored_say_how_to_add_one(app, rt, path, rows, empty):
    sign_in(app, rt)
    page = app.get(path)
    said = shown(page.text)
    assert page.status_code == 200 and not rows(page.text)
    assert all(words in said for words in empty), said


def test_the_rules_page_needs_a_session_and_signing_in_leads_back_to_it(app, rt):
    stored_rule(rt, id="commission-up")
    answer = app.get("/rules")
    assert answer.status_code == 303 and answer.headers["Location"] == "/signin?next=%2Frules"
    assert "commission-up" not in answer.text
    token = create_token(rt.secrets, "read")
    signed = app.post("/signin", data={"token": token, "csrf": csrf_of(app), "next": "/rules"})
    assert signed.status_code == 303 and signed.headers["Location"] == "/rules"
    assert set(rules_rows(app.get("/rules").text)) == {"commission-up"}


def test_the_rules_page_follows_the_apis_rule_for_who_may_read_rules(app, rt, monkeypatch):
    """Were the rules API's listing to need an admin token, a read token's session would be refused the page in the
    same words as the Connections page refuses (a 403 page, not the sign-in: the session is valid), and an admin's shown
    it. The role is the API's own listing route's."""
    from affiliate_matrix.web.rules import needed_role

    assert needed_role() == "read"
    monkeypatch.setattr("affiliate_matrix.web.rules.needed_role", lambda: "admin")
    stored_rule(rt, id="commission-up")
    sign_in(app, rt)
    refused = app.get("/rules")
    assert refused.status_code == 403 and "this needs an admin token" in html.unescape(refused.text)
    assert "commission-up" not in rules_rows(refused.text) and "Sign out" in refused.text
    sign_in(app, rt, "admin")
    assert set(rules_rows(app.get("/rules").text)) == {"commission-up"}


def test_the_explorer_filters_by_deep_links_and_bounds_by_the_average_payment_days(app, rt):
    # What networks say of deep links and paying was shown on a program's page only: the Deep links facet ticks
    # allowed or not allowed with their counts, and "Pays within (days, on average)" bounds the list (a program with
    # no figure is not listed); a value the search refuses is said by its field's label, the form kept.
    from decimal import Decimal

    sign_in(app, rt)
    made = []
    for name, days, allowed in [("Quick Link", "20", True), ("Slow Link", "60", True), ("No Link", "25", False)]:
        program = make_program(name, f"https://{name.replace(' ', '').lower()}.com")
        program.average_payment_days, program.deeplinks_allowed = Decimal(days), allowed
        made.append(to_document(program))
    rt.index.bulk_upsert("programs", made, refresh=True)
    page = app.get("/programs").text
    assert re.search(r'<legend>Deep links</legend>\s*<div class="check">\s*<input[^>]*name="deeplinks" value="allowed"'
                     r'>\s*<label[^>]*>Allowed <span class="count">\(2\)</span>', page), page
    assert re.search(r'name="deeplinks" value="not_allowed">\s*<label[^>]*>Not allowed <span class="count">\(1\)',
                     page)
    assert re.search(r'<label for="max_payment_days">Pays within \(days, on average\)</label>\s*'
                     r'<input id="max_payment_days" name="max_payment_days" type="number" min="0"', page)
    listed = app.get("/programs?deeplinks=allowed&max_payment_days=30").text
    assert re.findall(r'<a href="/programs/p_[0-9a-f]{16}">([^<]+)</a>', listed) == ["Quick Link"]
    assert re.search(r'name="deeplinks" value="allowed" checked>', listed)
    assert re.search(r'name="max_payment_days" type="number"[^>]*value="30"', listed)
    assert "Filters (2 in use)" in listed
    refused = app.get("/programs?max_payment_days=-2")
    assert refused.status_code == 400
    assert "“Pays within (days, on average)” must be a number of at least 0" in html.unescape(refused.text)
    wrong = app.get("/programs?deeplinks=maybe")
    assert wrong.status_code == 400
    assert "“Deep links” must be one of Allowed (allowed) or Not allowed (not_allowed), got 'maybe'" in html.unescape(
        wrong.text)
