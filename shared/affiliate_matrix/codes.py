"""ISO-3166 alpha-2 country and ISO-4217 currency codes (generated once from pycountry's data; a frozenset
lookup adds nothing to a cold start), and the domain's closed vocabularies: kinds, statuses, categories, …"""

COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)

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

# How each closed vocabulary's codes read to people (the web explorer's pages), by vocabulary: a filter's URL, the API
# and the CLI keep the codes. A code missing here (a stored document's, damaged) is shown as it is.
WORDS = {
    "category": CATEGORY_LABELS,
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
    "contract": {"joined": "Joined", "pending": "Pending", "not_joined": "Not joined", "expired": "Expired"},
    "approval": {"auto": "Automatic", "manual": "Manual"},
    "merchant_key_source": {"domain": "Domain", "alias": "Alias", "name": "Name"},
}
