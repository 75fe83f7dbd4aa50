"""ISO-3166 alpha-2 country codes with their names and ISO-4217 currency codes (generated once from pycountry's and
Debian iso-codes' data; a lookup adds nothing to a cold start), and the domain's closed vocabularies: kinds, statuses,
categories, …"""

# Each country code with its name as people read it (Debian iso-codes' common names, a few shortened so that a list of
# them joined by commas reads: DR Congo, US Virgin Islands)
COUNTRY_NAMES = {
    "AD": "Andorra", "AE": "United Arab Emirates", "AF": "Afghanistan", "AG": "Antigua and Barbuda", "AI": "Anguilla",
    "AL": "Albania", "AM": "Armenia", "AO": "Angola", "AQ": "Antarctica", "AR": "Argentina", "AS": "American Samoa",
    "AT": "Austria", "AU": "Australia", "AW": "Aruba", "AX": "Åland Islands", "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina", "BB": "Barbados", "BD": "Bangladesh", "BE": "Belgium", "BF": "Burkina Faso",
    "BG": "Bulgaria", "BH": "Bahrain", "BI": "Burundi", "BJ": "Benin", "BL": "Saint Barthélemy", "BM": "Bermuda",
    "BN": "Brunei", "BO": "Bolivia", "BQ": "Caribbean Netherlands", "BR": "Brazil", "BS": "Bahamas", "BT": "Bhutan",
    "BV": "Bouvet Island", "BW": "Botswana", "BY": "Belarus", "BZ": "Belize", "CA": "Canada", "CC": "Cocos Islands",
    "CD": "DR Congo", "CF": "Central African Republic", "CG": "Congo", "CH": "Switzerland", "CI": "Côte d'Ivoire",
    "CK": "Cook Islands", "CL": "Chile", "CM": "Cameroon", "CN": "China", "CO": "Colombia", "CR": "Costa Rica",
    "CU": "Cuba", "CV": "Cabo Verde", "CW": "Curaçao", "CX": "Christmas Island", "CY": "Cyprus", "CZ": "Czechia",
    "DE": "Germany", "DJ": "Djibouti", "DK": "Denmark", "DM": "Dominica", "DO": "Dominican Republic", "DZ": "Algeria",
    "EC": "Ecuador", "EE": "Estonia", "EG": "Egypt", "EH": "Western Sahara", "ER": "Eritrea", "ES": "Spain",
    "ET": "Ethiopia", "FI": "Finland", "FJ": "Fiji", "FK": "Falkland Islands", "FM": "Micronesia",
    "FO": "Faroe Islands", "FR": "France", "GA": "Gabon", "GB": "United Kingdom", "GD": "Grenada", "GE": "Georgia",
    "GF": "French Guiana", "GG": "Guernsey", "GH": "Ghana", "GI": "Gibraltar", "GL": "Greenland", "GM": "Gambia",
    "GN": "Guinea", "GP": "Guadeloupe", "GQ": "Equatorial Guinea", "GR": "Greece",
    "GS": "South Georgia and the South Sandwich Islands", "GT": "Guatemala", "GU": "Guam", "GW": "Guinea-Bissau",
    "GY": "Guyana", "HK": "Hong Kong", "HM": "Heard Island and McDonald Islands", "HN": "Honduras", "HR": "Croatia",
    "HT": "Haiti", "HU": "Hungary", "ID": "Indonesia", "IE": "Ireland", "IL": "Israel", "IM": "Isle of Man",
    "IN": "India", "IO": "British Indian Ocean Territory", "IQ": "Iraq", "IR": "Iran", "IS": "Iceland", "IT": "Italy",
    "JE": "Jersey", "JM": "Jamaica", "JO": "Jordan", "JP": "Japan", "KE": "Kenya", "KG": "Kyrgyzstan", "KH": "Cambodia",
    "KI": "Kiribati", "KM": "Comoros", "KN": "Saint Kitts and Nevis", "KP": "North Korea", "KR": "South Korea",
    "KW": "Kuwait", "KY": "Cayman Islands", "KZ": "Kazakhstan", "LA": "Laos", "LB": "Lebanon", "LC": "Saint Lucia",
    "LI": "Liechtenstein", "LK": "Sri Lanka", "LR": "Liberia", "LS": "Lesotho", "LT": "Lithuania", "LU": "Luxembourg",
    "LV": "Latvia", "LY": "Libya", "MA": "Morocco", "MC": "Monaco", "MD": "Moldova", "ME": "Montenegro",
    "MF": "Saint Martin", "MG": "Madagascar", "MH": "Marshall Islands", "MK": "North Macedonia", "ML": "Mali",
    "MM": "Myanmar", "MN": "Mongolia", "MO": "Macao", "MP": "Northern Mariana Islands", "MQ": "Martinique",
    "MR": "Mauritania", "MS": "Montserrat", "MT": "Malta", "MU": "Mauritius", "MV": "Maldives", "MW": "Malawi",
    "MX": "Mexico", "MY": "Malaysia", "MZ": "Mozambique", "NA": "Namibia", "NC": "New Caledonia", "NE": "Niger",
    "NF": "Norfolk Island", "NG": "Nigeria", "NI": "Nicaragua", "NL": "Netherlands", "NO": "Norway", "NP": "Nepal",
    "NR": "Nauru", "NU": "Niue", "NZ": "New Zealand", "OM": "Oman", "PA": "Panama", "PE": "Peru",
    "PF": "French Polynesia", "PG": "Papua New Guinea", "PH": "Philippines", "PK": "Pakistan", "PL": "Poland",
    "PM": "Saint Pierre and Miquelon", "PN": "Pitcairn", "PR": "Puerto Rico", "PS": "Palestine", "PT": "Portugal",
    "PW": "Palau", "PY": "Paraguay", "QA": "Qatar", "RE": "Réunion", "RO": "Romania", "RS": "Serbia", "RU": "Russia",
    "RW": "Rwanda", "SA": "Saudi Arabia", "SB": "Solomon Islands", "SC": "Seychelles", "SD": "Sudan", "SE": "Sweden",
    "SG": "Singapore", "SH": "Saint Helena", "SI": "Slovenia", "SJ": "Svalbard and Jan Mayen", "SK": "Slovakia",
    "SL": "Sierra Leone", "SM": "San Marino", "SN": "Senegal", "SO": "Somalia", "SR": "Suriname", "SS": "South Sudan",
    "ST": "Sao Tome and Principe", "SV": "El Salvador", "SX": "Sint Maarten", "SY": "Syria", "SZ": "Eswatini",
    "TC": "Turks and Caicos Islands", "TD": "Chad", "TF": "French Southern Territories", "TG": "Togo", "TH": "Thailand",
    "TJ": "Tajikistan", "TK": "Tokelau", "TL": "Timor-Leste", "TM": "Turkmenistan", "TN": "Tunisia", "TO": "Tonga",
    "TR": "Türkiye", "TT": "Trinidad and Tobago", "TV": "Tuvalu", "TW": "Taiwan", "TZ": "Tanzania", "UA": "Ukraine",
    "UG": "Uganda", "UM": "United States Minor Outlying Islands", "US": "United States", "UY": "Uruguay",
    "UZ": "Uzbekistan", "VA": "Vatican City", "VC": "Saint Vincent and the Grenadines", "VE": "Venezuela",
    "VG": "British Virgin Islands", "VI": "US Virgin Islands", "VN": "Vietnam", "VU": "Vanuatu",
    "WF": "Wallis and Futuna", "WS": "Samoa", "YE": "Yemen", "YT": "Mayotte", "ZA": "South Africa", "ZM": "Zambia",
    "ZW": "Zimbabwe",
}
COUNTRIES = frozenset(COUNTRY_NAMES)

CURRENCIES = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
    PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV
    WST XAF XCD XOF XPF YER ZAR ZMW ZWG
    """.split()
)


def typed_currency(code: str) -> str:
    """A currency code as a person types it: `usd` is USD, wherever a currency is typed (a model's Currency, a search's
    currency filter, AMX_BUDGET_DAILY_TOTAL)."""
    return _typed(code)


def typed_country(code: str) -> str:
    """A country code as a person types it: `de` is DE, wherever a country is typed (a model's Country, a search's
    country filter)."""
    return _typed(code)


def _typed(code: str) -> str:
    """A code's capitals, ASCII only: 'uſd'.upper() is USD too, and names nothing."""
    return code.upper() if code.isascii() else code


# ISO-4217 currencies whose minor unit is 0 (no cents): an amount in them is whole (¥12,432.50 cannot be spent).
WHOLE_CURRENCIES = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split())

# The domain's closed vocabularies, held once: models.py makes its Literals of them, and the programs API refuses a
# filter naming another value with a 400 listing them (a misspelt `kind=ofer` found nothing, as if no program
# matched), without importing the models at a start.
KINDS = ("program", "offer")
COMMISSION_TYPES = ("percent", "flat")
PAYOUT_METHODS = ("paypal", "check", "bank_transfer", "payoneer", "ach", "wire", "store_credit", "crypto", "other")
PAYOUT_FREQUENCIES = ("monthly", "weekly", "biweekly", "quarterly", "net30", "net60", "on_request")
RESTRICTIONS = ("ppc_brand_bidding", "coupon_sites", "incentivized", "email_spam", "adult", "trademark_domains",
                "social_ads", "self_referral", "other")
STATUSES = ("active", "discovered", "closed_suspected", "removed")  # a program's status (Program.status)
CHANGES = ("created", "updated", "removed")  # what a delta records (DeltaChange.change)
# What a program's networks say of deep links (Program.deeplinks_allowed: True, False), as a search filters by it
DEEPLINKS = ("allowed", "not_allowed")
# Every category a program can have (taxonomy.py maps each source's own onto them), with the label people read for it
# (the web pages): a filter naming another finds nothing, so it is refused (`hosting` for hosting_domains).
CATEGORY_LABELS = {
    "apparel": "Apparel", "automotive": "Automotive", "b2b_saas": "B2B SaaS", "beauty": "Beauty",
    "books_media": "Books & media", "business_services": "Business services", "crypto": "Crypto", "dating": "Dating",
    "education": "Education", "electronics": "Electronics", "entertainment": "Entertainment", "finance": "Finance",
    "food_drink": "Food & drink", "gambling": "Gambling", "gaming": "Gaming", "gifts": "Gifts",
    "health_wellness": "Health & wellness", "home_garden": "Home & garden", "hosting_domains": "Hosting & domains",
    "insurance": "Insurance", "jewelry_accessories": "Jewelry & accessories", "kids_baby": "Kids & baby",
    "legal": "Legal", "marketing_tools": "Marketing tools", "other": "Other", "pets": "Pets",
    "real_estate": "Real estate", "software": "Software", "sports_outdoors": "Sports & outdoors", "telecom": "Telecom",
    "travel": "Travel", "vpn_security": "VPN & security",
}
CATEGORIES = tuple(sorted(CATEGORY_LABELS))

# How each closed vocabulary's codes read to people, by vocabulary: the web explorer's pages and the CLI's tables and
# lines show these words (web/render.words, cli/views.value_text); what is typed back keeps the codes (a filter's URL,
# the API, `--json`, exports, a CLI option, which takes the words too: cli/views.typed_codes). A code missing here (a
# stored document's, damaged) is shown as it is.
WORDS = {
    "category": CATEGORY_LABELS,
    "country": COUNTRY_NAMES,
    "kind": {"program": "Program", "offer": "Offer"},
    "commission_type": {"percent": "Percent", "flat": "Flat"},
    "payout_method": {"paypal": "PayPal", "check": "Check", "bank_transfer": "Bank transfer", "payoneer": "Payoneer",
                      "ach": "ACH", "wire": "Wire transfer", "store_credit": "Store credit", "crypto": "Crypto",
                      "other": "Other"},
    "payout_frequency": {"monthly": "Monthly", "weekly": "Weekly", "biweekly": "Every two weeks",
                         "quarterly": "Quarterly", "net30": "Net 30", "net60": "Net 60", "on_request": "On request"},
    "restriction": {"ppc_brand_bidding": "PPC brand bidding", "coupon_sites": "Coupon sites",
                    "incentivized": "Incentivized traffic", "email_spam": "Email spam", "adult": "Adult content",
                    "trademark_domains": "Trademark domains", "social_ads": "Social ads",
                    "self_referral": "Self-referral", "other": "Other"},
    "status": {"active": "Active", "discovered": "Discovered", "closed_suspected": "Possibly closed",
               "removed": "Removed"},
    "change": {"created": "Created", "updated": "Updated", "removed": "Removed"},
    "deeplinks": {"allowed": "Allowed", "not_allowed": "Not allowed"},
    "contract": {"joined": "Joined", "pending": "Pending", "not_joined": "Not joined", "expired": "Expired"},
    "approval": {"auto": "Automatic", "manual": "Manual"},
    "merchant_key_source": {"domain": "Domain", "alias": "Alias", "name": "Name"},
    "sync_status": {"queued": "Queued", "running": "Running", "succeeded": "Succeeded", "failed": "Failed",
                    "skipped": "Skipped"},  # a connection's last sync (connections.SyncResult.status)
    # a rule's trigger, its action and its action's parameters (rules/model.py: EVENT_TRIGGERS, ActionType, the params)
    "rule_trigger": {"program.delta": "A program changed", "key.expiring": "A key is expiring",
                     "key.rotated": "A key was rotated", "key.rotation.failed": "A key's rotation failed",
                     "key.revoked": "A key was revoked", "sync.failed": "A sync failed",
                     "budget.pacing": "A campaign's budget pacing", "budget.allocated": "The budget was allocated",
                     "raw.batch.stored": "A batch of raw listings was stored"},
    "rule_action": {"discover": "Discover programs", "resync": "Sync a connection again", "migrate_index":
                    "Migrate an index", "rebuild_index": "Rebuild the index", "rotate_key": "Rotate a key",
                    "notify": "Post to a webhook", "alert": "Record an alert"},
    "rule_param": {"niche": "Niche", "language": "Language", "connection_id": "Connection", "index": "Index",
                   "path": "Key", "webhook_url": "Webhook", "text": "Text", "auth_key": "Webhook's key",
                   "auth_header": "Key sent in header", "severity": "Severity"},
}

# The vocabulary of each field (a program's, the index's, a listing's or a rule's) whose values are codes of one, as
# the explorer and the CLI show them (its words above)
VOCABULARY_OF = {"status": "status", "kind": "kind", "categories": "category", "restrictions": "restriction",
                 "approval": "approval", "merchant_key_source": "merchant_key_source",
                 "commission_types": "commission_type", "payout_methods": "payout_method",
                 "countries": "country", "excluded_countries": "country", "contract": "contract", "change": "change",
                 "trigger": "rule_trigger", "action": "rule_action", "deeplinks": "deeplinks"}
