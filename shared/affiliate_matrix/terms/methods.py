"""Payout methods: how the affiliate is paid, from the closed set of tests/data/terms/README.md. A method's
name counts where the text talks about paying the affiliate (money moved or received, a payer paying by a means,
what the affiliate must give to be paid, an item of a list such a line opens); store credit is read as a notion
(a reward kept with the merchant: spent on its invoices, orders or site, settled on its next bill, its service
for free, paid into its wallet, or received in kind in a referral text), not as a list of phrases."""

import re

from affiliate_matrix.terms.payout import CUE
from affiliate_matrix.terms.text import Doc, Pattern, before_example

_NOT_A_GIFT = r"(?![\s-](?:regalo|cadeau|kado|presente))"
# Where money lands: a bank account said with no rail of its own ("to your bank account via ACH" is ach); never inside
# a name ("your ClickBank account" is the network's).
_ACCOUNT = (r"\bbank\s?accounts?|bankkonto|kontoverbindung|bankverbindung|auf (?:das|dein|ihr|ein) (?:\w+ ){0,4}?konto\b|"
            r"compte bancaire|\brib\b|coordonn[ée]es bancaires|cuenta bancaria|datos bancarios|conto corrente|"
            r"conto bancario|coordinate bancarie|bankrekening|rekeningnummer|conta corrente|conta banc[áa]ria|"
            r"dados banc[áa]rios|\bbank(?:ing)? details|to your bank")
# (Not a word the names start: "cryptographic", "Kryptografie", "tethered".)
_CRYPTO = (r"crypto(?!gra)|cripto(?!gra)|krypto(?!gra)|bitcoin|\bbtc\b|\busdt\b|\busdc\b|ethereum|\beth\b|stablecoin|"
           r"\btether\b")
NAMES = {
    "paypal": r"pay[\s-]?pal",
    "payoneer": r"payoneer",
    "ach": r"\bACH\b|automated clearing ?house",
    # SWIFT the network, not "swift" the adjective ("processed swiftly", "swift processing").
    "wire": r"\bwire\b|(?-i:\bSWIFT\b)|\bswift (?:transfers?|wires?|payments? to)|telegraphic",
    # PIX is Brazil's instant bank transfer (the brief's label set).
    "bank_transfer": r"\bbank\s?(?:transfer|deposit)|direct deposit|\bsepa\b|\biban\b|bank[üu]berweisung|\bbac?cs\b|"
                     r"\bchaps\b|faster payments|(?-i:\bWise\b)|transferwise|(?<!pal[\s-])(?<!pal)\b[üu]berweisung\b|"
                     r"virement|bonifico|transferencia|transfer[êe]ncia|bankoverschrijving|overboeking|"
                     r"dep[óo]sito banc[áa]rio|dep[óo]sito (?:em|na) conta|\bpix\b|" + _ACCOUNT,
    # English "check" is a noun here only as a method is said ("by check", "checks are mailed", "PayPal or
    # check"), never the verb ("you can check and change the interval").
    "check": r"\b(?:by|via|per|paper|mailed|physical|company) che(?:ck|que)s?\b|"
             r"\bche(?:ck|que)s? (?:payments?|by (?:mail|post)|(?:are|is|will be|can be) (?:still )?(?:issued|mailed|"
             r"sent|available|offered))\b|\bche(?:ck|que)s?\s+(?:\S+\s+){0,3}?(?:mailed|posted)\b|"
             r"(?:issue|mail|send|post|receive)(?:s|d|ed)? (?:a |the |your )?che(?:ck|que)|"
             r"(?:pay\s?pal|wire(?: transfer)?|\bach|bank transfer|direct deposit|payoneer)\s*(?:,|/|\bor\b|\band\b)\s*"
             r"(?:by |via )?checks?\b|\bchecks?\s*(?:,|/|\bor\b)\s*(?:pay\s?pal|wire|ach\b|bank|direct deposit|payoneer)|"
             rf"\bcheques?\b{_NOT_A_GIFT}|\bscheck|ch[èe]ques?\b{_NOT_A_GIFT}|\bassegn[oi] (?:circolar|bancari)",
    "crypto": _CRYPTO,
    # A card the payout is loaded on is none of the named methods.
    # (Names as words: "revolutionary", "pinstripe" or "Gazelle" name none.)
    "other": r"\b(?:venmo|zelle|skrill|stripe|tipalti|revolut|paxum|paytm|gcash|bizum|webmoney|neteller|alipay|payeer|"
             r"twint|satispay|mobilepay)\b|western union|moneygram|\bupi\b|m-?pesa|"
             r"\binterac\b|\be-?transfer|wechat pay|perfect money|mercado ?pago|"
             r"amazon gift|mb ?way|(?:debit|prepaid|virtual|bank) cards?|cart[ãa]o banc[áa]rio|"
             r"cartes? (?:virtuelle|pr[ée]pay[ée]e|de d[ée]bit)|"
             r"tarjetas? (?:de d[ée]bito|prepago|virtual)|cart[ãa]o (?:de d[ée]bito|pr[ée]-?pago|virtual)|"
             r"prepaid-?karte|debitkarte|prepaidkaart|carta (?:prepagata|di debito|virtuale)",
}
# A check conveyed to the affiliate (sent, mailed, cut, received, arriving) is a payout means wherever it is said:
# in affiliate terms nobody else is sent one ("We'll send you a check", "you will not receive a commission check
# until …", "commission checks will not start to arrive", "Un chèque vous est envoyé"). The English noun is told from
# the verb by the word before it (a determiner, a pay noun, a clause's start: not "to check", "we'll check"), and by
# the verb's side: before the check one that conveys it, after it a participle or arriving; one sent to us is not.
_CHEQUE = (r"(?:che(?:ck|que)s?|ch[èe]ques?|schecks?|assegn[oi])\b(?![\s-](?:regalo|cadeau\w*|kado|presente|marks?|box\w*|"
           r"up|ups|ins|list|point\w*|your|the|our|out our|whether|if|that|with|back|to (?:us|our))\b)(?!-)")
_CHEQUE_NOUN = (r"(?:(?:^|[,;:(•|]\s*|\b(?:a|an|the|your|one|single|each|every|this|no|any|paper|physical|printed|mailed|"
                r"monthly|weekly|quarterly|commission|commissions|payment|payout|affiliate|royalty|separate|either|or|"
                r"un|une|le|votre|ein\w*|den|der|ihr\w*|el|tu|su|um|o|seu|il|tuo|een|je|uw)\s+)" + _CHEQUE + ")")
# Verbs that convey a check to its object ("send you a check", "Sie erhalten einen Scheck"), and words that say it is
# conveyed after it ("a check will be mailed", "checks … arrive", "cheque envoyé", "per Post"). A check sent to us or
# received by us is a customer's ("Customers send us a check", "once we receive your check").
_SEND = (r"send\w*|sent|mail|mails|mailed|post|posts|posted|cut|cuts|issue|issues|issued|envoy\w*|exp[ée]di\w*|"
         r"envi(?:a|an|e|o|amos|aremos|ar[áa]|ado|ados)|spedi\w*|invi(?:a|o|amo|ano|eremo|er[àa]|ato|ati)|verstuur\w*|"
         r"verzend\w*|stuur\w*|sturen|schick\w*|versend\w*|zusend\w*")
_RECEIVE = (r"receive|receives|received|get|gets|recev\w*|re[çc]oi\w*|recib\w*|receb\w*|ricev\w*|ontvang\w*|"
            r"erh[äa]lt\w*|bekomm\w*")
_WE = r"(?<!\bwe )(?<!\bwe'll )(?<!\bwe've )(?<!\bwe have )(?<!\bnous )(?<!\bwir )(?<!\bwij )(?<!\bnoi )"
_CONVEYED = (r"sent|mailed|posted|issued|written|delivered|shipped|dispatched|arriv\w*|go(?:es|ing)? out|went out|delivery|"
             r"(?:by|via|through|in the|per|par|por|pelo|pela|para)\s+(?:\w+\s+)?(?:mail|post|fedex|ups|courier|courrier|"
             r"poste|correo|correio|posta)|envoy[ée]e?s?|exp[ée]di[ée]e?s?|enviad[oa]s?|remitid[oa]s?|spedit[oi]|"
             r"inviat[oi]|verstuurd|verzonden|zugesandt|zugeschickt|verschickt|versandt|schicken|senden|zusenden")
_US = r"(?:us|uns|ons|nous|nos|ci)\b"
# (A sender not after "nos"/"ci"/"nous" but "nous …ons": "El cliente nos envía un cheque" is sent to us.)
_CHECK_SENT = (rf"\b(?<![/-])(?:(?<!\bnos )(?<!\bci )(?:(?<!\bnous )|(?=\w+ons\b))(?:{_SEND})|{_WE}"
               rf"(?!\w+(?:ons|imos|emos|iamo)\b)(?:{_RECEIVE}))\s+(?!{_US})(?:(?:you|affiliates|partners|them|out)\s+)?"
               rf"(?:{_CHEQUE}|(?:(?!(?:{_US}|to\b|and\b|or\b))[^\s.;]+\s+){{0,3}}?{_CHEQUE_NOUN})")
_CHECK_CONVEYED = rf"{_CHECK_SENT}|{_CHEQUE_NOUN}\s+(?:[^\s.;:]+\s+){{0,4}}?(?:{_CONVEYED})\b"
NAMES["check"] += "|" + _CHECK_CONVEYED
_NAMES = {name: Pattern(pattern, re.I) for name, pattern in NAMES.items()}
_ACCOUNT_ONLY = Pattern(rf"^(?:{_ACCOUNT})$", re.I)
# Outside a sentence about paying the affiliate only unmistakable names count ("cheque", "Konto" or
# "PIX" there is as often how customers pay, and bitcoin what a crypto exchange's customers buy).
_STRONG = {name: Pattern(pattern, re.I) for name, pattern in {
    **{name: NAMES[name] for name in ("paypal", "payoneer", "ach", "wire")},
    # An amount in crypto is paid in it ("25 euros en stablecoins"); bitcoin alone is what an exchange sells. The
    # figure's word is bounded: `\d\S*` scanned a run of digits to its end from each of them (20,000: 8 s).
    "crypto": rf"\d\S{{0,40}}\s+(?:\S+\s+)?(?:in|en|em|na|no)\s+(?:\w+\s+)?(?:{_CRYPTO})",
    "check": r"\b(?:by|via|paper|mailed) che(?:ck|que)s?\b|che(?:ck|que)s? (?:are|is|will be) (?:still )?(?:issued|mailed)|"
             r"\bche(?:ck|que)s?\s+(?:\S+\s+){0,3}?mailed\b|" + _CHECK_CONVEYED,
    "bank_transfer": r"\bbank\s?(?:transfer|account|deposit)|direct deposit|\bsepa\b|\biban\b|bank[üu]berweisung|"
                     r"virement bancaire|transferencia bancaria|cuenta bancaria|bankoverschrijving|bonifico bancario|"
                     r"transfer[êe]ncia banc[áa]ria|conta banc[áa]ria|(?-i:\bWise\b)",
    "other": r"\b(?:venmo|zelle|skrill|tipalti|revolut|paxum|paytm|gcash|bizum)\b|western union|moneygram|m-?pesa|"
             r"\binterac\b",
}.items()}
# A unit that says money is moved to the affiliate ("wordt overgemaakt op je rekeningnummer"), or that the affiliate
# receives the commission ("percevoir votre commission via une carte virtuelle"), talks of payouts too.
_MOVED = Pattern(r"transferred|overgemaakt|overmaken|overgeboekt|gestort|storten|vir[ée]e?s?\b|transferid[oa]s?|"
                 r"depositad[oa]s?|ingresad[oa]s?|accreditat[oi]|bijgeschreven|[üu]berweis(?:en|t)\b|virons|virerons|"
                 r"transferimos|transferiremos|ingresamos|depositamos|accreditiamo|bonifichiamo|"
                 # a payer paying by a means ("CJ pays by check", "Awin zahlt per BACS", "paie par virement")
                 # ("paga por transacciones" is per transaction: only words of means here)
                 r"\b(?:pay(?:s|ons|erons)?|zahl(?:t|en)|paie|paye|pag(?:a|amos|hiamo)|betaal(?:t)?|betalen)\s+(?:\w+\s+){0,2}?(?:by|via|through|per|[üu]ber|par|mediante|"
                 r"atrav[ée]s|tramite)\b|"
                 r"(?:receive|get|percev|recev|re[çc]oi|recib|receb|ricev|ontvang|erh[äa]lt|bekomm|touch)\w*\s+(?:\S+\s+){0,3}?"
                 r"(?:commissions?|earnings|payouts?|r[ée]mun[ée]ration|comisi[óo]n\w*|comiss[ãa]o|comiss[õo]es|"
                 r"provvigion\w*|commissie\w*|provisie\w*|provision\w*|verg[üu]tung|ganancias|ganhos|guadagni)\b",
                 re.I)

# How customers pay, not how the affiliate is paid: "Customers can pay with PayPal, credit card or bank transfer",
# or a means only a checkout offers (boleto, cash on delivery, direct debit).
_PAYER = r"(?:customers?|clients?|buyers?|shoppers?|kunden|k[äa]ufer|clientes?|acheteurs?|klanten|compradores?)"
_CUSTOMER_PAYS = Pattern(
    r"we (?:also )?accept|checkout|pay for (?:your|the) (?:order|subscription|plan)|zahlungsarten im shop|"
    r"modes? de paiement accept|m[ée]todos de pago aceptados|credit ?cards?|kreditkarte|carte (?:bancaire|de cr[ée]dit)|"
    r"tarjeta de cr[ée]dito|creditcard|cart[ãa]o de cr[ée]dito|\bboletos?\b|cash on delivery|nachnahme|"
    r"contre[\s-]remboursement|contra ?reembolso|direct debit|lastschrift|pr[ée]l[èe]vement|domiciliaci[óo]n|"
    r"automatische incasso|d[ée]bito autom[áa]tico|apple pay|google pay|klarna|(?-i:\biDEAL\b)|bancontact|"
    r"sofort[üu]berweisung|giropay|"
    rf"\b{_PAYER}\s+(?:\w+\s+){{0,2}}?(?:pay|paying|zahlen|bezahlen|paient|payent|pagan|betalen|pagam)\b", re.I)
# The merchant receiving a customer's payment: a list it introduces names how customers pay ("Nous validons les
# commandes dès réception du règlement de la part du client :").
_PAYMENT_RECEIVED = Pattern(
    r"(?:receiv\w*|receipt|r[ée]ception|recebimento|recepci[óo]n|ricevimento|eingang|ontvangst)\s+(?:\w+\s+){0,2}?"
    r"(?:payments?|paiement|r[èe]glement|pagos?|pagamentos?|zahlung|betaling)", re.I)
# The customer's payment options named, as a list's lead-in ("Customers purchasing tickets through your referrals have
# the following payment options:", "Zahlungsarten für Kunden:"): the items are how customers pay.
_OPTIONS = (r"(?:payment (?:options|methods)|ways to pay|zahlungs(?:arten|methoden|m[öo]glichkeiten|optionen)|"
            r"(?:moyens|modes|options) de paiement|(?:formas|m[ée]todos|opciones) de pago|"
            r"(?:formas|m[ée]todos|op[çc][õo]es) de pagamento|betaal(?:methoden|mogelijkheden|opties)|"
            r"(?:metodi|modalit[àa]) di pagamento)")
_CUSTOMER_OPTIONS = Pattern(rf"\b{_PAYER}\b[^.;:]{{0,80}}?\b{_OPTIONS}|\b{_OPTIONS}\s+(?:available\s+)?(?:for|to|f[üu]r|"
                            rf"pour|para|voor|per)\s+(?:(?:our|your|the|unsere|nos|vos|nuestros|los|os|onze|i)\s+)?{_PAYER}",
                            re.I)
# Words of a means a customer pays by (after a verb of accepting or paying: not "paid by a referred member").
_MEANS = (r"pay\s?pal|bank|wire|transfer|(?:credit |debit )?cards?|che(?:ck|que)s?|stripe|sepa|direct debit|crypto\w*|"
          r"bitcoin|apple pay|google pay|klarna|store credit|gift cards?|visa|mastercard|amex|paiements?|r[èe]glements?|"
          r"zahlung\w*|pagos?|pagamenti|pagamentos?|betaling\w*|cartes?|karten|kreditkarten?|tarjetas?|carte|kaarten|"
          r"cart[õo]es|"
          r"virements?|[üu]berweisung\w*|transferencias?|bonifico|ch[èe]ques?|schecks?")
# The customer paying, said as the payer after "paid by" ("Bank transfer fees are paid by the buyer", "à la charge du
# client") or as "you" paying by a means ("If you pay by bank transfer, your order ships once it arrives"): in affiliate
# terms the affiliate is paid, never the one who pays by a means.
_CUSTOMER_PAYS_TOO = Pattern(
    r"\b(?:paid|payable|borne|covered) by (?:the )?(?:customers?|buyers?|shoppers?|purchasers?)\b|"
    r"\bat the (?:customer|buyer|purchaser)(?:'s|s'|’s)? (?:own )?(?:expense|cost)|"
    r"\b(?:customers?|buyers?|shoppers?|purchasers?) (?:bears?|covers?) (?:the|all|any)\b|"
    r"\bcharged to (?:the )?(?:customers?|buyers?|shoppers?|purchasers?)\b|"
    rf"[àa] la charge (?:du|des) {_PAYER}|a cargo del? {_PAYER}|(?:vom|von den) {_PAYER} (?:zu )?(?:tragen|getragen)|"
    r"\byou (?:can |may |will |choose to )?pay (?:by|with|via|using|through)\b|"
    r"\bpay (?:in \d+ |later |securely |online )(?:\S+ ){0,2}?(?:with|by|via|using)\b|"
    # what the merchant accepts, in the languages of the corpus ("Nous acceptons les paiements par PayPal")
    rf"\bpayments? (?:\w+ ){{0,3}}?(?:is|are) (?:also )?accepted\b|\baccepted (?:payment|methods? of payment)|"
    r"moyens de paiement accept|formas de pago aceptadas|formas de pagamento aceitas|metodi di pagamento accettati|"
    rf"\b(?:nous acceptons|wir akzeptieren|akzeptieren wir|aceptamos|se aceptan|accettiamo|accepteren wij|wij accepteren|"
    rf"aceitamos)\s+(?:\w+\s+){{0,3}}?(?:{_MEANS})|"
    # a checkout's card brands, two in a row ("Visa, Mastercard, Amex"; a prepaid card the payout is loaded on is one)
    r"(?<!prepaid )(?<!virtual )(?<!debit )\b(?:visa|mastercard|amex|american express|maestro)\W+(?:\w+\W+)?"
    r"(?:visa|mastercard|amex|american express|maestro|discover|diners|jcb)\b(?!\W+(?:prepaid|debit|virtual|gift)\b)|"
    r"\bvorkasse\b|"
    # a customer's purchase paid by a means ("Orders can be paid by PayPal", "Payment for the course is made by bank
    # transfer", "Your subscription is billed via PayPal", "orders fully covered by store credit"); not an invoice, which the affiliate may send, nor a fee
    r"\b(?:orders?|purchases?|subscriptions?|memberships?|(?:membership|course|registration|subscription|entry) fees?|"
    r"bookings?|tickets?|courses?)\s+(?:\w+\s+){0,3}?(?:paid|payable|settled|billed|made|placed|covered|funded)\s+(?:\w+\s+)?"
    rf"(?:by|with|via|through|using)\s+(?:\w+\s+){{0,2}}?(?:{_MEANS})|"
    r"\bpay(?:ment)? (?:for|of) (?:the|your|a|an) (?:order|purchase|"
    r"subscription|membership|course|booking|ticket)\s+(?:\w+\s+){0,3}?(?:by|with|via|through|using)\s+(?:\w+\s+){0,2}?"
    rf"(?:{_MEANS})", re.I)
# A payment company named as a company, a brand or a product, not as a means: outside a payout clause, the program's
# operator or the site's partners ("operated by PayPal", "Trusted by PayPal, Google and Microsoft", "our partners
# include Stripe and Shopify", "works with PayPal"; in a payout clause "our payment partners include PayPal" is a
# means); anywhere, a customer's payment refunded by it, or the name before a word that makes it a company or a
# product ("PayPal Holdings", "PayPal Credit", "the Stripe plugin", "PayPal disputes").
_BRAND_BEFORE = Pattern(r"(?:\b(?:operated|owned|backed|acquired|trusted|founded) by|a subsidiary of|"
                        r"\bpartners (?:include|such as|like|are)|\bpartners:|\bintegrat(?:es|ed|ion|ions) (?:with|for)|"
                        r"\bworks with|\bcompatible with|\bfeatured (?:in|on|by)|\bas seen (?:in|on)|"
                        r"\b(?:clients|customers|brands) (?:include|such as|like)|\bbetrieben von|\bop[ée]r[ée] par|"
                        r"\b(?:merchants|businesses|sellers|stores|shops|companies|brands) (?:who|that) (?:use|trust)|"
                        r"\bopera(?:do|to) (?:por|da))(?:[^.;:]*?[,/&]\s*|\s+(?:\w+\s+){0,3}?)$", re.I)
# A list such words open names partners too ("Trusted by:" / "PayPal" / "Shopify").
_BRAND_LEAD = Pattern(r"\b(?:partners|trusted by|clients|customers|brands|integrations|featured (?:in|on)|as seen (?:in|on)|"
                      r"works with|compatible with)\W*$", re.I)
_REFUNDED_BEFORE = Pattern(r"\brefund(?:s|ed)? (?:\w+ )?(?:via|through|to|by|with|on)\s+(?:\w+\s+){0,3}?$", re.I)
_BRAND_AFTER = Pattern(r"^\W{0,2}(?:inc\b|holdings?|ltd\b|llc\b|plc\b|s\.?a\.?r?\.?l?\b|europe|company|corporation|"
                       r"credit\b|pay later|pay in \d|honey|zettle|checkout|express checkout|buttons?|"
                       r"plugins?|plug-ins?|integrations?|gateway|apis?\b|sdks?\b|extensions?|modules?|disputes?|"
                       r"chargebacks?|claims?\b|refunds?\b|fraud|logos?|trademarks?)", re.I)
_BRAND_NAMES = ("paypal", "payoneer", "other")


# A payment company said as the payment processor, the one that takes the customers' payments ("if the payment processor
# (PayPal or Stripe) applies a buyer protection", "Payment processing is handled by PayPal", "Stripe, our payment
# processor"), wherever it is said; a payout processor is the affiliate's.
_PROCESSOR = (r"(?<!payout )(?<!affiliate )(?<!commission )\b(?:payment\s+)?"
              r"(?:processors?|processing(?: partner| provider| company| service)?)\b|"
              r"zahlungsabwickler\w*|(?:processeur|prestataire) de paiement|"
              r"procesador(?:es)? de pagos?|processador(?:es)? de pagamentos?|processore di pagamento|betaalverwerker")
_PROCESSOR_BEFORE = Pattern(rf"(?:{_PROCESSOR})(?:[\s,(]{{1,3}}|\s+(?:is|are|ist|est|es|é|è|wordt)\s+"
                            rf"(?:\w+\s+){{0,2}}?)(?:\w+\W+(?:or|and|oder|ou|o|y|e|of|en)\W+)?$", re.I)
_PROCESSOR_AFTER = Pattern(rf"^[\s,)]{{0,3}}(?:(?:is|as|acts as|serves as|ist|als|est|comme|es|como|é|è|come)\s+)?"
                           rf"(?:(?:our|the|a|an|unser\w*|der|notre|le|nuestro|el|nosso|o|il|nostro|onze|de)\s+)?"
                           rf"(?:{_PROCESSOR})", re.I)


def _named_as_brand(text: str, m: re.Match, paid_here: bool) -> bool:
    """Whether a payment company's name is said as the company, a brand, a product or the payment processor around
    it."""
    before = text[max(0, m.start() - 60):m.start()]
    after = text[m.end():m.end() + 40]
    return bool((not paid_here and _BRAND_BEFORE.search(before)) or _REFUNDED_BEFORE.search(before)
                or _BRAND_AFTER.search(after[:25]) or _PROCESSOR_BEFORE.search(before)
                or _PROCESSOR_AFTER.search(after))


# A payout platform said to be one ("Tipalti is a third-party app that … distributes payments", "through our partnering
# platform, Tipalti") is the service the means run through, not a means: where the text names a means, its name gives
# way. A wallet said to be an app ("Venmo is a mobile payment app") or asked about ("What is Skrill?") is none: the
# platform is a third party's, or a platform or provider named before the name in its line (not a list: "Payment
# providers: Stripe, PayPal").
_PLATFORM = (r"(?i:platform|\w*plattform|plateforme|plataforma|piattaforma|\w*dienstleister|prestataire|proveedor|"
             r"provedor|fornitore|provider|\w*anbieter|aanbieder)")
_PLATFORM_SAID = Pattern(
    rf"\b(?P<a>[A-Z]\w+)\s+(?:is|ist|est|es|é|è)\s+(?:a|an|ein\w*|une?|una?|um|uma|een)\s+(?i:third[\s-]party|"
    r"tiers|de terceros|di terze parti|externe[nr]?)\b|"
    rf"\b(?P<b>[A-Z]\w+)\s+(?:is|ist|est|es|é|è)\s+(?:a|an|ein\w*|une?|una?|um|uma|een)\s+(?:\S+\s+){{0,2}}?{_PLATFORM}\b|"
    rf"\b{_PLATFORM}[ \t]*,?[ \t]+(?:called[ \t]+|named[ \t]+)?(?P<c>[A-Z]\w+)")


def _platforms(text: str) -> set[str]:
    """The names a text says are payout platforms, lower-cased."""
    return {next(name for name in m.groups() if name).lower() for m in _PLATFORM_SAID.finditer(text)}


# An account of ours is the merchant's, not where the affiliate is paid ("payment from our client to our bank
# account").
_OURS = Pattern(r"\b(?:our|unser\w*|notre|nos|nuestr[oa]s?|onze|nostr[oa]|nossa?s?)\s+$", re.I)

# --- store credit: the reward kept with the merchant --------------------------------------------------------
# Names that say it by themselves.
_STORE_CREDIT = Pattern(
    r"store credit|account credit|shop credit|site credit|(?:service|referral|hosting|in-app|platform) credits?|"
    r"einkaufsguthaben|shop-?guthaben|kundenkonto-?guthaben|warengutschein|einkaufsgutschein|bons? d'achat|"
    r"\b(?:un|des|vos|ses|ces|les|l'|leurs?|mes|tes|votre|son|cet) ?avoirs?\b|cr[ée]ditos? (?:en|na|no) (?:tienda|loja)|"
    r"cr[ée]ditos? de desconto|winkel ?tegoed\w*|tegoedbon|shoptegoed|vale[\s-]?compras?|buon[oi] (?:acquisto|spesa)|"
    r"credited to your (?:own )?(?:(?:hosting|support|customer|shop|client|service)\s+(?:or|and|/)\s+)?(?:hosting|support|"
    r"customer|shop|client|service) account", re.I)
# A reward in kind: credit, a voucher or gift card, free months, a discount on the merchant's own services.
# Not a plain voucher or "Gutschein": in affiliate terms that is nearly always a customer's discount code. The word
# after a figure is bounded: `\d\s*\w+` read a run of digits to its end from each of them (a description's 20,000: 3 s).
_IN_KIND = (r"gift ?cards?|gift vouchers?|geschenk(?:gut)?schein\w*|geschenkkarte\w*|"
            r"cartes? cadeaux?|ch[eè]ques?[\s-]cadeaux?|bons? cadeaux?|tarjetas? (?:de )?regalo|cheques? regalo|"
            r"cart[ae] regalo|buon[oi] regalo|cadeaubon\w*|cadeaukaart\w*|cart(?:[ãa]o|[õo]es)[\s-]presente|"
            r"vale[\s-]presente|\bcredits\b(?! ?cards?)|(?:\ban?\s+|\d\s*|[$€£]\s*)(?:\w{1,40}\s+)?credit\b(?! ?cards?)|"
            r"\baffiliates?(?:'s|’s|s'|s’)?\s+credit\b(?! ?cards?)|"
            r"cr[ée]ditos?\b|\bcredit[oi]\b|tegoed\b|\bkrediet\b|"
            r"free months?|months? free|gratismonat\w*|(?:mois|mes|m[êe]s|meses|maand(?:en)?|mes[ei]) (?:offerts?|"
            r"gratuits?|gratis|gr[áa]tis|gratuit[oi])|(?:codice sconto|discount code|c[óo]digo de desconto) del valore|"
            r"(?:discount|korting|r[ée]duction|remise|descuento|desconto|sconto|rabatt)\w* (?:\w+ ){0,2}?(?:on|op|sur|"
            r"sobre|en|em|no|na|su|sul|auf) (?:our|onze|nos|nuestros?|nossos?|i nostri|unsere\w*|your own|uw eigen|"
            r"je eigen|vos propres)\b")
_GETS = (r"receive\w*|\bget\b|\bgets\b|earn(?:s|ed)?\b|accumulat\w*|collect\w*|accrue\w*|erh[äa]lt\w*|bekomm\w*|"
         r"sammel\w*|verdien(?:t|st|en|e)?\b|recev\w*|re[çc]oi\w*|gagne\w*|cumul\w*|touche\w*|obtien\w*|obten\w*|"
         r"recib\w*|ganar\w*|gana\b|ganas\b|acumul\w*|ricev\w*|ottien\w*|guadagn(?:a|ate|erai|erete|ano)\b|accumul\w*|"
         r"ontvang\w*|krijg\w*|spaar\w*|receb\w*|ganh[ae]\w*")
_GIVEN = (r"credited|awarded|issued|added|gutgeschrieben|vergeben|cr[ée]dit[ée]e?s?|attribu[ée]e?s?|acreditad\w*|"
          r"otorgad\w*|accreditat\w*|assegnat\w*|bijgeschreven|toegekend|creditad\w*|concedid\w*")
_RECEIVED_IN_KIND = Pattern(rf"\b(?:{_GETS})\s+(?:\S+\s+){{0,5}}?(?:{_IN_KIND})|(?:{_IN_KIND})\s+(?:\S+\s+){{0,3}}?"
                            rf"(?:{_GIVEN})\b|(?:in the form|in form|sous forme|en forma|sob (?:a )?forma|in forma|"
                            rf"in de vorm|in form von|paid as|payable as)\s+(?:\S+\s+){{0,4}}?(?:{_IN_KIND})", re.I)
# "receive credit for the sale": credit for a referral is its attribution, not a reward.
_ATTRIBUTION = Pattern(r"\bcredit (?:for|with) (?:the |a |this |that |any |each |every )?(?:sale|referral|purchase|"
                       r"order|conversion|lead|customer|renewal|payment|subscription|sign-?up|transaction|booking)", re.I)
# A referral program's words: a reward in kind is the referrer's only in one.
_REFERRAL = Pattern(r"refer|parrain|filleul|werb|empfehl|referid|indic|invit|uitgenodig|doorverw|verwijz|verwezen|aanbevel|"
                    r"aanbreng|"
                    r"passaparola|friend|\bamis?\b|amig[oa]s?|amic[oi]|vrienden|vriend|freund|coleg", re.I)
# Someone else is the one who gets it: the friend's welcome voucher, the customers' discount.
_OTHERS_GET = Pattern(
    r"\b(?:friends?|referrals?|referees?|referred (?:users?|customers?|friends?|persons?)|invitees?|customers?|clients?|"
    r"users?|visitors?|audience|followers?|readers?|buyers?|shoppers?|new (?:users?|members?|customers?)|they|"
    r"kund(?:en|innen)?|freund\w*|geworbene\w*|neukund\w*|clientes?|amig[oa]s?|referid[oa]s?|indicad[oa]s?|klanten|"
    r"vrienden|vriend(?:in)?|uitgenodigde|utilisateurs?|amie?s?|filleule?s?|amic[oi]|amica|nuovi clienti|people|"
    r"personen|mensen|personnes|personas|pessoas|persone|leute)\s+"
    rf"(?:(?!(?:and|und|et|y|e|en)\b)\w+\s+){{0,2}}?(?:{_GETS}|will (?:get|receive)|can use|kann|peut|puede|pode|pu[òo]|"
    r"kan)\b", re.I)
# The reward spent with the merchant: "use your commission balance to pay invoices", "gebruiken om supplementen
# aan te schaffen", "credit for future invoices", "utilizados dentro de nuestra plataforma".
_USED = (r"use[ds]?|spend|spent|apply|applied|redeem\w*|offset|verwend\w*|nutz\w*|einl[öo]s\w*|verrechn\w*|"
         r"einsetz\w*|utilis\w*|d[ée]pens\w*|utiliz\w*|us[ae]r?\b|usad[oa]s?|canje\w*|gast[ae]\w*|aplica\w*|"
         r"utilizza\w*|spender\w*|riscatt\w*|gebruik\w*|besteed|besteden|inwissel\w*|verreken\w*|resgat\w*")
# The affiliate's reward by name (not "amount" or "value": anything has one).
_REWARD = (r"commissions?|earnings|balance|credits?|rewards?|bonus(?:es)?|points|opbrengst\w*|provision\w*|guthaben|"
           r"pr[äa]mie\w*|gains|solde|avoirs|r[ée]compenses?|r[ée]mun[ée]ration|ganancias|comisi[óo]n\w*|saldo|bonos|"
           r"recompensas?|crediti|guadagni|provvigion\w*|tegoed|beloning\w*|vergoeding\w*|commissie\w*|verdiensten|"
           r"ganhos|comiss\w+|cr[ée]ditos|pontos|punten|punkte")
_MERCHANT_GOODS = (r"invoices?|bills?|purchases?|orders?|products?|services?|hosting|subscriptions?|plans?|renewals?|"
                   r"upgrades?|store|shop|platform|buy|purchase|pay for|einkäufe|einkauf|bestellung\w*|rechnung\w*|"
                   r"produkte?|leistungen|abo\w*|achats?|commandes?|factures?|abonnements?|caisse|boutique|prestations|"
                   r"compras?|pedidos?|facturas?|recargas?|plataforma|tienda|suscripci[oó]n|ordini|ordine|acquist[oi]|"
                   r"abbonament\w*|fattur\w*|servizi|prodotti|negozio|aankop\w*|bestelling\w*|factu\w*|diensten|"
                   r"producten|webshop|winkel|aan te schaffen|kopen|faturas?|assinaturas?|servi[çc]os|produtos|loja|"
                   r"plano|pagamento d[ao] (?:\w+ )?fatura")
_SPENT = Pattern(
    rf"\b(?:{_REWARD})\s+(?:\S+\s+){{0,4}}?(?:{_USED})\s+(?:\S+\s+){{0,5}}?(?:{_MERCHANT_GOODS})\b|"
    rf"\b(?:{_USED})\s+(?:\w+\s+){{0,2}}?(?:{_REWARD})\s+(?:\S+\s+){{0,4}}?(?:{_MERCHANT_GOODS})\b|"
    rf"\b(?:{_REWARD})\s+(?:\S+\s+){{0,5}}?(?:{_MERCHANT_GOODS})\s+(?:\S+\s+){{0,3}}?(?:{_USED})\W*$|"  # verb last
    r"\bcredits?\s+(?:for|towards?|against)\s+(?:\S+\s+){0,2}?(?:invoices?|bills?|renewals?|subscriptions?|hosting|"
    rf"plans?|services)\b|\boffset (?:your |the )?(?:commissions?|earnings|balance)", re.I)
# A commission that applies to goods says what it is paid on, not where it is spent ("Commissions apply to purchases
# made within the cookie window", "Does the commission apply to all your products?"); a balance or credit applies to
# an invoice.
_PAID_ON = Pattern(r"\b(?:commissions?|commission rates?|provision\w*|comisi[óo]n\w*|commissie\w*|provvigion\w*|"
                   r"comiss(?:[ãa]o|[õo]es))\s+(?:\S+\s+){0,3}?(?:appl(?:y|ies)\s+(?:only\s+)?to|s['’]appliqu\w*|se aplica\w*|"
                   r"si applica\w*)\b|"
                   # a reward's scope too ("USDC rewards apply only to executed buy trades", "The bonus applies to annual
                   # plans"), not one spent on the affiliate's own ("rewards apply to your next order")
                   r"\b(?:rewards?|bonus(?:es)?|earnings|r[ée]compenses?|recompensas?|pr[äa]mien?|premi[oa]s?|beloning\w*)\s+"
                   r"(?:\S+\s+){0,3}?appl(?:y|ies)\s+(?:only\s+|exclusively\s+)?to\s+(?!(?:your|future|upcoming|next|the next)\b)",
                   re.I)
# The reward settled on the affiliate's next bill ("Die Auszahlung der Prämie erfolgt mit der nächsten Jahresabrechnung",
# "adicionado … para o pagamento da próxima fatura") or its own next order ("bij je volgende bestelling"), said beside a
# reward's name; not a third party's ("the customer's next invoice", "their next order").
_NEXT = r"(?:next|n[äa]chste[nmrs]?|prochaine?s?|pr[óo]xim[oa]s?|volgende|prossim[oa])"
_NEXT_BILL = Pattern(rf"(?<!their )(?<!'s )(?<!’s )(?<!leur )\b{_NEXT}\s+(?:\w+\s+)?(?:bill|invoice|\w*rechnung|facture|"
                     r"factura|fatura|fattura|bolletta|factuur)|\b(?:your|je|jouw|uw|votre|ta|tu|su|sua|seu|tua|tuo|"
                     rf"deine?[nmrs]?|ihre?[nmrs]?)\s+{_NEXT}\s+(?:order|purchase|bestellung|einkauf|commande|achat|pedido|"
                     r"compra|encomenda|ordine|acquisto|bestelling|aankoop)", re.I)
_REWARD_NAMED = Pattern(rf"\b(?:{_REWARD}|{_IN_KIND}|payouts?|auszahlung|waardebon\w*|vouchers?|premi[oa]s?|pr[êe]mios?|"
                        r"r[ée]compenses?|ricompens[ae])\b", re.I)
# The reward is the merchant's service for free ("De beloning … bestaat uit gratis kluishuur").
_FREE_REWARD = Pattern(r"\b(?:rewards?|beloning\w*|pr[äa]mie\w*|r[ée]compenses?|recompensas?|ricompens[ae]|premi[oa]s?)\s+"
                       r"(?:\S+\s+){0,4}?(?:is|are|consists? of|bestaat uit|besteht aus|consiste\w* (?:en|em|in)|est|sont|"
                       r"ist|sind|es|son|é|è|zijn|s[oã]o)\s+(?:\S+\s+){0,2}?(?:free|gratis|gratuit\w*|kostenlos\w*|gr[áa]tis)\b"
                       r"(?!\s+(?:of|to|for|f[üu]r)\b)", re.I)
# A voucher the affiliate receives ("erhalten Sie … einen Gutschein", "ontvang jij ook een waardebon"): only with the
# affiliate's pronoun or verb form, as a plain voucher is usually the customers' code; never a voucher code to share.
_VOUCHER = (r"vouchers?(?![\s-]?codes?)|gutschein(?!-?codes?)\w*|waardebon\w*|kortingsbon\w*|buon[oi] sconto|"
            r"bons? de r[ée]duction|cup[óo]n(?:es)? de descuento|vales?[\s-]desconto")
_YOU_GET_VOUCHER = Pattern(
    rf"(?:\b(?:you|du|vous|tu|jij|je|u|voc[êe]|voi|(?-i:Sie))\s+(?:\S+\s+){{0,2}}?(?:{_GETS})|(?:{_GETS})\s+(?:(?-i:Sie)|du|vous|"
    r"jij|je|u|ihr)\b|recibir[áa]s|recibes|riceverai|ricevi|receber[áa]s|recebes|recevras|obtendr[áa]s|otterrai|"
    rf"ganhar[áa]s)\s+(?:\S+\s+){{0,6}}?(?:{_VOUCHER})", re.I)
# The reward to spend on the merchant's own site ("una provvigione … da spendere sul nostro sito").
_OUR_SITE = (r"(?:on|sul|nel|sur|dans|en|no|na|op|in|bei|auf|im)\s+(?:our|nostro|notre|nuestr[oa]|nossa?|onze|unserem|"
             r"unserer)\s+(?:\w+\s+)?(?:site|sito|sitio|website|webshop|shop|store|boutique|tienda|loja|negozio|winkel|"
             r"plataforma|platform|piattaforma)\b")
_SPEND_VERB = (r"\b(?:use|spend|spendere|utilizzare|usare|d[ée]penser|utiliser|gastar|usar|utilizar|besteden|gebruiken|"
               r"ausgeben|verwenden|einl[öo]sen|redeem)\b")
_SPEND_HERE = Pattern(rf"{_SPEND_VERB}\s+(?:\w+\s+){{0,3}}?{_OUR_SITE}|{_OUR_SITE}\s+(?:\w+\s+){{0,2}}?{_SPEND_VERB}", re.I)
_IN_KIND_NAMED = Pattern(_IN_KIND, re.I)
# The merchant's wallet the reward is paid into ("+ 5% en monedero electrónico"); not a PayPal or crypto wallet, nor
# a friend's ("in their wallet").
_WALLET = Pattern(r"\b(?:in|into|to|en|em|na|no|dans|nel|nella|auf|op|in de)\s+(?:(?:your|the|tu|su|el|o|a|seu|sua|votre|"
                  r"le|il|tuo|je|uw|de|dein\w*|ihr\w*|das)\s+)?(?!(?:their|his|her|leurs?|pay\s?pal|crypto\w*|cripto\w*|bitcoin|btc|skrill|"
                  r"neteller|e-)\b)(?:\w+\s+)?(?:wallet|monedero|carteira|portefeuille|portafoglio|portemonnee)\b", re.I)
# Something put into the wallet: a sum or a rate, or a verb of crediting or receiving. In a referral text of an app or
# an exchange the wallet is as often the product the friend uses ("the trades their referral makes in wallet").
_PUT_IN = Pattern(rf"\d\s*%|[$€£₹]\s*\d|\d\s*(?:[$€£₹]|eur\b|euros?\b|usd\b|dollars?\b)|\b(?:{_GETS})|\b(?:{_GIVEN})\b|"
                  r"\b(?:paid|deposited|transferred|sent|added|loaded|pagad[oa]s?|depositad[oa]s?|vers[ée]e?s?|"
                  r"overgemaakt|gestort)\b", re.I)
# A contest's prize is no payout means: "the top 3 participants will receive Amazon gift cards", "winners get
# store credit".
_PRIZE = Pattern(r"\b(?:contests?|competitions?|giveaways?|sweepstakes?|raffles?|prize draws?|lotter(?:y|ies)|"
                 r"leaderboards?|winners?|chance to win|top \d+|\d+(?:st|nd|rd|th) place|concours|tirage au sort|"
                 r"gewinnspiel\w*|verlosung\w*|wettbewerbs?|sorteos?|sorteios?|concorso|estrazione|wedstrijd\w*|"
                 r"winactie\w*|loterij\w*)\b", re.I)
# Redeeming the reward is receiving it ("commissions can be redeemed through:").
_REDEEMED = Pattern(rf"\b(?:{_REWARD})\s+(?:\S+\s+){{0,3}}?(?:redeem\w*|einl[öo]s\w*|[ée]chang\w*|canje\w*|resgat\w*|"
                    rf"riscatt\w*|inwissel\w*)|\b(?:redeem\w*|einl[öo]s\w*|canje\w*|resgat\w*|riscatt\w*|inwissel\w*)\s+"
                    rf"(?:\w+\s+){{0,2}}?(?:{_REWARD})\b", re.I)
# What the affiliate must give to be paid ("Enviar … os seguintes dados: IBAN", "please provide your PayPal e-mail")
# says how it is paid.
_MUST_GIVE = Pattern(r"\b(?:provide|enter|submit|give|supply|add|angeben|anzugeben|hinterleg\w*|mitteil\w*|fournir|indiquer|"
                     r"renseign\w*|communiqu\w*|proporcion\w*|indica\w*|facilit\w*|inform\w*|fornir\w*|forne\w*|envi\w*|"
                     r"opgeven|op te geven|invullen|doorgeven|send|senden)\s+(?:\S+\s+){0,5}?(?:iban|pay\s?pal|"
                     rf"{_ACCOUNT})", re.I)
# A text about referring (not "Werbung", "indicate" or "invitation"): a reward in kind received anywhere in it is the
# referrer's ("Referral Program Rules" … "The credits will be issued once each month").
_REFERRAL_PROGRAM = Pattern(r"refer|parrain|filleul|werben|geworben|weiterempfehl|empfehlungs|referid|indica[çc][ãa]o|"
                            r"indique|indicad|uitgenodig|doorverw|verwijz|verwezen|aanbreng|passaparola|friend|\bamis?\b|"
                            r"amig[oa]s?|amic[oi]|vrienden|vriend|freund", re.I)
_NOT_OFFERED = Pattern(r"\b(?:no longer|not|don'?t|do not|cannot|can'?t|nicht|kein\w*|pas de|sin|geen|n[ãa]o)"
                       r"\W+(?:\w+\W+){0,2}$", re.I)


# A denial with a threshold or a condition after it is a delay: "you will not receive a commission check until you
# earn $50" says a check is sent.
_UNTIL = Pattern(r"^[^.;:]{0,80}?\b(?:until|unless|before|till|bis|avant|tant que|hasta|antes de|at[ée]|finch[ée]|fino a|"
                 r"prima (?:di|che)|totdat|tot|voordat)\b", re.I)


# A means denied after its name ("Payoneer is not an available payment option", "Schecks werden nicht angeboten",
# "PayPal no está disponible"); not one offered somewhere or for some ("not available in all countries", "for amounts
# under $50"), nor past a comma or a condition (another means' denial: "PayPal is our main method, wire is not
# available", "by wire if PayPal is not available").
_NEG = r"(?:not|no longer|nicht|nicht mehr|kein\w*|pas|plus|no|n[ãa]o|non|niet|geen|nog niet)"
_BE = (r"(?:is|are|will be|ist|sind|wird|werden|n['’]est|ne sont|est|sont|est[áa]|est[áa]n|es|son|ser[áa]|é|s[ãa]o|"
       r"ser[áa]|è|sono|zijn|wordt|worden)")
_DENIED_AFTER = Pattern(
    rf"^(?:(?!\b(?:if|when|where|unless|but|wenn|falls|aber|si|mais|cuando|pero|se|quando|mas|als|maar|ma)\b)"
    rf"[^.;:,]){{0,30}}?\b(?:{_BE}\s+(?:\w+\s+)?{_NEG}|{_NEG}\s+{_BE})\s+(?:\w+\s+){{0,2}}?"
    r"(?:available|offered|supported|accepted|possible|an option|verf[üu]gbar|angeboten|unterst[üu]tzt|m[öo]glich|"
    r"disponibles?|propos[ée]e?s?|accept[ée]e?s?|pris en charge|ofrecid[oa]s?|admitid[oa]s?|aceptad[oa]s?|"
    r"dispon[íi]ve(?:l|is)|oferecid[oa]s?|aceit[oa]s?|disponibil[ei]|offert[oi]|supportat[oi]|accettat[oi]|"
    r"beschikbaar|aangeboden|ondersteund|mogelijk)\b(?!\s+(?:in|for|to|f[üu]r|pour|dans|en|para|voor|per|until|unless|"
    r"below|under|outside|au-dessous|unter|bis|hasta|at[ée]|tot)\b)", re.I)


# A denial said as a condition is a fallback beside the means ("Where PayPal is not supported, payouts are sent by wire").
_IF = Pattern(r"\b(?:if|when|where|wherever|in case|falls|wenn|wo|si|lorsque|o[uù]|cuando|donde|se|quando|onde|als|waar|"
              r"indien)\s+(?:\S+\s+){0,2}$", re.I)


def _offered(pattern: Pattern, text: str) -> list[re.Match]:
    """The pattern's matches the text does not rule out ("We no longer pay by cheque", "Payoneer is not available")."""
    return [m for m in pattern.finditer(text)
            if not (_NOT_OFFERED.search(text[max(0, m.start() - 30):m.start()])
                    or (_DENIED_AFTER.search(text[m.end():m.end() + 120])
                        and not _IF.search(text[max(0, m.start() - 30):m.start()])))
            or _UNTIL.search(text[m.end():m.end() + 100])]


# Clauses of who gets what: "your friend gets 10% off and you receive $20 credit" is two ("en créditos" and "en tu
# monedero" are not: "en" is "and" only in Dutch, before a Dutch pronoun). A conjunction's blanks start where the
# run does: tried from each blank of a run, each try read the rest of it (a payout text of 2,000: 0.2 s).
_CLAUSE_END = Pattern(r"(?<!\d)[,;](?!\d)|(?<!\s)\s+(?:and|und|et|y|e|but|aber|mais|pero|maar|mas|ma)\s+(?=(?:you|your|they|"
                      r"du|sie|ihr|vous|votre|tu|t[úu]|usted|voc[êe]|voi|jij|je|u|ils?|elles?|el|ella|ele|dein\w*|ihre?)\b)|"
                      r"(?<!\s)\s+en\s+(?=(?:jij|je|jouw|u|uw|zij|ze|hij|wij|we)\b)", re.I)


def _store_credit(text: str, rewarded_here: bool, listed_payout: bool = False) -> bool:
    """Whether a unit says the affiliate's reward is kept with the merchant: named so, spent on its goods, received
    in kind where the affiliate is paid or rewarded (`rewarded_here`: a payout clause, a referral text), or named as
    an item of a list of payout means (`listed_payout`); never what a friend or a customer gets."""
    for clause in _CLAUSE_END.split(text):
        if _OTHERS_GET.search(clause) or _ATTRIBUTION.search(clause) or _PRIZE.search(clause):
            continue
        spent = _offered(_SPENT, clause) and not _PAID_ON.search(clause)
        if _offered(_STORE_CREDIT, clause) or spent or _offered(_FREE_REWARD, clause):
            return True
        if (_offered(_NEXT_BILL, clause) or _offered(_SPEND_HERE, clause)) and _REWARD_NAMED.search(clause):
            return True
        # (An item with a rate is a category the rate is paid on: "- Gift cards: 1%".)
        if listed_payout and _offered(_IN_KIND_NAMED, clause) and not re.search(r"\d\s*%", clause):
            return True
        # (A wallet the unit pays out or withdraws from is a balance on the way to another method.)
        if _offered(_WALLET, clause) and not CUE.search(text) and (
                _REWARD_NAMED.search(clause) or (rewarded_here and _PUT_IN.search(clause))):
            return True
        if rewarded_here and any(_offered(p, clause) for p in (_RECEIVED_IN_KIND, _YOU_GET_VOUCHER)):
            return True
    return False


def _list_items(doc: Doc, introduces) -> set[int]:
    """Units that are items of a list whose lead-in line (ending with ":") `introduces` says what it is about: how
    customers pay ("… dès réception du règlement de la part du client :" / ". règlement par chèque"), or how the
    affiliate is paid ("Once approved, commissions can be redeemed through:")."""
    inside, open_ = set(), False
    for i, unit in enumerate(doc.units):
        if unit.first_in_line:
            if open_ and (unit.heading and not unit.listed):
                open_ = False
            lead_in = doc.units[i - 1].text if i and doc.units[i - 1].raw.endswith(":") else ""
            if lead_in and introduces(lead_in):
                open_ = True
        if open_:
            inside.add(i)
            if not unit.listed and unit.raw.endswith(".") and re.search(r"[^\W\d_]", unit.text):
                open_ = False
    return inside


def _paying(text: str) -> bool:
    """Whether a unit talks of paying the affiliate."""
    return bool(CUE.search(text) or _MOVED.search(text) or _REDEEMED.search(text) or _MUST_GIVE.search(text))


def payout_methods_in(doc: Doc, topics: list[str | None]) -> tuple[list[str], list[str]]:
    """Methods named anywhere but where the customer pays: in a text about an affiliate program, PayPal or a bank
    transfer is how the affiliate is paid. A bank account beside ACH or a wire is where that rail lands."""
    found, evidence = [], []
    customers = _list_items(doc, lambda t: bool(_CUSTOMER_PAYS.search(t) or _PAYMENT_RECEIVED.search(t)
                                                 or _CUSTOMER_OPTIONS.search(t)))
    payout_lists = _list_items(doc, lambda t: _paying(t) and not _CUSTOMER_PAYS.search(t))
    brand_lists = _list_items(doc, lambda t: bool(_BRAND_LEAD.search(t)))
    referral = bool(_REFERRAL_PROGRAM.search(doc.text))
    platforms, platform_named = _platforms(doc.text), None
    line_rails: set[str] = set()
    for i, unit in enumerate(doc.units):
        if unit.first_in_line:
            line_rails = set()
        text = before_example(unit.norm)
        if i in customers or not text.strip() or _CUSTOMER_PAYS.search(text) or _CUSTOMER_PAYS_TOO.search(text):
            continue
        paid_here = topics[i] == "payout" or i in payout_lists or _paying(text)
        named = {}
        for name, pattern in (_NAMES if paid_here else _STRONG).items():
            matches = _offered(pattern, text)
            if matches:
                named[name] = matches
        for name in _BRAND_NAMES:
            if name in named and i in brand_lists and not paid_here:
                del named[name]
            if name in named:
                named[name] = [m for m in named[name] if not _named_as_brand(text, m, paid_here)]
                if not named[name]:
                    del named[name]
        if "other" in named and platforms:
            kept = [m for m in named["other"] if m.group(0).lower() not in platforms]
            platform_named = platform_named or (unit.raw if len(kept) < len(named["other"]) else None)
            if kept:
                named["other"] = kept
            else:
                del named["other"]
        # A rail said in a line ("Get paid by wire. It hits your bank account directly.") is where the line's bank
        # account lands. (A direct deposit beside ACH stays a bank transfer: the corpora label it both ways.)
        line_rails |= {"ach", "wire"} & set(named)
        if "bank_transfer" in named:
            # One of our accounts is the merchant's.
            named["bank_transfer"] = [m for m in named["bank_transfer"] if not (
                (_ACCOUNT_ONLY.match(m.group(0)) and line_rails) or _OURS.search(text[max(0, m.start() - 30):m.start()]))]
            if not named["bank_transfer"]:
                del named["bank_transfer"]
        if _store_credit(text, paid_here or referral or bool(_REFERRAL.search(text)), i in payout_lists):
            named["store_credit"] = True
        new = [name for name in named if name not in found]
        if new:
            found += new
            evidence.append(unit.raw)
    if platform_named and not found:  # the platform is all the text says the affiliate is paid through
        found, evidence = ["other"], [platform_named]
    return sorted(found), evidence


def payout_methods(text: str | None) -> list[str]:
    """The methods a text about payouts names (a directory's "Payout" column)."""
    text = text or ""
    named = {name for name, pattern in _NAMES.items() if pattern.search(text)}
    return sorted(named | ({"store_credit"} if _store_credit(text, True) else set()))
