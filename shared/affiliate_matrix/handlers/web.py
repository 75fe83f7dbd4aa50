"""web: the programs index as server-rendered HTML pages, over the programs API's own code.

GET  /signin, POST /signin    paste an API token once; the browser gets a session of its own (auth.open_session:
                              at most 12 h, never past the token's expiry; never the token itself) in an
                              HttpOnly, SameSite=Strict cookie (Secure and named __Host-… except on loopback,
                              where its name carries the port),
                              checked afresh with its token on every request, so a revoked or expired token
                              signs the browser out at its next click
POST /signout                 end the session (its record removed: a copy of the cookie is refused too)
GET  /programs                search, facets, minimums, sorts, cursor paging (the URL is the state)
GET  /programs/export         the current result as CSV, JSONL or Parquet (the API's export)
GET  /programs/{id}           every field with each source's claim, terms verbatim beside parsed,
                              the program's change history and join links
GET  /merchants?q=            merchants whose programs match, with their networks, paged by cursor
GET  /merchants/{key}         one merchant across networks and directories, best terms, disagreements
GET  /changes                 the change feed, filtered by field, change type and since
GET  /graph?merchant=|q=      merchants, networks and sources as an SVG graph
GET  /connections             the sources' connections ("Connections"), read-only: enabled, schedule, health and the
                              last sync's outcome, as the connections API lists them to a read token
GET  /rules                   the trigger rules, read-only: trigger, condition, action, state and what each needs
                              changed, as the rules API lists them to a read token
GET  /assets/<file>           the stylesheet and the one script

Every form that changes something carries a CSRF token (double-submit: a random HttpOnly cookie
and the same value in the form, plus an Origin check). Every answer is sent with a CSP that allows no
inline script or style.
"""

import hmac
import ipaddress
import re
import secrets
import time
from importlib import resources
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import dump_cookie

from affiliate_matrix import flags
from affiliate_matrix.auth import (SESSION_TTL, SESSIONS_PER_TOKEN, close_replaced_session, close_session, open_session,
                                   session_token_id)
from affiliate_matrix.errors import (AccessDenied, ContentTooLarge, DamagedData, InvalidInput, MethodNotAllowed,
                                     NotFoundError, Unauthorized)
from affiliate_matrix.handlers import check_content_coding, query_of, serve, utf8_urlencoded
from affiliate_matrix.observability import get_logger
from affiliate_matrix.web import render

SESSION, CSRF = "amx_session", "amx_csrf"  # __Host-amx_… where cookies are Secure, amx_…_<port> on loopback (Page)
SESSION_SECONDS = int(SESSION_TTL.total_seconds())  # the cookie's life, the session's on the server
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
_TOKEN_SHAPE = r"^amx_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$"  # compiled by re at the first sign-in
FORM_LIMIT = 8 * 1024
# Every answer's, pages and the shared error handling's alike (a 405, a 503 while the index is down)
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


# Where the cookies are Secure the site is HTTPS (on_https): a browser sent to http:// of it asks over HTTPS alone
# then, so nobody on the path answers a plain request with a sign-in page of their own
HSTS = "max-age=31536000"


# Titles of the pages that say what the shared error handling answered (serve: a 503 while the index is down, a 500 of
# a fault no route foresaw, a 405): a person reading the explorer got its JSON
SHARED_ERROR_TITLES = {405: "Not a way this page is asked for", 408: "The request stopped coming",
                       500: "Something went wrong", 503: "Not available right now"}


def handle(rt, request):
    body, status, headers = serve(rt, request, lambda r: route(rt, r))
    if status in SHARED_ERROR_TITLES and headers.get("Content-Type") == "application/json" and \
            request.path not in ("/healthz", "/metrics"):  # a machine's endpoints keep their JSON
        body, status, headers = shared_error_page(request, body, status, headers)
    for name, value in PAGE_HEADERS.items():
        headers.setdefault(name, value)  # a static file keeps its own Cache-Control
    if on_https(request):
        headers["Strict-Transport-Security"] = HSTS
    return body, status, headers


def _host_and_port(request) -> tuple[str, str]:
    """The request's Host as its host and its port ('' when it names none): [::1] is cut at its bracket (werkzeug
    leaves out http's port 80, so an IPv6 address's last colon is inside it)."""
    host, port = request.host, ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif ":" in host:
        host, _, port = host.rpartition(":")
    return host, port


def on_https(request) -> bool:
    """Whether the browser reaches this site over HTTPS: everywhere but a browser on this machine talking to a
    loopback address (where the cookies are not Secure: Page.prefix). TLS ends at the ingress in front of Knative,
    which forwards plain HTTP, so the scheme the function sees says nothing."""
    host = _host_and_port(request)[0]
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        return not (loopback and ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback)
    except ValueError:
        return True


def route(rt, request):
    page = Page(request)
    try:
        return dispatch(rt, request, page)
    except Unauthorized:
        if request.path == "/signin":
            raise
        refused = bool(page.cookie_value(SESSION))  # a session whose token was revoked or expired
        return page.redirect("/signin?" + render.encode({"next": request.full_path.rstrip("?"),
                                                        "refused": "1" if refused else None}), forget=True)
    except InvalidInput as exc:  # a form past its limit: 413, as the APIs answer a body past theirs
        return page.render("error.html", 413 if isinstance(exc, ContentTooLarge) else 400,
                           title="That request is not valid", message=str(exc), back=came_from(request))
    except AccessDenied as exc:  # a page the session's token may not read through the API either
        page.signed_in = True  # its session was checked: only its token's role fell short
        return page.render("error.html", 403, title="Not for this token", message=str(exc), back=came_from(request))
    except NotFoundError as exc:
        return page.render("error.html", 404, title="Not found", message=str(exc), back=came_from(request))
    except DamagedData as exc:  # a program of the index not of its shape: named, as the API names it
        get_logger().error("request.damaged_data", where=exc.where, error=str(exc))
        return page.render("error.html", 500, title="Stored data is damaged", message=str(exc),
                           back=came_from(request))


def shared_error_page(request, body: str, status: int, headers: dict) -> tuple:
    """The shared error handling's JSON answer (serve) as the explorer's error page: its message and request id, its
    headers kept (Retry-After, X-Request-Id, a 405's Allow)."""
    import json

    said = json.loads(body)["error"]
    page = Page(request)
    page.headers.update({name: value for name, value in headers.items() if name != "Content-Type"})
    return page.render("error.html", status, title=SHARED_ERROR_TITLES[status], message=said["message"],
                       request_id=said["request_id"], back=came_from(request))


def came_from(request) -> str:
    """Where an error page's Back link goes: the page of this site the browser came from (its Referer, sent only
    within the site: PAGE_HEADERS' Referrer-Policy), with its query, so the filters set there are kept; the programs
    where there is none, it is another site's, or it is the page that failed (no way back that fails again)."""
    return page_came_from(request) or "/programs"


def page_came_from(request) -> str | None:
    """The page of this site the browser came from (came_from's), None where there is none."""
    referer = urlsplit(request.headers.get("Referer", ""))
    back = render.local_path(referer.path + (f"?{referer.query}" if referer.query else ""))
    # the failed page's path as Werkzeug read it, percent-decoded ("/merchants/Bad Key" for the Referer's Bad%20Key)
    failed = unquote(referer.path) == request.path and referer.query == request.query_string.decode("latin-1")
    return back if referer.netloc == request.host and not failed else None


LISTS = {"/programs": "Programs", "/merchants": "Merchants"}


def list_opened_from(request, lists: tuple[str, ...]) -> dict[str, str]:
    """The crumb of a program's or a merchant's page: the list of `lists` it was opened from, filters and all (its
    Referer's: the "Programs" crumb led to the whole list), else the whole of the first, the list the nav marks it
    under (a merchant's page opened from the Merchants list said "Programs" while the nav marked Merchants)."""
    back = page_came_from(request) or ""
    listed = urlsplit(back).path
    return {"name": LISTS[listed], "href": back} if listed in lists else {"name": LISTS[lists[0]], "href": lists[0]}


def dispatch(rt, request, page):
    path = request.path
    if path.startswith("/assets/"):
        return static(path.removeprefix("/assets/"))
    if path == "/signin":
        return sign_in(rt, request, page)
    if path == "/signout":
        if request.method != "POST":  # a GET changes nothing, and /signout is a form's, not a page
            raise MethodNotAllowed(request.method, ("POST",))
        page.check_csrf()
        close_session(rt, page.cookie_value(SESSION))
        return page.redirect("/signin", forget=True)
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    needed = "read"
    if path == "/connections":  # for the sessions whose token may list connections in the API: the same rule
        from affiliate_matrix.web import connections

        needed = connections.needed_role()
    elif path == "/rules":  # for the sessions whose token may list rules in the API: the same rule
        from affiliate_matrix.web import rules

        needed = rules.needed_role()
    # every request: an ended session, or a revoked or expired token, is refused now
    token_id = session_token_id(rt, page.cookie_value(SESSION), needed=needed)
    flags.bind(rt.flags.config, token_id)  # the same flag buckets as the token's API calls
    page.signed_in = True
    args = render.filled(query_of(request))
    if path in ("/", ""):
        return page.redirect("/programs")
    if path == "/connections":  # read from the store alone: not the index, which the pages below ensure
        return page.render("connections.html", **connections.connections_page(rt))
    if path == "/rules":  # the store alone too
        return page.render("rules.html", **rules.rules_page(rt))
    # The index's pages, through the programs API's code: loaded here, so signing in (a browser's first
    # request, the function's cold start) does not.
    from affiliate_matrix.handlers import programs as api
    from affiliate_matrix.program_index import in_lower_case, is_program_id
    from affiliate_matrix.web import pages

    api._ensure_indexes(rt)
    if path == "/programs":
        started = time.perf_counter()
        try:
            context = pages.search_page(rt, args)
        except InvalidInput as refusal:  # shown in the page, its form as sent: nothing typed is lost
            return page.render("programs.html", 400, **pages.refused_search_page(rt, args, refusal))
        # recorded like the API's searches: the analysis warms and snapshots what people ask here too
        api.recorder(rt).record(path, context["search_args"], (time.perf_counter() - started) * 1000,
                                context["result"]["total"], 200)
        return page.render("programs.html", **context)
    if path == "/programs/export":
        body, status, headers = api.export(rt, args, request.method == "HEAD")
        return body, status, Headers({**headers, "Cache-Control": "no-store"})
    program_id = path.removeprefix("/programs/")
    if program_id and program_id != path and "/" not in program_id:
        # an id of no program's shape is refused as the API refuses it (a 400 naming it cut and escaped: a NUL or a
        # bidi override is never shown as it is), in the page's terms: the API's parameter program_id was never typed
        if not is_program_id(program_id):
            raise InvalidInput(f"{program_id[:40]!r} is not a program's id: an id is p_ and 16 hex digits, as the "
                               f"Programs page links each program{in_lower_case(program_id)}")
        try:
            context = pages.program_page(rt, program_id)
        except NotFoundError:  # its id moved: the API's redirect, to this site's page of the id now
            _, status, headers = api.moved_program(rt, request, program_id)
            return page.redirect(headers["Location"], status=status)
        return page.render("program.html", crumb=list_opened_from(request, ("/programs",)), **context)
    if path == "/merchants":
        try:
            return page.render("merchants.html", **pages.merchants_page(rt, args))
        except InvalidInput as refusal:  # shown in the page, its words as sent, as the programs page does
            return page.render("merchants.html", 400, args=args,
                               refusal=pages.labelled(refusal, {"q": "Merchants with programs matching"}))
    merchant_key = path.removeprefix("/merchants/")
    if merchant_key and merchant_key != path and "/" not in merchant_key:  # /merchants/ names none, as /programs/
        return page.render("merchant.html", crumb=list_opened_from(request, ("/merchants", "/programs")),
                           **pages.merchant_page(rt, merchant_key))
    if path == "/changes":
        try:
            return page.render("changes.html", **pages.changes_page(rt, args))
        except InvalidInput as refusal:  # shown in the page, its form as sent, as the programs page does
            return page.render("changes.html", 400, **pages.refused_changes_page(args, refusal))
    if path == "/graph":
        try:
            return page.render("graph.html", **pages.graph_page(rt, args))
        except InvalidInput as refusal:  # shown in the page, its form as sent, as the programs page does
            return page.render("graph.html", 400, **pages.refused_graph_page(args, refusal))
    raise NotFoundError(f"there is no page at {path}")


def sign_in(rt, request, page):
    if request.method in ("GET", "HEAD"):
        args = query_of(request)
        return signin_page(page, next=render.local_path(render.once(args, "next")), refused="refused" in args)
    if request.method != "POST":
        raise MethodNotAllowed(request.method, ("GET", "HEAD", "POST"))
    page.check_csrf()  # before anything else of the form is read
    next_path = render.local_path(render.once(page.form, "next"))
    token = (render.once(page.form, "token") or "").strip()
    if not re.match(_TOKEN_SHAPE, token):
        return signin_page(page, 400, next=next_path,
                           error="That is not an API token: it looks like amx_<12 hex digits>_<43 characters> "
                                 "(create one with `amx tokens create --role read`).")
    try:
        session = open_session(rt, token)
    except Unauthorized as exc:
        return signin_page(page, 401, next=next_path, error=str(exc))
    close_replaced_session(rt, page.cookie_value(SESSION))  # the browser's earlier session ends here, not at its 12 h
    return page.redirect(next_path, session=session)


def signin_page(page, status: int = 200, **context):
    """The sign-in page, saying how long a session lasts."""
    return page.render("signin.html", status, sessions_per_token=SESSIONS_PER_TOKEN, **context)


def static(name: str):
    if name not in STATIC:
        raise NotFoundError(f"no static file {name[:80]!r}")
    body = resources.files("affiliate_matrix.web").joinpath("static", name).read_bytes()
    return body, 200, Headers({"Content-Type": STATIC[name], "Cache-Control": "public, max-age=300"})


class Page:
    """One answer's headers and cookies, and the HTML it renders."""

    def __init__(self, request):
        self.request, self.signed_in, self.form = request, False, MultiDict()
        # A Secure cookie is named __Host-…: a browser takes it only when Secure, with Path=/ and no Domain, so a
        # sibling subdomain can neither set nor shadow it. Plain HTTP on loopback cannot use the prefix; there the
        # name carries the port instead: a browser sends a host's cookies to each of its ports (RFC 6265 §8.5), so two
        # runs on 127.0.0.1 read each other's session (refusing it, they signed the other out) and CSRF cookies.
        self.prefix = "__Host-" if on_https(request) else ""
        port = _host_and_port(request)[1]
        self.suffix = f"_{port}" if not self.prefix and port.isascii() and port.isdigit() else ""
        self.headers = Headers(PAGE_HEADERS)
        csrf = self.cookie_value(CSRF) or ""
        self.csrf = csrf if re.fullmatch(r"[A-Za-z0-9_-]{43}", csrf) else secrets.token_urlsafe(32)
        if self.csrf != csrf:
            self.cookie(CSRF, self.csrf)

    def origin(self) -> str:
        """This site's origin as its browser names it. Where the cookies are Secure the browser is on HTTPS (no other
        page keeps one), whatever scheme reached the function: TLS ends at the ingress in front of Knative, which
        forwards plain HTTP."""
        return f"https://{self.request.host}" if self.prefix else self.request.host_url.rstrip("/")

    def cookie_value(self, name: str) -> str | None:
        """This site's cookie of that name: only the __Host- one where cookies are Secure, its port's on loopback."""
        return self.request.cookies.get(self.prefix + name + self.suffix)

    def cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        self.headers.add("Set-Cookie", dump_cookie(self.prefix + name + self.suffix, value, max_age=max_age, path="/",
                                                   httponly=True, secure=bool(self.prefix), samesite="Strict"))

    def check_csrf(self) -> None:
        """The form's token equals the cookie's, and a browser that names the origin names this one; the form
        is read here (self.form)."""
        if self.request.mimetype != "application/x-www-form-urlencoded":  # a multipart body spools files to disk
            raise InvalidInput("send the form as application/x-www-form-urlencoded, as this site's pages do")
        check_content_coding(self.request, "the form")  # its coded bytes were read as the form, 'not UTF-8'
        # read here, no further than the limit: a body in chunks has no Content-Length to check first
        declared = self.request.content_length or 0
        if declared > FORM_LIMIT or len(raw := self.request.stream.read(FORM_LIMIT + 1)) > FORM_LIMIT:
            raise ContentTooLarge(f"the form is larger than {FORM_LIMIT} bytes")
        utf8_urlencoded(raw)  # else read with U+FFFD for what it held: a `next` of /programs%FF led to a 404
        self.form = MultiDict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        origin = self.request.headers.get("Origin")
        if origin is not None and origin != self.origin():
            raise InvalidInput(f"the form was sent from another origin ({origin[:80]})")
        sent, kept = (render.once(self.form, "csrf") or "").encode(), (self.cookie_value(CSRF) or "").encode()
        if not kept or not hmac.compare_digest(sent, kept):  # bytes: compare_digest refuses non-ASCII text
            raise InvalidInput("the form's CSRF token is missing or stale: reload the page and send it again")

    def redirect(self, location: str, session: str | None = None, forget: bool = False, status: int = 303):
        if session is not None:
            self.cookie(SESSION, session, max_age=SESSION_SECONDS)
        elif forget:
            self.cookie(SESSION, "", max_age=0)
        self.headers["Location"] = location
        return "", status, self.headers

    def render(self, template: str, status: int = 200, **context):
        html = render.render(template, csrf=self.csrf, signed_in=self.signed_in, path=self.request.path, **context)
        self.headers["Content-Type"] = "text/html; charset=utf-8"
        return html, status, self.headers

