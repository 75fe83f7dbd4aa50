"""The domain: what a source said (RawRecord), the master record (Program) and what changed (DeltaChange).
(A configured source, Connection, is in connections.py; the base model and shared field types in model_types.py.)

Input is validated strictly: unknown fields are rejected, money is Decimal with an ISO-4217
currency, countries are ISO-3166 alpha-2, and every timestamp is timezone-aware and kept in UTC.
"""

import hashlib
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, ValidationInfo, field_validator, model_validator

from affiliate_matrix import taxonomy
from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, CARRIAGE_RETURN, DELETE_AND_C1_CONTROLS,
                                         INVISIBLE_FORMAT, LINE_FEED, TAB, characters)
from affiliate_matrix.codes import (CATEGORIES, CHANGES, COMMISSION_TYPES, KINDS, PAYOUT_FREQUENCIES, PAYOUT_METHODS,
                                    RESTRICTIONS, STATUSES)
from affiliate_matrix.model_types import (COMMISSION_TEXT_MAX, TEXT_MAX, Country, Currency, Model, NetworkName,
                                          NonNegative, UtcDatetime)

# One fixed taxonomy of verticals (codes.CATEGORIES; taxonomy.py maps them); every source's own categories map onto these.
Category = Literal[CATEGORIES]
PayoutMethod = Literal[PAYOUT_METHODS]
PayoutFrequency = Literal[PAYOUT_FREQUENCIES]
Restriction = Literal[RESTRICTIONS]


class Money(Model):
    amount: NonNegative
    currency: Currency


# The most characters of a tier's threshold a file imported may give: it is shown wherever the term is. Held where a
# program is written from outside (WRITTEN, amx import programs), not on the model: a program stored before with a
# longer one still reads.
MAX_THRESHOLD = 500
WRITTEN = {"written": True}  # the validation context of a program written from outside
# A program's records: one per offer of its merchant on each source (merge.combined), which no bound of one record's
# lists sizes; a merchant's offers on a network run to thousands. 20,000 as a network's (an offer's URL, its batch)
# are a 3.6 MB line, read in half a second and 40 MB.
MAX_RECORDS = 20_000
# The most items each list of a program written from outside (WRITTEN) may hold, far past any real one's: the real
# samples (Awin's programmes, Impact's campaigns) and the plugins give a few of each (one commission range or a few
# offers' tiers, a handful of regions, a few valid domains); countries are ISO-3166's 249 and a margin, the closed lists
# (categories, restrictions, payout methods: 32 words at most) half as many again, claims one per offer of a merchant
# on a source; aliases as many as records, since a merge adds each offer's name (merge.combined). A file's program of 300,000 terms (a 13 MB line) took 17 s and 1 GB to read; counted before the items are
# read. Held on input only, not on the model: a program stored before with more still reads. A scraped record's lists
# are cut to them instead (normalize.kept), and so is what a merge makes of several (merge.within_bounds): a page is
# not the user's to correct, and a program stored is one its export imports back.
MAX_ITEMS = {"aliases": MAX_RECORDS, "domains": 100, "networks": 100, "categories": 50, "commission": 200, "countries": 300,
             "excluded_countries": 300, "countries_unread": 300, "restrictions": 50, "deeplink_domains": 500,
             "records": MAX_RECORDS, "provenance": 100, "tiers": 100, "methods": 50, "evidence": 100}
MAX_CLAIMS = 1_000  # the claims of one field in a program's provenance: one per record at most


def _counted(value, info: ValidationInfo):
    """A list of a program written from outside refused past its MAX_ITEMS (provenance: its fields, and each field's
    claims past MAX_CLAIMS), naming the count and the bound: a Program's own before its items are read, a list inside
    one of its items (a term's tiers) after, as a validator before would make an event's data (rules.event_data),
    read as JSON in strict mode, be read as Python: a tier's "10" no Decimal."""
    if info.context != WRITTEN or not isinstance(value, list | dict):
        return value
    if len(value) > (most := MAX_ITEMS[info.field_name]):
        counted = "fields" if isinstance(value, dict) else "items"
        raise ValueError(f"{len(value):,} {counted}; at most {most:,} are taken")
    for field, claims in value.items() if isinstance(value, dict) else ():
        if isinstance(claims, list) and len(claims) > MAX_CLAIMS:
            raise ValueError(f"{str(field)[:80]}: {len(claims):,} claims; at most {MAX_CLAIMS:,} are taken")
    return value


class CommissionTier(Model):
    threshold: str = Field(description="What unlocks the tier, verbatim, e.g. '50+ sales/month'.")
    value: NonNegative

    @field_validator("threshold", mode="before")
    @classmethod
    def _clean(cls, value):
        """Cleaned as a record's text is (clean_text): a plugin builds it from a payload's words (Rakuten's offer
        name), which no RawRecord field cleans."""
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("threshold")
    @classmethod
    def _bounded_when_written(cls, value: str, info: ValidationInfo) -> str:
        if info.context == WRITTEN and len(value) > MAX_THRESHOLD:
            raise ValueError(f"{len(value):,} characters; at most {MAX_THRESHOLD} are kept")
        return value


class CommissionTerm(Model):
    type: Literal[COMMISSION_TYPES]
    value_min: NonNegative | None = Field(None, description="Null when the text gives only a ceiling ('up to 30%').")
    value_max: NonNegative | None = None
    currency: Currency | None = Field(None, description="Null for percent terms.")
    recurring: bool | None = None
    tiers: list[CommissionTier] = []

    _bounded = field_validator("tiers")(_counted)  # after: see _counted

    @model_validator(mode="after")
    def _consistent(self):
        if self.type == "percent" and self.currency is not None:
            raise ValueError("a percent commission has no currency")
        if self.type == "flat" and self.currency is None:
            raise ValueError("a flat commission needs a currency")
        if self.value_min is None and self.value_max is None:
            raise ValueError("a commission needs value_min or value_max")
        if None not in (self.value_min, self.value_max) and self.value_max < self.value_min:
            raise ValueError(f"value_max {self.value_max} is below value_min {self.value_min}")
        if self.value_max is not None and self.value_max == self.value_min:
            # One value is value_min alone, however it was stated (a network's range of one rate, min = max): the
            # same term from two sources is then one JSON, not a disagreement.
            self.value_max = None
        return self


class Payout(Model):
    methods: list[PayoutMethod] = []
    frequency: PayoutFrequency | None = None
    minimum: Money | None = None

    _bounded = field_validator("methods")(_counted)  # after: see _counted


# An account's relationship with a program, one vocabulary across networks (each plugin maps its network's words):
# joined (Impact's Active contract, CJ's joined), pending (applied, not yet accepted), not_joined, expired (the
# contract ended: Impact's Expired). The account's fact, never the program's status.
Contract = Literal["joined", "pending", "not_joined", "expired"]


class NetworkListing(Model):
    network: NetworkName = Field(description="shareasale, impact, cj, awin, direct, … (taxonomy.network_name)")
    title: str | None = Field(None, max_length=taxonomy.MAX_NETWORK_TITLE, description=(
        "The network's name as the source wrote it ('MyAffiliateNet'), where neither a plugin nor the taxonomy names "
        "that network: what it is shown as (sources.network_shown); `network`, its folded key, is what filters and "
        "facets take."))
    program_id: str | None = None
    join_url: HttpUrl | None = None
    contract: Contract | None = Field(None, description="The account's relationship with the program as the network's "
                                                        "API tells the connection, one vocabulary across networks "
                                                        "(joined, pending, not_joined, expired): a fact of that "
                                                        "account, not of the program. None: not said, or in words not "
                                                        "known.")


class FieldSource(Model):
    """One source's claim about one field of a Program: what it said, where and when, and through which connection
    (None: a claim recorded before claims named one, the source's as a whole; see merge.claimant)."""

    source: str
    connection_id: str | None = None
    generation: str | None = Field(None, description="The generation of the connection it came through (which "
                                                     "creation of it: Connection.generation); None: recorded before "
                                                     "claims named one, or of a connection that has none.")
    url: str
    fetched_at: UtcDatetime
    raw_key: str
    value: Any = None
    evidence: list[str] = Field([], description="The source's verbatim sentences the value was read from, where it "
                                                "was read from free text.")

    _bounded = field_validator("evidence")(_counted)  # after: see _counted


# Characters no name or term is written with that a page or a payload may still carry, removed: the C0 controls but
# tab, line feed and carriage return (a terms text's lines are its own; NUL among the rest), DEL, the C1 controls, the
# bidi controls, which show a name reversed or hide part of it, and the invisible format characters that change no word
# but make one name two ("Acme" and "Acme" with a zero-width space, a byte order mark or a soft hyphen in it). The
# line and paragraph separators stay, line breaks as LF is. (A name a person writes refuses them all:
# model_types.check_name.) And Latin letters, digits and signs written full-width ("Ａｃｍｅ", "１０％"), as Japanese and
# Chinese pages do, are the ASCII ones they stand for.
_REMOVED = dict.fromkeys(map(ord, characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, BIDI_CONTROLS, INVISIBLE_FORMAT,
                                             but=(TAB, LINE_FEED, CARRIAGE_RETURN))))
_FOLDED = _REMOVED | {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_TEXT_FIELDS = ("record_key", "name", "description", "commission_text", "cookie_text", "payout_text", "network",
                "network_program_id", "categories", "countries", "aliases", "extra", "closed", "deeplink_domains")


def clean_text(text: str) -> str:
    """Text as a page or an API gave it, without those controls and invisible characters, full-width Latin as
    ASCII, in NFC: a composed "Café" (U+00E9) and a decomposed one (e, U+0301) are one name, with one key."""
    return unicodedata.normalize("NFC", text.translate(_FOLDED))


def _cleaned(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    return value


def cleaned_import(data: dict) -> dict:
    """A program's values as read from a file (amx import programs), cleaned in place: text from outside, as a
    page's is, so every string in it (keys too) goes through clean_text as a RawRecord's text does; a merged
    Program is made of records cleaned already. Walked without recursion: a provenance value may be any JSON,
    nested as deep as the parser took it (the index refuses it later, naming the line)."""
    stack: list = [data]
    while stack:
        item = stack.pop()
        pairs = list(item.items() if isinstance(item, dict) else enumerate(item))
        if isinstance(item, dict):
            item.clear()
        for key, value in pairs:
            if isinstance(value, str):
                value = clean_text(value)
            elif isinstance(value, (dict, list)):
                stack.append(value)
            item[clean_text(key) if isinstance(key, str) else key] = value
    return data


class RawRecord(Model):
    """What one source said about one program at one time, as parsed. Its text, however it was read (a page, an
    API's payload, the generic reader), is cleaned here, the one place every reader's record goes through."""

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data):
        if isinstance(data, dict):
            data = {k: _cleaned(v) if k in _TEXT_FIELDS else v for k, v in data.items()}
        return data

    @model_validator(mode="before")
    @classmethod
    def _account_named(cls, data):
        """The request it was read from as kept and shown, its account left out (sources.request_named): a record is
        stored, and its program's claims and records shown, to every reader."""
        if isinstance(data, dict) and isinstance(data.get("source"), str) and data.get("url") is not None:
            from affiliate_matrix.sources import request_named

            data = {**data, "url": request_named(data["source"], str(data["url"]))}
        return data

    @field_validator("url", "merchant_url", "join_url")
    @classmethod
    def _without_userinfo(cls, url: HttpUrl | None) -> HttpUrl | None:
        """A URL as a source wrote it, without a user name or password before its host: a page's
        'https://user:secret@…' leaked a password, and 'https://paypal.com@evil.com/' reads as another site than the
        one it goes to; the index, the API, exports and the explorer's links would show both. Its host stays."""
        if url is None or not (url.username or url.password):
            return url
        scheme, _, rest = str(url).partition("://")
        return HttpUrl(f"{scheme}://{rest.partition('@')[2]}")  # the first @: one in the userinfo is written %40

    source: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    connection_id: str
    generation: str | None = Field(None, description="The generation of its connection when the run began "
                                                     "(Connection.generation); None: stored before records named one, "
                                                     "a connection that has none, or discovery's.")
    record_key: str = Field(min_length=1, description="The source's own id for the program (slug, offer id).")
    url: HttpUrl
    fetched_at: UtcDatetime
    raw_key: str = Field(min_length=1, description="Object-store key of the raw page this came from.")
    name: str = Field(min_length=1, max_length=TEXT_MAX["name"])
    kind: Literal[KINDS] = "program"
    merchant_url: HttpUrl | None = None
    description: str | None = Field(None, max_length=TEXT_MAX["description"])
    categories: list[str] = Field([], description="The source's own category labels, verbatim.")
    commission_text: str | None = Field(None, max_length=COMMISSION_TEXT_MAX)
    cookie_text: str | None = Field(None, max_length=TEXT_MAX["cookie_text"])
    cookie_days: int | None = Field(None, description="Read from a cookie text too long to keep whole before it was "
                                                      "cut; when set, cookie_text is not read.")
    payout_text: str | None = Field(None, max_length=TEXT_MAX["payout_text"])
    payout: Payout | None = Field(None, description="Read from a payout text too long to keep whole before it was "
                                                    "cut; when set, payout_text is not read for its terms.")
    network: str | None = None
    network_program_id: str | None = None
    join_url: HttpUrl | None = None
    countries: list[str] = Field([], description="The source's own country labels, verbatim.")
    deeplink_domains: list[str] = Field([], description="The hosts the network lets deep links point at, as it "
                                                        "writes them (Awin's validDomains, Impact's DeeplinkDomains).")
    extra: dict[str, str] = {}
    commission: list[CommissionTerm] = Field([], description="Terms an API states as data (with tiers), or read "
                                                             "from a commission text too long to keep whole before "
                                                             "it was cut; when set, commission_text is not parsed.")
    aliases: list[str] = Field([], description="Other names of the merchant the source gives (a parent company's).")
    closed: str | None = Field(
        None, max_length=300, description="The source's own words saying the program is over (CJ's "
                                          "'account-status: Deactivated'); None while it lists the program as "
                                          "open. An account's own contract (Impact's) is no such word.")
    contract: Contract | None = Field(None, description="The account's relationship with the program, in the shared "
                                                        "vocabulary (the plugin maps its network's words); None: not "
                                                        "said. The account's fact: it closes no program.")
    extracted_by: Literal["plugin", "generic"] = Field(
        "plugin", description="Which reader produced the record: the source plugin's own (its selectors or API "
                              "fields), or the generic page reader that takes over on a layout the plugin does not know.")


class SourceRecord(Model):
    """One record of a source a program was merged from: an offer of OfferVault's, a program of a network's."""

    source: str
    record_key: str = Field(description="The source's own id for it (RawRecord.record_key).")
    url: str = Field(description="Where the source lists it: its own page where the source gives one (an offer's "
                                 "page), else the page or API answer it was read from.")
    batch_key: str | None = Field(None, description="The stored batch of raw records it was last read from (its "
                                                    "run's): a later run that did not reach it reads it back from "
                                                    "there (pipeline.unreached_offers). None: indexed before records "
                                                    "named their batch.")


class Discovery(Model):
    """How a program found by a dork query was judged: its confidence and the signals behind it."""

    confidence: float = Field(ge=0, le=1)
    evidence: list[str] = []
    query: str
    provider: str

    _bounded = field_validator("evidence")(_counted)  # after: see _counted


MAX_COOKIE_DAYS = 3650  # ten years: past any cookie a program sets (a lifetime cookie is -1)
MAX_HOST = 255  # a host name's most characters (RFC 1035's 253, '*.' before it)


class Program(Model):
    """The master record: one program (or CPA offer) merged from every source that lists it."""

    id: str = Field(pattern=r"^p_[0-9a-f]{16}$")
    name: str = Field(min_length=1, max_length=300)
    kind: Literal[KINDS] = "program"
    merchant: str | None = None
    merchant_domain: str | None = None
    merchant_key: str
    merchant_key_source: Literal["domain", "alias", "name"]
    merchant_key_confidence: float = Field(0.6, ge=0, le=1, description="1.0 from a domain, 0.8 an alias, 0.6 a name.")
    aliases: list[str] = []
    domains: list[str] = []
    description: str | None = None
    networks: list[NetworkListing] = []
    categories: list[Category] = []
    commission: list[CommissionTerm] = []
    commission_text: str | None = None
    payout_model: Literal["CPA", "CPL", "CPS", "RevShare", "CPI"] | None = None
    cookie_days: int | None = Field(None, ge=-1, le=MAX_COOKIE_DAYS, description="-1 lifetime, 0 session only.")
    payout: Payout = Payout()
    countries: list[Country] = []
    excluded_countries: list[Country] = []
    countries_unread: list[Annotated[str, Field(max_length=200)]] = Field(
        [], description="Country labels the sources wrote that name no country we know (a "
        "misspelling, an unknown place), verbatim: not guessed into `countries`.")
    restrictions: list[Restriction] = []
    epc_7d: Money | None = Field(None, description="Earnings per click over 7 days, as a network reports them (CJ's "
                                  "EPC, per one hundred clicks, divided by 100).")
    epc_90d: Money | None = Field(None, description="Earnings per click over 3 months, as epc_7d.")
    conversion_rate: Annotated[Decimal, Field(ge=0, le=1)] | None = None
    approval_rate: Annotated[Decimal, Field(ge=0, le=1)] | None = None
    validation_days: int | None = Field(None, ge=0)
    average_payment_days: Annotated[Decimal, Field(ge=0)] | None = Field(
        None, description="How many days the merchant takes to pay a commission on average, as its network reports it "
                          "(Awin's averagePaymentTime).")
    deeplink_domains: list[Annotated[str, Field(max_length=MAX_HOST)]] = Field(
        [], description="The hosts the program's deep links may point at, as its networks say them (Awin's "
                        "validDomains, Impact's DeeplinkDomains), lower case; '*.' before a host: any of its "
                        "subdomains. Where a link may go, not the merchant's sites (`domains`), so no evidence for "
                        "resolution.")
    deeplinks_allowed: bool | None = Field(
        None, strict=True, description="Whether the program lets deep links point past its home page, as its networks "
                                       "say it (Impact's AllowsDeeplinking, Awin's deeplinkEnabled, a DeepLink among "
                                       "CJ's link types); None where none says.")
    gravity: Decimal | None = None
    approval: Literal["auto", "manual"] | None = None
    status: Literal[STATUSES] = "active"
    terms_url: HttpUrl | None = None
    first_seen_at: UtcDatetime
    last_seen_at: UtcDatetime
    last_verified_at: UtcDatetime | None = None
    last_changed_at: UtcDatetime | None = Field(None, description="When a tracked field last changed (the latest delta).")
    misses: int = Field(0, ge=0, description="Consecutive verifications that found the source page gone.")
    records: list[SourceRecord] = Field([], description="The records of each source the program was merged from, as "
                                                        "the sources list them now: several of one source are several "
                                                        "offers of one merchant (each one's terms are in the program).")
    provenance: dict[str, list[FieldSource]] = {}
    quality_score: float = Field(0.0, ge=0, le=1)
    discovery: Discovery | None = Field(None, description="Set for programs found by discovery (status `discovered`).")

    _bounded = field_validator("aliases", "domains", "networks", "categories", "commission", "countries",
                               "excluded_countries", "countries_unread", "restrictions", "deeplink_domains", "records",
                               "provenance", mode="before")(_counted)


class FieldChange(Model):
    field: str
    old: Any = None
    new: Any = None


class DeltaChange(Model):
    """One change to one program. The id is derived, so recording the same change twice is a no-op."""

    id: str
    program_id: str
    change: Literal[CHANGES]
    fields: list[FieldChange] = []
    at: UtcDatetime
    source: str

    @staticmethod
    def make_id(program_id: str, change: str, fields: list[FieldChange], at: datetime) -> str:
        basis = f"{program_id}|{change}|{at.isoformat()}|" + "|".join(f"{f.field}={f.new!r}" for f in fields)
        return "d_" + hashlib.sha256(basis.encode()).hexdigest()[:20]
