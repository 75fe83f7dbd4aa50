"""Impact partner API: the campaigns (programs) a media partner can promote, paged by the
`@nextpageuri` the API returns. HTTP Basic auth with the account SID and auth token."""

import base64

from affiliate_matrix.sources import ApiSource, Listing, register


@register
class Impact(ApiSource):
    name = "impact"
    title = "Impact partner API"
    base_url = "https://api.impact.com"
    credential_keys = ("account_sid", "auth_token")
    max_rate_per_s = 1.0

    def auth_headers(self, credentials):
        token = base64.b64encode(f"{credentials['account_sid']}:{credentials['auth_token']}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    async def listings(self, api, credentials):
        path, params = f"/Mediapartners/{credentials['account_sid']}/Campaigns", {"PageSize": "100"}
        for _ in range(1000):  # pages; the API's own total bounds it, this bounds a looping API
            page = await api.get(path, params)
            for campaign in page.data.get("Campaigns", []):
                yield page, Listing(
                    record_key=str(campaign["CampaignId"]),
                    name=campaign.get("AdvertiserName") or campaign["CampaignName"],
                    merchant_url=campaign.get("AdvertiserUrl") or None,
                    description=campaign.get("CampaignDescription") or None,
                    network="impact",
                    network_program_id=str(campaign["CampaignId"]),
                    join_url=campaign.get("TrackingLink") or None,
                    countries=[r for r in campaign.get("ShippingRegions", []) if len(r) == 2],
                    extra={"contract_status": campaign.get("ContractStatus", "")},
                )
            next_uri = page.data.get("@nextpageuri")
            if not next_uri:
                return
            path, params = next_uri, None
