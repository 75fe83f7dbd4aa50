"""A RawRecord becomes a Program: cleaned name, registrable domain, our taxonomy, parsed terms,
networks, and the provenance of every field it sets."""

import hashlib
import re
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import ValidationError

from affiliate_matrix import taxonomy, terms
from affiliate_matrix.merge import DISCOVERY, quality
from affiliate_matrix.models import (MAX_HOST, MAX_ITEMS, Discovery, FieldSource, NetworkListing, Payout, Program,
                                     RawRecord, SourceRecord)
from affiliate_matrix.observability import get_logger

log = get_logger()


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # The suffix list bundled with tldextract: no network at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registrable_domain(host: str, private: bool = False) -> str | None:
    """The host's domain under its public suffix (shop.co.uk of www.shop.co.uk); with `private`, a private suffix
    counts as one (x.github.io and y.github.io are two sites: a crawl's scope, fetch.site_of). Merchant keys are made
    without it: a merchant's program keeps the key it has."""
    return _extractor()(host, include_psl_private_domains=private).top_domain_under_public_suffix.lower() or None


def merchant_domain(url) -> str | None:
    """The merchant's domain its URL names: the registrable domain, but on a host many merchants share
    (taxonomy.SHARED_HOSTS: a link shortener, a marketplace, a network's tracking host) the merchant's own
    subdomain there where the host gives merchants one (acme.myshopify.com: taxonomy.TENANT_HOSTS), or none for a
    page of the host's (etsy.com/shop/acme, bit.ly/x, ui.awin.com/merchant-profile/1: the record is keyed by its
    name). Only the host's own front page is the host's own site (Etsy's own program), but every page of an
    affiliate-program platform's front host is (taxonomy.PLATFORM_SITES: refersion.com/affiliate-program)."""
    parts = urlsplit(str(url))
    host = (parts.hostname or "").rstrip(".")
    domain = registrable_domain(host) if host else None
    if domain not in taxonomy.SHARED_HOSTS:
        return domain
    site = host.removeprefix("www.")
    if site != domain:
        return site if taxonomy.tenant(site, domain) else None
    # a program platform's merchants are on its subdomains or sign-up host: its front host's pages are its own
    return domain if parts.path in ("", "/") or domain in taxonomy.PLATFORM_SITES else None


def name_key(name: str) -> str:
    """The name's lower-case ASCII letters and digits, hyphen-joined, folded (resolve.folded_name). A name written (even in part) in another
    script than Latin, or with no ASCII letter or digit, is keyed by its letters and digits in any script
    (resolve.script_words), never by its ASCII part alone, which is '' (or '24') for many such names at once."""
    if name.isascii() and (key := re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")):
        return key
    from affiliate_matrix.resolve import folded_name, other_script, script_words

    folded = folded_name(name)  # 'Hôtel Café' is 'hotel cafe', 'Ａｃｍｅ' 'acme'
    key = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return key if key and not other_script(folded) else "-".join(script_words(folded))


def program_id(merchant_key: str, kind: str) -> str:
    return "p_" + hashlib.sha256(f"{kind}|{merchant_key}".encode()).hexdigest()[:16]


def normalize(record: RawRecord, batch_key: str | None = None) -> Program:
    """The program a record says, its claims credited to the record's source; `batch_key`: the stored batch the
    record was read from, named in the program's `records`."""
    name = " ".join(record.name.split())
    domain = merchant_domain(record.merchant_url) if record.merchant_url else None
    merchant_key, key_source = (domain, "domain") if domain else (name_key(name), "name")
    kpi = _reported(record)
    network = (taxonomy.network_name(record.network)
               or taxonomy.network_of(str(record.join_url) if record.join_url else None, registrable_domain))
    if network is None and record.join_url and domain and registrable_domain(record.join_url.host or "") == domain:
        network = "direct"
    # Directories label some terms; the rest is often buried in the description.
    buried = terms.extract("\n".join(t for t in (record.description, record.payout_text) if t))
    labelled = record.payout or Payout(methods=terms.payout_methods(record.payout_text),
                                       frequency=terms.payout_frequency(record.payout_text),
                                       minimum=terms.min_payout(record.payout_text))
    payout = Payout(methods=labelled.methods or buried.payout_methods,
                    frequency=labelled.frequency or buried.payout_frequency, minimum=labelled.minimum or buried.min_payout)
    read = taxonomy.countries(record.countries)
    unread = [label[:200] for label in read.unread[:MAX_UNREAD]]
    for label in unread:  # a label to read, which a person may add to the taxonomy
        log.warning("normalize.country_unread", source=record.source, record_key=record.record_key[:80],
                    label=label[:80])
    program = Program(
        id=program_id(merchant_key, record.kind),
        kind=record.kind,
        name=name,
        merchant=name,
        merchant_domain=domain,
        merchant_key=merchant_key,
        merchant_key_source=key_source,
        merchant_key_confidence=KEY_CONFIDENCE[key_source],
        domains=[domain] if domain else [],
        aliases=kept(record, "aliases", sorted({" ".join(a.split()) for a in record.aliases} - {name, ""})),
        description=record.description,
        networks=[NetworkListing(network=network, program_id=record.network_program_id, join_url=record.join_url,
                                 contract=record.contract, title=_network_title(record, network))] if network else [],
        categories=taxonomy.categories(record.categories),
        countries=read.countries,
        countries_unread=unread,
        deeplink_domains=deeplink_hosts(record),
        commission=[term if len(term.tiers) <= MAX_ITEMS["tiers"] else
                    term.model_copy(update={"tiers": kept(record, "tiers", term.tiers)})
                    for term in kept(record, "commission", record.commission or terms.commission(record.commission_text)
                                     or buried.commission)],
        commission_text=record.commission_text,
        cookie_days=_taken(record, "cookie_days", record.cookie_days if record.cookie_days is not None else
                           terms.cookie_days(record.cookie_text) if record.cookie_text else buried.cookie_days),
        restrictions=buried.restrictions,
        payout=payout,
        # the record itself: several of one source's are several offers of the program (merge.combined)
        records=[SourceRecord(source=record.source, record_key=record.record_key,
                              url=record.extra.get("offer_url") or str(record.url), batch_key=batch_key)],
        first_seen_at=record.fetched_at,
        last_seen_at=record.fetched_at,
        last_verified_at=record.fetched_at,  # seen on its source just now: verified
        **kpi,
        **_discovered(record),
    )
    quoted = _quoted(record, buried, program, labelled)
    for field in _set_fields(program):
        value = getattr(program, field)
        claim = value.model_dump(mode="json") if hasattr(value, "model_dump") else (
            [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value] if isinstance(value, list)
            else value)
        program.provenance[field] = [FieldSource(source=record.source, connection_id=record.connection_id,
                                                 generation=record.generation, url=str(record.url),
                                                 fetched_at=record.fetched_at, raw_key=record.raw_key, value=claim,
                                                 evidence=quoted.get(field, []))]
    if not program.countries and (read.everywhere or unread):  # the source's claim that no country is excluded
        program.provenance["countries"] = [FieldSource(  # (merge: it takes every country), its words why
            source=record.source, connection_id=record.connection_id, generation=record.generation,
            url=str(record.url), fetched_at=record.fetched_at, raw_key=record.raw_key, value=[],
            evidence=[label[:200] for label in (read.everywhere + read.unread)[:MAX_UNREAD]])]
    if record.closed:  # the source says the program is over: its claim, credited to it as any field's (merge weighs it)
        program.status = "closed_suspected"
        program.provenance["status"] = [FieldSource(source=record.source, connection_id=record.connection_id,
                                                    generation=record.generation, url=str(record.url),
                                                    fetched_at=record.fetched_at, raw_key=record.raw_key,
                                                    value="closed_suspected", evidence=[record.closed])]
    program.quality_score = quality(program)
    return program


def _network_title(record: RawRecord, network: str) -> str | None:
    """The network's name as the record wrote it, where nothing else names that network (sources.network_shown): a
    directory's 'MyAffiliateNet' is shown so, not as its key myaffiliatenet."""
    from affiliate_matrix.sources import network_titles

    if network in network_titles() or taxonomy.network_name(record.network) != network:
        return None  # a network a plugin or the taxonomy names, or one read from the join link, not the record's words
    return taxonomy.network_spelled(record.network)


def _reported(record: RawRecord) -> dict:
    """The figures a network reports in `extra`, as the program's fields take them. A figure a field does not
    take (an approval rate over 1, NaN, negative days, an EPC in no ISO currency) is the source's word only:
    logged, naming it, and left out; the rest of the record is indexed."""
    extra = record.extra
    figures = {k: extra[k] for k in ("approval_rate", "conversion_rate", "validation_days", "average_payment_days",
                                     "gravity") if extra.get(k)}
    figures |= _epcs(extra)
    if said := extra.get("deeplinks_allowed"):  # a network's true or false; another word its field refuses (strict)
        figures["deeplinks_allowed"] = YES_NO.get(said.strip().lower(), said)
    taken = {field: _taken(record, field, value) for field, value in figures.items()}
    return {field: value for field, value in taken.items() if value is not None}


YES_NO = {"true": True, "false": False}  # a network's yes or no, as its payloads write them ("true", "false")


# A host a deep link may point at, as networks write them: 'www.example.com', '*.example.com' (any subdomain)
_LINK_HOST = re.compile(r"(\*\.)?([\w-]+\.)+[\w-]+")
# A record's own aliases: a few names of one listing. A program's bound (MAX_ITEMS) is a merge's, every record's name
# among them; one page filling it would push the other sources' names out.
RECORD_ALIASES = 100


def kept(record: RawRecord, field: str, items: list) -> list:
    """A record's items of a program's `field` cut to the most a program written from outside may hold (MAX_ITEMS; a
    record's aliases to RECORD_ALIASES), the cut logged: a page or a payload is not the user's input to refuse, and
    refused, the record's other fields would be lost with it; what is cut is past any real program's, a hostile or
    broken list."""
    if len(items) > (most := RECORD_ALIASES if field == "aliases" else MAX_ITEMS[field]):
        log.warning("normalize.list_cut", source=record.source, record_key=record.record_key[:80], field=field,
                    items=len(items), kept=most)
    return items[:most]


MAX_DEEPLINK_DOMAINS = 100  # a program's deep-link hosts kept from one record (a hostile list)


def deeplink_hosts(record: RawRecord) -> list[str]:
    """The hosts a record says deep links may point at, each once, lower case and sorted (two syncs listing them in
    another order say the same). One that is no host (a sentence, a URL's path) is logged, naming it, and left out."""
    hosts = set()
    for label in record.deeplink_domains:
        host = label.strip().lower().rstrip(".")
        if len(host) <= MAX_HOST and _LINK_HOST.fullmatch(host):
            hosts.add(host)
        else:
            log.warning("normalize.deeplink_domain_unread", source=record.source,
                        record_key=record.record_key[:80], label=label[:80])
    return sorted(hosts)[:MAX_DEEPLINK_DOMAINS]


def _taken(record: RawRecord, field: str, value):
    """The value as the program's field takes it, or None (logged, naming it) when the field does not take it: a
    figure out of its range (a cookie of 10**9 days) is the source's word only, and the rest of the record stands."""
    if value is None:
        return None
    try:
        return _field_adapter(field).validate_python(value)
    except ValidationError as exc:
        log.warning("normalize.figure_refused", source=record.source, record_key=record.record_key[:200],
                    field=field, value=str(value)[:100], problem=exc.errors(include_url=False)[0]["msg"])
        return None


@lru_cache(maxsize=None)
def _field_adapter(field: str):
    from pydantic import TypeAdapter

    info = Program.model_fields[field]
    return TypeAdapter(Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation)


def _epcs(extra: dict[str, str]) -> dict:
    """Earnings per click a network reports (`epc_7d`, `epc_90d` in `epc_currency`); none without a currency."""
    currency = extra.get("epc_currency")
    return {field: {"amount": extra[field], "currency": currency}
            for field in ("epc_7d", "epc_90d") if currency and extra.get(field)}


def _quoted(record: RawRecord, buried: terms.Terms, program: Program, labelled: Payout) -> dict[str, list[str]]:
    """The verbatim sentences behind each value read from the description or payout text (a labelled
    column is its own evidence, kept as the field's source)."""
    quoted = {}
    if not record.commission and not record.commission_text and program.commission:
        quoted["commission"] = buried.evidence.get("commission", [])
    if not record.cookie_text and program.cookie_days is not None:
        quoted["cookie_days"] = buried.evidence.get("cookie_days", [])
    if program.restrictions:
        quoted["restrictions"] = buried.evidence.get("restrictions", [])
    for name, own in (("payout_methods", labelled.methods), ("payout_frequency", labelled.frequency),
                      ("min_payout", labelled.minimum)):
        if not own:
            quoted.setdefault("payout", []).extend(s for s in buried.evidence.get(name, [])
                                                   if s not in quoted.get("payout", []))
    return {field: sentences for field, sentences in quoted.items() if sentences}


def _discovered(record: RawRecord) -> dict:
    """A program found by discovery enters as `discovered`, carrying the judgement behind it."""
    if record.source != DISCOVERY:
        return {}
    extra = record.extra
    return {"status": "discovered", "discovery": Discovery(
        confidence=float(extra["confidence"]), evidence=[e for e in extra.get("evidence", "").split("\n") if e],
        query=extra.get("query", ""), provider=extra.get("provider", ""))}


_TRACKED = ("name", "merchant_domain", "description", "networks", "categories", "commission", "commission_text",
            "cookie_days", "payout", "countries", "countries_unread", "domains", "restrictions", "epc_7d", "epc_90d",
            "conversion_rate", "approval_rate", "validation_days", "average_payment_days", "gravity",
            "deeplink_domains", "deeplinks_allowed", "records")


def _set_fields(program: Program) -> list[str]:
    return [f for f in _TRACKED if getattr(program, f) not in (None, [], Payout())]


def keyed_by_words_now(program: Program) -> Program:
    """The program re-keyed by its name's words as keys read them now (search.word_runs), where its name key was made by
    an older rule: what a migration does to a stored program and an import to a file exported before. Before v16 a
    mark broke a word (a vowel sign, a virama, a haraka: कोमल was 'क-मल'); before v17 a word kept its optional marks
    and a joiner broke it (كِتاب was 'كِتاب', not 'كتاب'; کتاب‌فروشی 'کتاب-فروشی'). The shown name's key, as the
    listings that join the program later are those of its name, and they keep its key: under another name's key it
    would take the listings of that name too (two merchants v15 merged, कोमल shown and keyed 'कमल', would stay one).
    Another name's key (an alias) loses its optional marks, as that name keys now; a domain stays. A program landing on
    another's id is merged with it (program_index._merged: one merchant written two ways)."""
    import unicodedata

    from affiliate_matrix.resolve import compact_name, folded_name
    from affiliate_matrix.search import unwritten, word_runs

    key = program.merchant_key
    if "." in key:
        return program
    if not key.isascii():  # its words without their optional marks (v16 kept them)
        key = "-".join(word_runs(key)) or key
    # the name as older keys read it: a joiner broke its word (v15, v16), and a mark too (v15)
    joiners_broke = "".join(" " if unwritten(c) == "" and unicodedata.category(c)[0] != "M" else c
                            for c in folded_name(program.name))
    marks_broke = "".join(" " if unicodedata.category(c)[0] == "M" else c for c in joiners_broke)
    now = next((keyed(program.name) for spelled in (marks_broke, joiners_broke) for keyed in (compact_name, name_key)
                if keyed(spelled) == key), key)
    return program if now == program.merchant_key else with_merchant_key(program, now)


MAX_UNREAD = 20  # a source's country labels we cannot read, logged and kept on the program (a hostile list)
KEY_CONFIDENCE = {"domain": 1.0, "alias": 0.8, "name": 0.6}


def with_merchant_key(program: Program, key: str) -> Program:
    """Re-key a program to the merchant its resolution cluster settled on: a domain, else another
    listing's name for the same merchant (an alias), else its own name."""
    if "." in key:
        source = "domain"
    else:
        from affiliate_matrix.resolve import compact_name

        source = "name" if key in (name_key(program.name), compact_name(program.name)) else "alias"
    return program.model_copy(update={"id": program_id(key, program.kind), "merchant_key": key,
                                      "merchant_key_source": source, "merchant_key_confidence": KEY_CONFIDENCE[source]})
