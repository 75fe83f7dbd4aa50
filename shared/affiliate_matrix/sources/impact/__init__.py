"""Impact partner API: the campaigns (programs) a media partner can promote, paged by the
`@nextpageuri` the API returns. HTTP Basic auth with the account SID and auth token.

A campaign is the program: `CampaignName` and `CampaignUrl` name it and its site; `AdvertiserName`
is the merchant's parent company (Adorama runs the SunnySports campaign), kept as an alias.
`ShippingRegions` holds Impact's own region names (`US`, `UK`, `CANADA`, `Worldwide`), kept verbatim: normalize reads
them as every source's country labels (taxonomy.countries). `ContractStatus` is this
account's contract with the campaign: the connection's fact, kept on its network listing, never the program's status."""

import base64
import re

from affiliate_matrix.sources import ApiSource, Listing, PagedTotal, ParseError, attempt, register, shaped

MAX_PAGES = 1000  # the API's own total bounds the paging; this bounds a looping API
_COUNT = re.compile(r"[0-9]{1,18}")  # `@total`, a count in a string: ASCII digits (str.isdigit() also takes '²')
# ContractStatus in the shared vocabulary of an account's relationship (models.Contract). Impact documents Active and
# Expired ("no longer active") for the campaign list; any other word is kept in extra only, not guessed at.
CONTRACTS = {"active": "joined", "expired": "expired"}


@register
class Impact(ApiSource):
    name = "impact"
    title = "Impact partner API"
    network, network_title = "impact", "Impact"  # the network its listings name, as people name it
    base_url = "https://api.impact.com"
    credential_keys = ("account_sid", "auth_token")
    account_after = ("mediapartners",)  # /Mediapartners/<account SID>/Campaigns
    max_rate_per_s = 1.0

    def auth_headers(self, credentials):
        token = base64.b64encode(f"{credentials['account_sid']}:{credentials['auth_token']}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    async def listings(self, api, credentials):
        path, params = f"/Mediapartners/{credentials['account_sid']}/Campaigns", {"PageSize": "100"}
        asked, totals = set(), PagedTotal("campaign")
        for number in range(1, MAX_PAGES + 1):
            page = await api.get(path, params)
            asked.add(page.url)
            data = shaped(page.data, dict, f"{page.url}: the answer")
            # Its next page is the next page number (`Page=2`): a listing changing meanwhile shifts, as CJ's does
            total = data.get("@total")
            if isinstance(total, str) and _COUNT.fullmatch(total):
                if moved := totals.changed(page.url, number, int(total)):
                    yield page, moved
            for campaign in shaped(data.get("Campaigns", []), list, f"{page.url}: Campaigns"):
                yield page, attempt(campaign_listing, campaign)
            next_uri = data.get("@nextpageuri")
            if not next_uri:
                return
            path, params = shaped(next_uri, str, f"{page.url}: @nextpageuri"), None
            if api.url_of(path) in asked:  # a page read already: the API loops
                raise ParseError(f"{page.url}: its @nextpageuri {str(next_uri)[:200]!r} names a page already read")
        # Not the listing's end: a run that stops short must not pass for complete (it would withdraw the rest)
        yield page, ParseError(f"{page.url}: stopped after {MAX_PAGES} pages, before the last")


def campaign_listing(campaign: dict) -> Listing:
    campaign_id = str(shaped(campaign, dict, "a campaign")["CampaignId"])
    name = campaign["CampaignName"].strip()
    advertiser = (campaign.get("AdvertiserName") or "").strip()
    return Listing(
        record_key=campaign_id,
        name=name,
        merchant_url=campaign.get("CampaignUrl") or None,  # never the parent company's site
        description=campaign.get("CampaignDescription") or None,
        network=Impact.network,
        network_program_id=campaign_id,
        join_url=campaign.get("TrackingLink") or None,
        countries=[str(region)[:200] for region in shaped(campaign.get("ShippingRegions") or [], list,
                                                        f"campaign {campaign_id}: ShippingRegions")],
        deeplink_domains=[str(domain)[:300] for domain in shaped(campaign.get("DeeplinkDomains") or [], list,
                                                                 f"campaign {campaign_id}: DeeplinkDomains")],
        aliases=[advertiser] if advertiser and advertiser.lower() != name.lower() else [],
        # ContractStatus is this account's contract, not the program's state: kept as the account's (its network
        # listing's contract; the word itself in extra.contract_status), it closes no program.
        contract=CONTRACTS.get(str(campaign.get("ContractStatus") or "").strip().lower()),
        extra={key: str(campaign[field]) for key, field in (
            ("contract_status", "ContractStatus"), ("advertiser_id", "AdvertiserId"),
            ("advertiser_url", "AdvertiserUrl"), ("deeplinks_allowed", "AllowsDeeplinking"))
               if campaign.get(field) not in (None, "")},  # AllowsDeeplinking's "false" (or false) too
    )

