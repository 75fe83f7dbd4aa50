"""Entity resolution: which raw records describe the same merchant's program.

1. Blocking puts records that could match into the same bucket, cheaply: the registrable
   domain (and every site an indexed program already holds), the network program id, and
   name keys: the compact name and every variant of it with one character deleted, so names
   one typo apart always share a bucket (SymSpell's deletion neighbourhood).
2. Scoring compares pairs inside a bucket: the same domain or network program id is decisive;
   two different sites are never one merchant on their names alone (acme.com's shoes and acme.io's
   software, one name under two TLDs, are two companies as often as one brand's country sites); a
   record without a site joins one whose name is one edit apart or scores above a threshold (rapidfuzz).
3. Union-find joins accepted pairs, strongest evidence first, and never joins two clusters whose
   domains name different sites on a name (a cannot-link rule: a name-only record cannot chain two
   merchants together). Candidates are put in a canonical order first and a cluster's key is its
   smallest domain (else its smallest name key), so the result does not depend on input order.
"""

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio


NAME_MATCH = 88.0  # rapidfuzz ratio (0-100) on compact names above which two names are the same
DECISIVE = 200.0  # the strength from which a match joins clusters on different sites: one site or network program id
MAX_BLOCK = 400  # a bucket this large is a common key ("shop"), not evidence: compared only by stricter keys
# ('and' as '&', which is no letter: 'B and H Photo' is 'B&H Photo')
_NOISE = re.compile(r"\b(affiliate|affiliates|partner|partners|program|programme|referral|inc|llc|ltd|gmbh|"
                    r"co|corp|the|official|store|shop|and)\b")


@dataclass(frozen=True)
class Candidate:
    name: str
    domain: str | None = None
    network_ids: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # every site an indexed program holds (one merged from several before)

    def sites(self) -> set[str]:
        return {self.domain, *self.domains} - {None}


def name_words(name: str) -> str:
    """The name's meaningful words, for looking up candidates in the index."""
    return " ".join(_NOISE.sub(" ", folded_name(name)).split()) or name


# Signs NFKC spells in letters ('™' is 'TM'): no part of the name ('Acme™' is 'Acme', as it was before NFKC)
_SIGNS = str.maketrans("", "", "\u2122\u2120")  # ™ ℠


def folded_name(name: str) -> str:
    """The name as matching compares it, the one place names are folded for it: in compatibility form and case
    folded (NFKC: full-width 'Ａｃｍｅ', superscript 'ᴬᶜᵐᵉ', circled 'Ⓐⓒⓜⓔ' and 'Acme²' are 'acme' and 'acme2',
    the ligature in 'Proﬁt' 'fi'), and a Latin name without its accents and with its letters in ASCII as the search
    index folds them ('Hôtel Café' is 'hotel cafe', 'Søstrene' 'sostrene'): one source writes them, another does
    not. A name in another script keeps its letters (its letters are its key)."""
    if name.isascii():
        return name.lower()
    import unicodedata

    from affiliate_matrix.search import narrowed, unaccented

    name = unicodedata.normalize("NFKC", name.translate(_SIGNS)).casefold()
    return name if other_script(name) else unaccented(narrowed(name))


def compact_name(name: str) -> str:
    """Lower-case letters and digits of the name without legal and program noise words, folded (folded_name); a
    name with no ASCII ones (in another script) its letters and digits in any script (normalize.name_key's rule),
    never ''."""
    name = folded_name(name)
    if other_script(name) or not re.search(r"[a-z0-9]", name):
        return "".join(script_words(_NOISE.sub(" ", name))) or "".join(script_words(name))
    return re.sub(r"[^a-z0-9]", "", _NOISE.sub(" ", name)) or re.sub(r"[^a-z0-9]", "", name)


def script_words(name: str) -> list[str]:
    """The name's words in any script, folded (folded_name: 'ＡＣＭＥ' is 'acme'), a word being what the search indexes
    take for one (search.word_runs: letters, marks and digits, so 'कोमल' keeps its vowel sign and is not 'कमल'); a
    name of signs only is its own one word."""
    from affiliate_matrix.search import word_runs

    name = folded_name(name)
    return word_runs(name) or name.split() or [name]


def other_script(name: str) -> bool:
    """Whether the name has a letter of another script than Latin (Cyrillic, CJK, Arabic, …)."""
    import unicodedata

    return any(c.isalpha() and not c.isascii() and not unicodedata.name(c, "").startswith("LATIN") for c in name)


def _deletions(key: str) -> set[str]:
    key = key[:16]
    return {key[:i] + key[i + 1:] for i in range(len(key))} | {key}


def blocking_keys(c: Candidate, name: str) -> set[tuple[str, str]]:
    keys = {("n", k) for k in _deletions(name)} if len(name) >= 4 else {("n", name)}
    keys |= {("d", site) for site in c.sites()}
    keys |= {("i", i) for i in c.network_ids}
    return keys


def match_strength(a: Candidate, b: Candidate, name_a: str, name_b: str) -> float:
    """0 for no match; otherwise higher is stronger evidence (domain > network id > name)."""
    sites_a, sites_b = a.sites(), b.sites()
    if sites_a & sites_b:
        return 300.0
    if set(a.network_ids) & set(b.network_ids):
        return DECISIVE
    if sites_a and sites_b:
        return 0.0  # two different sites: one name under two TLDs is no evidence of one merchant
    if min(len(name_a), len(name_b)) >= 5 and Levenshtein.distance(name_a, name_b, score_cutoff=1) <= 1:
        return 100.0 + ratio(name_a, name_b) / 2  # (below DECISIVE: a name, even the same one, is not)
    score = ratio(name_a, name_b, score_cutoff=NAME_MATCH)
    return score if score >= NAME_MATCH else 0.0


class _Clusters:
    """Union-find whose roots remember the sites of their members."""

    def __init__(self, sites: list[set[str]]):
        self.parent = list(range(len(sites)))
        self.sites = sites

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int, decisive: bool) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return
        if not decisive and self.sites[ri] and self.sites[rj] and not self.sites[ri] & self.sites[rj]:
            return  # cannot-link: the two clusters are on different sites
        keep, gone = min(ri, rj), max(ri, rj)
        self.parent[gone] = keep
        self.sites[keep] |= self.sites[gone]


def resolve(candidates: list[Candidate]) -> list[str]:
    """The cluster key of each candidate: candidates with the same key are the same entity."""
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i].domain or "", candidates[i].name,
                                                          candidates[i].network_ids, candidates[i].domains))
    ordered = [candidates[i] for i in order]
    names = [compact_name(c.name) for c in ordered]
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(ordered):
        for key in blocking_keys(c, names[i]):
            blocks[key].append(i)
    pairs: dict[tuple[int, int], float] = {}
    for (kind, _), members in blocks.items():
        if len(members) < 2 or (len(members) > MAX_BLOCK and kind == "n"):
            continue
        # One domain, or one network program id, is decisive for every pair (joined whatever the clusters'
        # sites): each member joined to the first makes the clusters every pair makes, at the bucket's length.
        firsts = members[:1] if kind in ("d", "i") else members
        for x, i in enumerate(firsts):
            for j in members[x + 1:]:
                if (i, j) not in pairs:
                    pairs[(i, j)] = match_strength(ordered[i], ordered[j], names[i], names[j])
    clusters = _Clusters([c.sites() for c in ordered])
    for (i, j), strength in sorted(pairs.items(), key=lambda p: (-p[1], p[0])):
        if strength > 0:
            clusters.union(i, j, decisive=strength >= DECISIVE)
    best: dict[int, str] = {}
    for i, c in enumerate(ordered):
        root = clusters.find(i)
        key = ("0" + c.domain) if c.domain else ("1" + names[i])
        if root not in best or key < best[root]:
            best[root] = key
    keys = [""] * len(candidates)
    for position, original in enumerate(order):
        keys[original] = best[clusters.find(position)][1:]
    return keys
