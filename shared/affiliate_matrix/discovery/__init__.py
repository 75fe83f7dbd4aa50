"""Discovery: find affiliate programs nobody has listed yet, by search-engine "dork" queries.

dorks.py generates the queries, providers.py sends them (Google Programmable Search, Brave,
SearXNG) within each provider's daily quota, run.py de-duplicates the results, skips what is
known and ties it together, and validate.py decides from the fetched page whether it is a program:
confident finds enter the index as `discovered`, doubtful ones a review list. settings.py holds
discovery's settings (AMX_DISCOVERY_*).
A run's report is defined here, light, because the discover API declares its answer from it.
"""

from dataclasses import dataclass, field

# Where a run's decisions are kept, a site each (run.seen_key): the sites judged, skipped by later runs until the
# retention job forgets a decision (AMX_RETENTION_DISCOVERY_SEEN_DAYS), so a site without a program then is judged again.
SEEN = "discovery/seen/"
BATCHES = "batches/discovery/"  # what discovery found and what a person accepted, a batch of `discovered` records each


def batch_stored(batch_key: str, records: int):
    """The event announcing a discovery batch, for the index to fold in: its id derived from the batch, so announcing
    it again (a retry, a rebuild) is the same event."""
    from affiliate_matrix.events import RAW_BATCH_STORED, Event

    return Event.make(RAW_BATCH_STORED, "/discover", {"batch_key": batch_key, "connection_id": "discovery",
                                                      "records": records, "failures": 0},
                      key=batch_key, subject="discovery")


@dataclass
class DiscoveryReport:
    queries: int = 0
    results: int = 0
    candidates: int = 0
    known: list[str] = field(default_factory=list)
    # sites left unjudged as no merchant's own, each with why (run.not_a_merchant): a network's, a directory's, a
    # marketplace's; once each
    not_merchants: list[str] = field(default_factory=list)
    discovered: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # each rejected site's reason, one short line (validate.why_rejected): a list of programs, a publisher's post, ...
    rejected_why: dict[str, str] = field(default_factory=dict)
    # pages about another site's program (a directory's profile, a review) whose merchant's own program page, linked
    # from them, the run judged as the merchant's candidate ("directory.example → https://merchant.example/affiliates");
    # one the run's time did not reach is in not_judged (its site), not here
    merchants_followed: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    provider_errors: list[str] = field(default_factory=list)
    quota_exhausted: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)  # the providers left out, and why (no URL, no key)
    # answers given in part (results cut to the page a query takes; SearXNG engines that failed beside others that
    # found nothing), each with how many queries
    partial_answers: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    batch_key: str | None = None
    # The run stopped asking at its time budget (run.discover); the candidates it had not judged, by domain (a
    # merchant a page about its program led to among them), are judged by the next run that finds them; and the pages
    # of sites publishing pages about other sites' programs it had not read for the merchants they lead to, by URL
    out_of_time: bool = False
    not_judged: list[str] = field(default_factory=list)
    leads_not_read: list[str] = field(default_factory=list)
    # niches the run left out, each with why: words a search engine reads as operators (dorks.niche_problem), given
    # where nothing refused them (AMX_DISCOVERY_NICHES, a cron's data, a rule stored before the rule on niches)
    skipped_niches: list[str] = field(default_factory=list)


def nothing_asked(report: DiscoveryReport) -> str | None:
    """Why a run asked no search provider anything, when every query went unanswered (None when one was answered, or
    there was none): each provider's error, or its quota spent. Such a report holds nothing else, and answered as one
    (a 200 to POST /discover, a cron event done) it said nothing had gone wrong: the function fails with this."""
    if report.queries or not report.unanswered:
        return None
    why = [*report.provider_errors, *(f"{name}: its quota for the day is spent" for name in report.quota_exhausted),
           *(["the run's time limit passed"] if report.out_of_time else [])]
    return f"no search provider answered any of the run's {len(report.unanswered)} queries ({'; '.join(why)})"
