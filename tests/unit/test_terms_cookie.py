"""The cookie duration of a free text, by mechanism: the notion nearest a duration decides whether it is the
cookie's, units and number words are read in seven languages, and what is never a cookie (a refund, a payout
hold, a recurring span, a network's statistics, advice) stays out. The sentences are written for these tests,
not taken from the corpus (tests/data/terms/README.md: the corpus measures, it is not copied into rules)."""

import pytest

from affiliate_matrix import terms
from tests.support.terms_reading import characters_read


@pytest.mark.parametrize("text,days", [
    # units and number words, seven languages
    ("Cookie expiry: 1 year", 365),
    ("Cookies expire after 6 months.", 180),
    ("Cookie-Laufzeit: zwei Wochen", 14),
    ("Wir bieten eine 30-tägige Cookie-Laufzeit.", 30),
    ("Cookie-Laufzeit: fünfundvierzig Tage", 45),
    ("Durée du cookie : quatre-vingt-dix jours", 90),
    ("Durée des cookies : 1 an", 365),
    ("Duración de la cookie: cuarenta y cinco días", 45),
    ("Cookieduur: dertig dagen", 30),
    ("Een 30-daagse cookie.", 30),
    ("O prazo do cookie é de 1 ano.", 365),
    ("Duração do cookie: trinta dias", 30),
    ("Durata del cookie: 1 anno", 365),
    ("Durata dei cookie: un mese", 30),
    ("Il cookie è valido per un anno.", 365),
    # a window named in either order: what it tracks, and a word for a span
    ("Fenêtre d'attribution : 30 jours", 30),
    ("Periodo di tracciamento: 30 giorni", 30),
    ("Attributionsfenster: 30 Tage", 30),
    ("Average conversion time: 14 days", None),
    # session and lifetime
    ("Duración de la cookie: sesión", 0),
    ("Durata del cookie: sessione", 0),
    ("Il cookie non scade mai.", -1),
    ("De cookie blijft voor altijd geldig.", -1),
    ("Session cookies are deleted when the browser closes. The affiliate cookie lasts 60 days.", 60),
    # the nearest notion decides
    ("Sales tracked by the cookie become payable after a 30-day hold.", None),
    ("Les commissions sont validées sous 30 jours, le suivi se fait par cookie.", None),
    ("You earn 30% recurring for 12 months with a 60-day cookie.", 60),
    ("Gana un 20% durante 12 meses con nuestra cookie de 90 días.", 90),
    ("Verdiene 25 % wiederkehrend für 12 Monate; Cookie-Laufzeit 60 Tage.", 60),
    ("Cookie Length: 90 | 30 Day EPC: $5.20 | 30 Day Reversal Rate: 2%", 90),
    ("Commission Rate 5% Cookie Duration 30 days Average Payout $20", 30),
    ("The tracking period for subscription sales is 30 days.", 30),
    ("Payments are made monthly, 45 days after the end of the month in which the sale was tracked by the cookie.",
     None),
    ("Affiliate tracking is updated every 24 hours.", None),
    ("Cookies: 60 days (most programs offer 30 days)", 60),
    ("- Cookie rules (30 days recommended)", None),
    ("Most affiliate programs offer lifetime cookies, but not all.", None),
    # windows said without the word cookie
    ("Customers have 30 days to make a purchase after clicking your link.", 30),
    ("Votre filleul a 48h pour passer commande.", 2),
    ("Kauft der Kunde innerhalb von 30 Tagen nach dem Klick, erhalten Sie Provision.", 30),
    ("Si el cliente compra dentro de los 30 días siguientes al clic, recibes la comisión.", 30),
    ("We use a 30-day last-click attribution model.", 30),
    ("You will receive your commission within 30 days of the customer's purchase.", None),
    ("Missing or untracked referrals can be reported within 28 days of the referred sale.", None),
    ("Referral credits expire after 12 months if unused.", None),
    ("The referred customer has 14 days to cancel.", None),
])
def test_cookie_days_by_mechanism(text, days):
    assert terms.extract(text).cookie_days == days


def test_an_example_in_a_list_item_ends_with_the_item():
    """"for example: domains" inside one item of a list is that item's, not an example running to the next
    heading: the cookie two items on is the program's."""
    text = ("Terms:\n• there are no commissions on other services, for example: domains, VPS.\n"
            "• commissions are held for 30 days.\n• the affiliate cookie is valid for 45 days.")
    assert terms.extract(text).cookie_days == 45


def test_a_cookie_clause_of_many_durations_is_read_in_time_linear_in_its_length(monkeypatch):
    """Thousands of durations in one clause, each beside another period's notion: the notions near each are read
    in a bounded window, so four times the durations costs about four times the reading."""
    def sentence(times: int) -> str:
        return "Cookie: " + " ".join("payouts held 30 days" for _ in range(times)) + "."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (200, 800))
    assert large < 5 * small  # quadratic reading would be 16 times

