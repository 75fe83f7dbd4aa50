"""What each source plugin must make of its recorded site, checked by hand field by field: the
records, the pages fetched, the pages that fail to parse, the credentials a network API asks for.
tests/e2e/test_sources.py scrapes against it; the demo and network API tests count with it."""

from affiliate_matrix.demo import RECORDED_CREDENTIALS

EXPECTED = {
    "affiliateprograms": {
        "records": {
            "semrush": {"name": "Semrush", "merchant_url": "https://www.semrush.com/",
                        "categories": ["Software", "Marketing Tools"],
                        "commission_text": "$200 for every new subscription sale, $10 per trial",
                        "cookie_text": "120 days", "payout_text": "Paid monthly via PayPal or wire, $50 minimum",
                        "network": "Impact", "join_url": "https://semrush.sjv.io/c/1234/567/890"},
            "canva": {"name": "Canva Pro", "merchant_url": "https://www.canva.com/", "cookie_text": "30 days",
                      "commission_text": "Up to $36 for every new Canva Pro subscriber", "payout_text": None},
            "nordvpn": {"name": "NordVPN", "categories": ["VPN & Security"], "network": "Impact",
                        "commission_text": "40% on new 1-month plans, 20% on renewals"},
            "bluehost": {"name": "Bluehost", "commission_text": "$65 - $130 per qualified sale",
                         "payout_text": "Net 60 via PayPal", "categories": ["Web Hosting"]},
            "tiny-notes": {"name": "Tiny Notes", "merchant_url": None, "commission_text": None, "cookie_text": None,
                           "network": None, "join_url": None, "categories": ["Software"], "extracted_by": "plugin"},
            # a layout the selectors do not know: the generic reader's record
            "hostinger": {"name": "Hostinger", "commission_text": "60% per sale", "description": "Budget web hosting.",
                          "extracted_by": "generic"},
        },
        "parse_errors": ["/p/surfshark/"],  # an empty app shell: nothing to read
        "pages": 10,
    },
    "affiliatefix": {
        "records": {
            "187342": {"name": "Mailflow", "merchant_url": "https://www.mailflow.io/", "categories": ["SaaS"],
                       "join_url": "https://mailflow.partnerstack.com/?group=affiliatefix",
                       "extra": {"author": "mailflow_team"}},
            "187301": {"name": "TrailGear Outdoor", "merchant_url": None, "join_url": None, "categories": [],
                       "description": "We sell outdoor and camping gear across Europe. Details on request, send us a PM."},
            "187355": {"name": "LuckySpin Partners", "merchant_url": "https://www.luckyspin-casino.com/",
                       "categories": ["Casino"], "join_url": None},  # listed in two feeds, fetched once
        },
        "parse_errors": ["/threads/vpnguard-affiliate-program-40-revshare.187288/"],
        "pages": 8,  # four feeds, and the four threads announcing a program (questions and chat are not fetched)
    },
    "affiliationlist": {
        "records": {
            "notion": {"name": "Notion", "merchant_url": "https://www.notion.so/", "categories": ["SaaS", "Productivity"],
                       "commission_text": "50% of the first payment", "cookie_text": "90 days",
                       "payout_text": "Monthly, $50 minimum PayPal, bank transfer", "network": "PartnerStack",
                       "join_url": "https://notion.partnerstack.com/",
                       "description": "All-in-one workspace for notes and docs."},
            "mailflow": {"name": "Mailflow", "commission_text": "30% recurring for 12 months", "payout_text": None,
                         "join_url": None},
            "quietdesk": {"name": "QuietDesk", "commission_text": None, "cookie_text": None, "categories": ["SaaS"]},
            "coinledger": {"name": "CoinLedger", "commission_text": "Commission 25%", "extracted_by": "generic"},
        },
        "parse_errors": [],
        "pages": 7,
    },
    "affiliatesdirectory": {
        "records": {
            "4711": {"name": "HostFast", "categories": ["Computers & Internet", "Web Hosting"],
                     "commission_text": "$100 per sale", "cookie_text": "60 days",
                     "payout_text": "Net 30 by check or PayPal", "merchant_url": "https://www.hostfast.net/",
                     "join_url": "https://www.shareasale.com/shareasale.cfm?merchantID=4711"},
            "5120": {"name": "BackupCloud", "commission_text": "20% recurring", "cookie_text": None,
                     "merchant_url": "https://backupcloud.io/"},
            "6001": {"name": "PixelPro", "commission_text": None, "merchant_url": None, "join_url": None},
        },
        "parse_errors": ["/program/6002/oldsoft.html"],  # a name and "Gone.": the generic reader reads no program either
        "pages": 6,  # HostFast's priority listing repeats it on both pages; it is fetched once
    },
    "awin": {
        "credentials": RECORDED_CREDENTIALS["awin"],
        "records": {
            "1001": {"name": "Trailhead Outfitters", "merchant_url": "https://www.trailhead-outfitters.co.uk/",
                     "commission_text": "3 - 8%", "network": "awin", "network_program_id": "1001",
                     "join_url": "https://www.awin1.com/awclick.php?mid=1001&id=123456", "countries": ["GB"],
                     "categories": ["Sports & Outdoors"],
                     "extra": {"approval_rate": "0.873", "conversion_rate": "0.0241", "validation_days": "30",
                               "average_payment_days": "42.5", "epc_90d": "0.21", "epc_currency": "GBP"}},
            "1002": {"name": "Semrush EU", "commission_text": "200 EUR", "countries": ["DE"]},
        },
        "parse_errors": [],
        "pages": 3,  # the 429 and the 403 (Awin's rate limit) the API answers first are retried, not kept
    },
    "impact": {
        "credentials": RECORDED_CREDENTIALS["impact"],
        "records": {
            "9871": {"name": "Semrush", "merchant_url": "https://www.semrush.com/", "network": "impact",
                     "join_url": "https://semrush.sjv.io/c/123456/9871/1234", "countries": ["US", "UK", "Worldwide"],
                     "aliases": [],
                     "description": "All-in-one SEO toolkit. Earn $200 per subscription, 120-day cookie."},
            "10234": {"name": "Canva", "network_program_id": "10234", "countries": ["US", "CANADA"]},
            # the campaign is the program; its advertiser, the parent company, an alias; its regions as Impact
            # names them (normalize reads them: LATAM is no country)
            "11877": {"name": "NordVPN", "merchant_url": "https://nordvpn.com/", "aliases": ["Nord Security"],
                      "countries": ["US", "DE", "LATAM"], "contract": "joined",  # ContractStatus Active, the account's
                      "extra": {"contract_status": "Active", "advertiser_id": "83139",
                                "advertiser_url": "https://nordsecurity.com", "deeplinks_allowed": "true"}},
        },
        "parse_errors": [],
        "pages": 2,
    },
    "cj": {
        "credentials": RECORDED_CREDENTIALS["cj"],
        "records": {
            "1566745": {"name": "Bluehost", "merchant_url": "https://www.bluehost.com/", "network": "cj",
                        "contract": "joined",  # relationship-status joined, the account's
                        "network_program_id": "1566745", "categories": ["Web Hosting/Servers"],  # the child alone
                        "commission_text": "Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)",
                        "commission": [{"type": "flat", "value_min": "65", "value_max": "130", "currency": "USD",
                                        "recurring": None, "tiers": []}],
                        "extra": {"relationship_status": "joined", "account_status": "Active", "network_rank": "5",
                                  "performance_incentives": "true", "mobile_tracking_certified": "true",
                                  "cookieless_tracking_enabled": "true", "language": "en", "epc_7d": "0.4512",
                                  "epc_90d": "0.389", "epc_currency": "USD", "deeplinks_allowed": "true"}},
            "4790321": {"name": "Lumen Skincare",
                        "commission_text": "Online Sale: 10.00% (Gift Sets: 4.00%); Newsletter Signup: USD 2.00",
                        "commission": [{"type": "percent", "value_min": "4", "value_max": "10", "currency": None,
                                        "recurring": None, "tiers": []},
                                       {"type": "flat", "value_min": "2", "value_max": None, "currency": "USD",
                                        "recurring": None, "tiers": []}]},
            "3214598": {"name": "NordVPN", "merchant_url": "https://nordvpn.com/", "commission_text": "New Subscription: 40.00%"},
        },
        "parse_errors": [],
        "pages": 2,
    },
    "rakuten": {
        "credentials": RECORDED_CREDENTIALS["rakuten"],
        "records": {
            "36342": {"name": "Bluehost", "merchant_url": "https://www.bluehost.com/", "network": "rakuten",
                      "network_program_id": "36342", "cookie_text": "45 days", "countries": ["US", "CA"],
                      "description": "Web hosting, domains and WordPress hosting for small businesses.",
                      "commission": [{"type": "flat", "value_min": "65", "value_max": "100", "currency": "USD",
                                      "recurring": None, "tiers": [
                                          {"threshold": "Bluehost Hosting Bounty: 0 to 20", "value": "65"},
                                          {"threshold": "Bluehost Hosting Bounty: 20 and above", "value": "100"}]}]},
            "44583": {"name": "Lumen Skincare", "cookie_text": "60 days",  # the longer of its two offers' windows
                      "commission_text": "Lumen Public Offer: Base commission rate: 5% (0 to 500), 8% (500 to 2000), "
                                         "10.5% (2000 and above); Lumen Holiday Special: Gift sets: 12%",
                      "extra": {"advertiser_status": "active", "rakuten_network": "United States",
                                "offers": "40977 Lumen Public Offer, 41502 Lumen Holiday Special",
                                "terms_url": "https://www.lumenskincare.com/affiliate-terms",
                                "deeplinks_allowed": "true"}},  # its advertiser's features.deep_links
            "51877": {"name": "Wanderlust Luggage", "countries": ["GB", "IE"], "cookie_text": "45 days",
                      "commission": [{"type": "percent", "value_min": "7", "value_max": None, "currency": None,
                                      "recurring": None, "tiers": []}]},
        },
        "parse_errors": [],
        "pages": 5,  # two pages of offers (a 403 "slow down" retried, not kept), three advertisers; the token is not kept
    },
    "clickbank": {
        "records": {
            "KETOCYCLE": {"name": "Keto Cycle Meal Plans", "network": "clickbank", "network_program_id": "KETOCYCLE",
                          "categories": ["Health & Fitness", "Diets & Weight Loss"], "cookie_text": "60 days",
                          "merchant_url": None, "join_url": None,
                          "commission_text": "75% per sale; average $112.4/sale (initial $39.85); 50% per rebill, "
                                             "average rebill total $72.55",
                          "commission": [{"type": "percent", "value_min": "75", "value_max": None, "currency": None,
                                          "recurring": None, "tiers": []},
                                         {"type": "percent", "value_min": "50", "value_max": None, "currency": None,
                                          "recurring": True, "tiers": []}],
                          "extra": {"gravity": "182.37", "popularity_rank": "1", "percent_per_sale": "74.92",
                                    "percent_per_rebill": "50", "average_earnings_per_sale": "112.4",
                                    "initial_earnings_per_sale": "39.85", "average_rebill_total": "72.55",
                                    "referred_percent": "93", "has_recurring_products": "true", "currency": "USD",
                                    "activate_date": "2021-03-14"}},
            "SLIMSMOOTH": {"description": "21-day smoothie diet guide, caf\u00e9-style recipes.",
                           "commission": [{"type": "percent", "value_min": "70", "value_max": None, "currency": None,
                                           "recurring": None, "tiers": []}]},
            "SEOPRESSO": {"categories": ["E-business & E-marketing", "Marketing"]},
            "CODECAMPX": {"categories": ["Computers & Internet"], "name": "Code Camp X"},
        },
        "parse_errors": [],
        "pages": 1,  # the whole marketplace is one daily file
    },
    "offervault": {
        "records": {
            "5f0c2a9e8b1d4c0017e3a1b2": {
                "name": "Keto Burn - US", "kind": "offer", "commission_text": "USD 32.00 per CPA",
                "network": "MaxBounty", "categories": ["Health & Fitness", "Diet"], "countries": ["US"],
                "merchant_url": "https://www.ketoburn-shop.com/lp1",
                "payout_text": "Minimum payment: $50; Payment methods: Check, PayPal, Direct Deposit; Payment frequency: Weekly",
                "extra": {"payout_type": "CPA", "created_at": "2026-10-02T11:20:00.000Z", "network_id": "12",
                          "updated_at": "2026-11-18T08:00:00.000Z",
                          "offer_url": "https://offervault.com/offer/5f0c2a9e8b1d4c0017e3a1b2/keto-burn-us"}},
            "5f0c2aff8b1d4c0017e3a4c7": {"name": "SolarQuote - Lead", "commission_text": "USD 18.50 per CPL",
                                         "network": "ClickDealer", "countries": ["US", "CA"]},
            "5f0c2b4d8b1d4c0017e3a9f0": {"name": "VPN Shield Trial", "commission_text": "USD 4.10 per CPI",
                                         "countries": ["US", "GB", "DE"]},
            # a second offer of Keto Burn's (one landing domain), on the next page: one program, both offers' terms
            "5f0c2b118b1d4c0017e3a6d5": {"name": "Keto Burn - UK - CC Submit", "commission_text": "USD 45.00 per CC Submit",
                                         "network": "MaxBounty", "countries": ["GB", "IE"],
                                         "merchant_url": "https://www.ketoburn-shop.com/uk/lp2"},
        },
        "parse_errors": [],
        "pages": 4,  # the networks, then each network's offers page by page (none asked for the empty network)
    },
}
