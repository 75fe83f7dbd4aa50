"""A seeded generator of realistic raw listings with known duplicate groups, for measuring
entity resolution: the same merchant seen by several sources with typos in the name, country sites
on other TLDs (listed with its network program id), missing domains, other networks; and distinct
merchants with look-alike names, or with the same name under another TLD (namesakes)."""

import random
import string

from affiliate_matrix.resolve import Candidate

SYLLABLES = ["blu", "host", "nor", "vpn", "sem", "rush", "can", "va", "tech", "ly", "zen", "desk", "mail", "chimp",
             "fit", "bit", "pro", "go", "daddy", "shop", "ify", "grammar", "ly", "note", "ion", "drop", "box",
             "sur", "fshark", "kin", "sta", "web", "flow", "page", "ly", "click", "funnel", "kajabi", "teach", "able"]
TLDS = ["com", "com", "com", "io", "co", "net", "de", "co.uk", "fr"]
NETWORKS = ["awin", "cj", "impact", "shareasale", "rakuten", "partnerstack"]
SUFFIXES = ["", "", "", " Inc", " Affiliate Program", " Partners", " LLC"]


def typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    kind = rng.choice(["swap", "drop", "insert", "replace"])
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop" and len(word) > 5:
        return word[:i] + word[i + 1:]
    if kind == "insert":
        return word[:i] + rng.choice(string.ascii_lowercase) + word[i:]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]


def merchants(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    """n distinct (name, domain label, TLD) merchants, some of them look-alikes of each other and some namesakes:
    another company of the same name on the same site name under another TLD (acme.com's shoes, acme.io's software)."""
    seen, names, out = set(), set(), []
    while len(out) < n:
        if rng.random() < 0.05 and out:  # a namesake: the same name and site name, another TLD, another company
            name, label, tld = out[rng.randrange(len(out))]
            other = rng.choice([t for t in TLDS if t != tld])
            if (name, other) not in seen:
                seen.add((name, other))
                out.append((name, label, other))
            continue
        name = "".join(rng.sample(SYLLABLES, rng.randint(2, 3)))
        if rng.random() < 0.1 and out:  # a look-alike: another merchant with a near name, another site
            name = out[rng.randrange(len(out))][0] + rng.choice(["hq", "plus", "pay", "app", "labs"])
        if name in names or len(name) < 5:
            continue
        tld = rng.choice(TLDS)
        names.add(name)
        seen.add((name, tld))
        out.append((name, name + str(rng.randint(0, 99)) if rng.random() < 0.05 else name, tld))
    return out


def generate(n_records: int, seed: int = 7) -> tuple[list[Candidate], list[int]]:
    """Candidates and, for each, the index of the merchant it really belongs to. A merchant's listings name its own
    site or none; its country sites (another TLD) are listed with its network program id, the evidence that joins
    them (a name alone does not: a namesake under another TLD is another company)."""
    rng = random.Random(seed)
    base = merchants(rng, max(1, n_records * 10 // 25))
    taken: dict[str, set[str]] = {}  # the TLDs each site name's merchants have: a country site is on none of them
    for _, label, tld in base:
        taken.setdefault(label, set()).add(tld)
    candidates, truth = [], []
    while len(candidates) < n_records:
        m = rng.randrange(len(base))
        name, label, tld = base[m]
        networks = random.Random(m).sample(NETWORKS, 2)  # the networks a merchant is on: mostly one, some two
        for _ in range(min(rng.choice([1, 1, 2, 3, 4, 5]), n_records - len(candidates))):
            shown = name.title() if rng.random() < 0.7 else name.upper()
            if rng.random() < 0.25:
                shown = typo(rng, shown)
            shown += rng.choice(SUFFIXES)
            ids = (f"{networks[0] if rng.random() < 0.8 else networks[1]}:{m}",) if rng.random() < 0.3 else ()
            site = tld
            if ids and rng.random() < 0.2:  # a country site, on the network's programme of the merchant
                site = rng.choice([t for t in TLDS if t not in taken[label]] or [tld])
            domain = None if rng.random() < 0.2 else f"{label}.{site}"
            candidates.append(Candidate(name=shown, domain=domain, network_ids=ids))
            truth.append(m)
    return candidates, truth


def pairwise_precision_recall(predicted: list, truth: list) -> tuple[float, float]:
    from collections import Counter

    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pairs(Counter(zip(predicted, truth)))
    predicted_pairs, true_pairs = pairs(Counter(predicted)), pairs(Counter(truth))
    return (both / predicted_pairs if predicted_pairs else 1.0), (both / true_pairs if true_pairs else 1.0)


def programs(n: int, seed: int = 11) -> list:
    """n valid Programs with every kind of field filled somewhere: commission terms, networks,
    payout, provenance, decimals and dates, for export and import."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from affiliate_matrix.models import Program

    rng = random.Random(seed)
    categories = ["software", "travel", "finance", "hosting_domains", "apparel", "pets", "vpn_security"]
    out = []
    for i in range(n):
        seen = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(400_000))
        domain = f"merchant{i}.example.com"
        percent = Decimal(rng.randrange(1, 700)) / 10
        out.append(Program.model_validate({
            "id": f"p_{i:016x}", "name": f"Merchant {i} {rng.choice(['Pro', 'Shop', 'Cloud', 'Trips'])}",
            "merchant": f"Merchant {i}", "merchant_domain": domain, "merchant_key": domain,
            "merchant_key_source": "domain", "merchant_key_confidence": 1.0, "domains": [domain],
            "description": f"Affiliate program of merchant {i}, with \"quotes\", commas, and a\nnew line",
            "networks": [{"network": rng.choice(["awin", "impact", "cj"]), "program_id": str(1000 + i),
                          "join_url": f"https://{domain}/join"}],
            "categories": rng.sample(categories, 2), "countries": rng.sample(["US", "GB", "DE", "FR"], 2),
            "commission": [{"type": "percent", "value_min": str(percent), "recurring": rng.random() < 0.3}],
            "commission_text": f"{percent}% per sale", "cookie_days": rng.choice([None, 7, 30, 90, -1]),
            "payout": {"methods": ["paypal"], "frequency": "monthly",
                       "minimum": {"amount": "50.00", "currency": "USD"}},
            "conversion_rate": str(Decimal(rng.randrange(1, 100)) / 1000) if rng.random() < 0.5 else None,
            "status": rng.choice(["active", "active", "closed_suspected", "discovered"]),
            "first_seen_at": seen.isoformat(), "last_seen_at": (seen + timedelta(days=3)).isoformat(),
            "provenance": {"name": [{"source": "awin", "url": f"https://ui.awin.com/{i}", "fetched_at": seen.isoformat(),
                                     "raw_key": f"raw/awin/{i:04x}.json", "value": f"Merchant {i}"}]},
            "quality_score": round(rng.random(), 3),
            # the one boolean field, drawn from no random number: every other field stays as it was
            "deeplinks_allowed": (None, True, False)[i % 3],
        }))
    return out
