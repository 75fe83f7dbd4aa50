"""How stored values read to people, the same in the CLI, the demo and the web explorer (and a time to the API's
clients, ending_in_z)."""

from datetime import UTC
from decimal import Decimal

# A term says it recurs, says it does not ("one-time"), or does not say: three claims, read as three (merge's vote
# tells them apart too).
RECURRENCE = {True: " recurring", False: " one-time", None: ""}
NO_VALUE = "—"  # a value not stated (no terms, a new program's old commission), never shown as a false 0 or blank


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun: "1 record", "2 records", "1,100 days" (`nouns` where the plural is not the noun and an
    s), its thousands grouped as every figure amx shows is."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def listings(count: int) -> str:
    """A count of what sources said of programs (their records) in the word people read for one, as the Connections page
    and the demo say it: "6 listings", wherever amx says how many a run read."""
    return counted(count, "listing")


def given(value) -> str:
    """What a request gave, as an error names it: JSON's literals as JSON writes them (true, null, 2.5), text, lists
    and objects by their kind only (a body's text may be a secret sent in the wrong field)."""
    if value is None or isinstance(value, (bool, int, float)):
        import json

        return json.dumps(value)[:40]
    return {str: "text", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def quoted(text: str, width: int = 40) -> str:
    """A value a person gave, quoted as an error names it: as given, cut with "…" only past `width` characters."""
    return repr(text if len(text) <= width else text[:width - 1] + "…")


def unknown_beside(errors: list[dict]) -> str:
    """The fields a body gave that its model has not, said after its first error when that is another (a field
    missing): {"niche": "pets"} was refused "niches: Field required", the niche it gave unnamed. A field missing at
    the same place that an unknown one is close to is suggested: "; unknown field(s): niche (niche: did you mean
    niches?)"."""
    from difflib import get_close_matches

    if errors[0]["type"] == "extra_forbidden":
        return ""  # the first error names them already
    unknown = [error["loc"] for error in errors if error["type"] == "extra_forbidden" and error["loc"]]
    if not unknown:
        return ""
    missing = {(tuple(error["loc"][:-1]), str(error["loc"][-1])) for error in errors
               if error["type"] == "missing" and error["loc"]}
    named, meant = [], []
    for loc in unknown:
        name = ".".join(map(str, loc))[:40]
        named.append(name)
        near = sorted(field for place, field in missing if place == tuple(loc[:-1]))
        if match := get_close_matches(str(loc[-1]), near, 1, 0.7):
            meant.append(f"{name}: did you mean {'.'.join([*map(str, loc[:-1]), match[0]])}?")
    return f"; unknown field(s): {', '.join(named)}"[:200] + (f" ({'; '.join(meant)})"[:200] if meant else "")


CHOICE_QUOTED = 20  # a choice mistyped is quoted up to this long: longer is no typo of one (a secret pasted there?)


def error_said(err: dict) -> str:
    """A pydantic error's message as the API and the commands say it, its field named apart: a check of ours in its
    own words, a value of another type with what was given (`spend: Input should be a valid number, got true`), and
    text that is none of the choices quoted (`strategy: Input should be 'equal', … or 'optimal', got 'optimial'`)."""
    said = err["msg"].removeprefix("Value error, ")
    if err["type"].endswith("_type"):
        return f"{said}, got {given(err['input'])}"
    if err["type"] in ("literal_error", "enum") and isinstance(text := err["input"], str):
        return f"{said}, got " + (quoted(text) if len(text) <= CHOICE_QUOTED else f"text of {len(text):,} characters")
    return said


# A program's fields in words, wherever they are shown to a person, as categories are shown by label: the explorer's
# Changes page (filter and rows: the tracked ones, deltas.TRACKED) and program page, and the CLI's tables and lines
# (`amx show`, `compare`, `changes`, `terms extract`); flags, --json, exports and the API keep the fields' names.
# The extractor's own fields (terms.Terms: payout_methods, payout_frequency, min_payout) are named alike.
FIELD_LABELS = {"name": "Name", "kind": "Kind", "merchant": "Merchant", "merchant_domain": "Merchant domain",
                "merchant_key": "Merchant key", "merchant_key_source": "Merchant key from",
                "merchant_key_confidence": "Merchant key confidence", "aliases": "Aliases", "domains": "Domains",
                "description": "Description", "status": "Status", "categories": "Categories", "networks": "Networks",
                "commission": "Commission", "commission_text": "Commission (verbatim)", "payout_model": "Payout model",
                "cookie_days": "Cookie length", "payout": "Payout", "countries": "Countries",
                "excluded_countries": "Excluded countries", "countries_unread": "Countries not read",
                "restrictions": "Restrictions", "epc_7d": "EPC (7 days)", "epc_90d": "EPC (3 months)",
                "conversion_rate": "Conversion rate", "approval_rate": "Approval rate",
                "validation_days": "Validation days", "average_payment_days": "Average payment days",
                "deeplink_domains": "Deep link domains",
                "deeplinks_allowed": "Deep links allowed", "gravity": "Gravity", "approval": "Approval",
                "terms_url": "Terms page", "first_seen_at": "First seen", "last_seen_at": "Last seen",
                "last_verified_at": "Last verified", "last_changed_at": "Last changed",
                "misses": "Verifications missed", "records": "Source records", "quality_score": "Quality score",
                "discovery": "Discovery", "payout_methods": "Payout methods", "payout_frequency": "Payout frequency",
                "min_payout": "Minimum payout"}


def field_label(name: str) -> str:
    """A field's words (FIELD_LABELS); one without any (a stored document's, of a newer build) by its name."""
    return FIELD_LABELS.get(name, name)


def yes_no(value: bool) -> str:
    """A field's yes or no (a network's deeplinks_allowed), as the explorer and the CLI say it."""
    return "Yes" if value else "No"


RATES = ("approval_rate", "conversion_rate")  # Program fields that are fractions (0.873: 87.3% of sales approved)


# How a time in UTC reads to a person, to the second or the minute: every CLI table (cli/views.utc_text) and stored
# text a person reads (utc_said)
TO_THE_SECOND, TO_THE_MINUTE = "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"


def utc_said(when) -> str:
    """An aware time in stored text a person reads (a connection's health reason) as the CLI shows every time:
    '2026-12-06 08:00:00 UTC', not ISO's '2026-12-06T08:00:00+00:00'."""
    return f"{when.astimezone(UTC):{TO_THE_SECOND}} UTC"


def ending_in_z(iso: str) -> str:
    """A time in UTC as the API writes it (as the models' dumps write one), ending in Z, where isoformat, which stored
    times are written with, ends it in +00:00; other text is returned as it is."""
    return iso[:-6] + "Z" if iso.endswith("+00:00") else iso


def rate_text(fraction) -> str:
    """A share kept as a fraction, in percent as the networks show it, wherever it is shown: 0.873 is 87.3%."""
    percent = f"{Decimal(str(fraction)) * 100:f}"
    return (percent.rstrip("0").rstrip(".") if "." in percent else percent) + "%"


def cooldown_text(seconds: int) -> str:
    """A rule's cool-down, in the CLI and on the Rules page alike: '3,600 s'."""
    return f"{seconds:,} s"


def number_text(value) -> str:
    """A figure as people write it, in a term and in a rule's message alike: 10, not 10.0; anything else (a damaged
    claim's) as it is."""
    if isinstance(value, float):  # 15 digits, as a float holds them: :g's 6 wrote 1234567.0 as 1.23457e+06
        return f"{value:.15g}"
    return str(value)  # an int whole


def terms_summary(terms) -> str:
    """Commission terms (models, or their JSON form as the index and a source's claim hold them) as people write
    them: '10–20%', '50 USD', 'up to 30% recurring', each tier with what unlocks it ('5% at first sale'): two terms
    that differ only in their tiers are two sides of a disagreement, and read as two."""
    parts = []
    for term in terms or []:
        term = term if isinstance(term, dict) else term.model_dump(mode="json")
        unit = "%" if term.get("type") == "percent" else f" {term.get('currency')}"
        low, high = term.get("value_min"), term.get("value_max")
        if low is None:
            value = f"up to {number_text(high)}"
        elif high is None or high == low:
            value = number_text(low)
        else:
            value = f"{number_text(low)}–{number_text(high)}"
        tiers = ", ".join(f"{number_text(tier.get('value'))}{unit} at {tier.get('threshold')}"
                          for tier in term.get("tiers") or [])
        parts.append(f"{value}{unit}" + RECURRENCE.get(term.get("recurring"), "") + (f" (tiers: {tiers})" if tiers else ""))
    return ", ".join(parts) or NO_VALUE


def amount_text(amount, currency) -> str:
    """An amount of money (an EPC, a payout minimum) as a commission's flat term is written beside it: '0.4512 USD',
    the figure first, in the CLI and the explorer alike."""
    return f"{amount} {currency}"


def payout_text(value: dict) -> str:
    """Payout terms (a Payout's JSON form) as a line, in the CLI and the explorer alike: 'PayPal, Wire transfer; Net
    30; minimum 50 USD' (the CLI wrote 'min 50 USD' where the pages wrote 'minimum': two summaries of one field)."""
    from affiliate_matrix.codes import WORDS

    minimum, frequency = value.get("minimum"), value.get("frequency")
    parts = [", ".join(WORDS["payout_method"].get(method, str(method)) for method in value.get("methods") or []),
             WORDS["payout_frequency"].get(frequency, str(frequency)) if frequency else "",
             f"minimum {amount_text(minimum['amount'], minimum['currency'])}" if minimum else ""]
    return "; ".join(p for p in parts if p) or NO_VALUE


def cookie_text(days) -> str:
    """A cookie's length as people say it, in the CLI and the explorer alike: '45 days', 'lifetime' (stored as -1
    days); the CLI wrote '45d' where the pages wrote '45 days'."""
    return NO_VALUE if days is None else "lifetime" if days == -1 else counted(days, "day")


def records_text(records, title) -> str:
    """A program's records (a `records` claim's JSON form) as people read them wherever a field shows them:
    'AffiliatePrograms.com: bluehost', each source by `title` (its plugin's title: the CLI's and the explorer's) and
    its own id; the CLI said the id and its page, the explorer the source's code and the id ('discovery 127.0.0.3').
    No page: a network API's record is read from a request URL, never shown on a page (it may name the account), and
    the CLI lists the pages apart, under the claims."""
    return ", ".join(f"{title(r.get('source'))}: {r.get('record_key')}"
                     for r in records or [] if isinstance(r, dict)) or NO_VALUE


def listing_text(network: dict, title) -> str:
    """A program's listing on a network (its JSON form) as people read it wherever a field shows one: 'Impact (11630;
    account: expired)', the network by `title` (its proper name, or the listing's title as its source wrote it: the
    CLI's and the explorer's), its program id and the
    account's contract where each is said, the contract worded as the merchant page words it, so that a change of the
    contract alone reads as one."""
    from affiliate_matrix.codes import WORDS

    said = [str(network["program_id"])] if network.get("program_id") else []
    if contract := network.get("contract"):
        said.append(f"account: {WORDS['contract'].get(contract, str(contract)).lower()}")
    return str(title(network.get("network"), network.get("title"))) + (f" ({'; '.join(said)})" if said else "")


WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _cron_number(text: str) -> int | None:
    """A cron field's number (ASCII digits, leading zeros as cron takes them) or None: text of more digits than any
    field's number has is none (int() refuses one of over 4,300 digits, a ValueError the pages answered 500)."""
    return int(text) if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 2 else None


def _numbers(field: str, low: int, high: int) -> list[int] | None:
    """A cron field of numbers listed (3 or 15,3) as its values in the order they run, or None: any other shape, or
    one out of range."""
    values = [_cron_number(item) for item in field.split(",")]
    return sorted(set(values)) if all(value is not None and low <= value <= high for value in values) else None


def _every(field: str, whole: int) -> int | None:
    """A step over a whole field (*/15 of 60 minutes) as its step, or None: any other shape, or one that does not
    divide the hour or the day evenly (*/7 minutes runs at :56 and again at :00), which 'every 7 minutes' would miss."""
    step = _cron_number(field.removeprefix("*/")) if field.startswith("*/") else None
    return step if step is not None and 0 < step < whole and whole % step == 0 else None


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _weekdays(field: str) -> str | None:
    """A day-of-week field (1-5, MON,THU, 0 or 7 for Sunday) in words ('Monday to Friday'), or None, also for one
    naming a day twice (0-7 is every day, not 'Sunday to Sunday'; 1-5,3 is not 'Monday to Friday and Wednesday')."""
    def day(text: str) -> int | None:  # 0 to 7, as cron numbers them (7: Sunday again)
        if (number := _cron_number(text)) is not None:
            return number if number <= 7 else None
        return next((at for at, name in enumerate(WEEKDAYS) if name[:3].upper() == text.upper()), None)

    said, days = [], []
    for item in field.split(","):
        first, dash, last = item.partition("-")
        start, end = day(first), day(last) if dash else None
        if start is None or dash and (end is None or end <= start):
            return None
        said.append(WEEKDAYS[start % 7] + (f" to {WEEKDAYS[end % 7]}" if dash else ""))
        days += [number % 7 for number in range(start, (end if dash else start) + 1)]
    return _listed(said) if len(days) == len(set(days)) else None


def schedule_words(cron: str) -> str | None:
    """A connection's or a rule's cron schedule (UTC, as the schedulers read them: sync_requests.request_due) in words
    for the shapes people write ('every day at 03:00 UTC' for '0 3 * * *', 'every 15 minutes', 'every Monday to Friday at
    06:30 UTC', 'on day 1 of the month at 00:00 UTC', 'every 6 hours from 00:30 UTC'), or None for any other: the
    cron is then shown alone rather than said wrong. Written here, not by a cron-describing library: cron-descriptor's
    English ('At 03:00') says no 'every day' and reads the process's locale; these few shapes are all ours take."""
    fields = cron.split()
    if len(fields) != 5:
        return None
    minute, hour, day, month, weekday = fields
    if month != "*" or (day != "*" and weekday != "*"):  # a day of the month or a weekday (cron: either), not both
        return None
    if hour == "*" and day == weekday == "*":
        if minute == "*":
            return "every minute"
        if step := _every(minute, 60):
            return "every minute" if step == 1 else f"every {step} minutes"
        minutes = _numbers(minute, 0, 59)
        return minutes and f"every hour at minute{'s' if len(minutes) > 1 else ''} {_listed([str(m) for m in minutes])}"
    minutes = _numbers(minute, 0, 59)
    if minutes is None or len(minutes) != 1:
        return None
    if hour.startswith("*/"):  # every few hours from midnight
        step = _every(hour, 24)
        if step is None or day != "*" or weekday != "*":
            return None
        return f"every hour at minute {minutes[0]}" if step == 1 else f"every {step} hours from 00:{minutes[0]:02d} UTC"
    hours = _numbers(hour, 0, 23)
    if hours is None:
        return None
    at = f"at {_listed([f'{h:02d}:{minutes[0]:02d}' for h in hours])} UTC"
    if day != "*":
        days = _numbers(day, 1, 31)
        return days and f"on day{'s' if len(days) > 1 else ''} {_listed([str(d) for d in days])} of the month {at}"
    if weekday != "*":
        days_said = _weekdays(weekday)
        return days_said and f"every {days_said} {at}"
    return f"every day {at}"
