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



@pytest.mark.parametrize("text,days", [
    # a window a referred friend has to act in, counted from the recommendation, the invitation or the link, or
    # "within a period of" ("innerhalb einer Frist von", "dans un délai de", "en un plazo de", "no prazo de")
    ("Your friend must sign up within 30 days of receiving your invitation.", 30),
    ("Das Konto muss innerhalb von 6 Wochen nach der Einladung eröffnet werden.", 42),
    ("Der Auftrag muss innerhalb einer Frist von 20 Tagen über den Empfehlungs-Link erteilt werden, sonst entfällt die "
     "Prämie.", 20),
    ("Die Bestellung muss binnen 14 Kalendertagen nach Versand Ihrer Empfehlung eingehen.", 14),
    ("Votre filleul doit souscrire dans un délai de 45 jours après votre invitation.", 45),
    ("Tu amigo debe contratar en un plazo de 15 días desde la invitación.", 15),
    ("Je vriend moet binnen 21 dagen na de uitnodiging een contract afsluiten.", 21),
    ("O amigo deve assinar no prazo de 10 dias após o convite.", 10),
    ("L'amico deve abbonarsi entro 20 giorni dall'invito.", 20),
    ("Your friend needs to make a purchase within 14 days to qualify for the reward.", 14),
    ("What if they don't buy right away?\nYou still earn commission if they buy within 45 days.", 45),
    ("If a customer clicks your link and purchases within 60 days, you earn commission.", 60),
    ("You get paid for any purchase made within 60 days after your referral clicks your link.", 60),
    # ... but a span counted from another event is a delay after it, and a reward paid within a span is a payout
    ("Your friend will receive the bonus within 30 days after opening the account.", None),
    ("Die Prämie wird innerhalb von 8 Wochen nach der Empfehlung ausgezahlt.", None),
    ("La récompense est versée dans un délai de 30 jours après l'ouverture du compte.", None),
    ("You'll receive your reward within 30 days of your friend's purchase.", None),
    ("If the customer cancels within 30 days, the commission is reversed.", None),
    ("If a customer returns the product within 30 days, no commission is paid.", None),
    # a number of referrals to reach within a span is a bonus's target; a delivery or an upgrade span is not a window
    ("Refer 5 customers within 30 days and earn a $100 bonus.", None),
    ("Bring 3 friends in 60 days and get a bonus of 50 EUR.", None),
    ("Werben Sie 5 Kunden innerhalb von 30 Tagen, erhalten Sie eine Prämie von 100 €.", None),
    ("Customers who order within 2 hours get free shipping; you earn 10%.", None),
    ("If the customer upgrades within 12 months, you earn 20% of the upgrade.", None),
    ("Der Auftrag zur Lieferung von Strom muss innerhalb von 30 Tagen nach Ihrer Empfehlung eingehen.", 30),
    # a span said of the referral itself (the referral, its link, the tracking, an invitation is the subject)
    ("Referral links expire after 7 days.", 7),
    ("Tracking lasts 30 days.", 30),
    ("Your link will track customers for 45 days.", 45),
    ("Der Empfehlungslink ist 30 Tage gültig.", 30),
    ("Le lien de parrainage est valable 60 jours.", 60),
    ("El enlace de referido caduca a los 90 días.", 90),
    ("De uitnodiging blijft 14 dagen geldig.", 14),
    ("Il link di referral scade dopo 30 giorni.", 30),
    ("Referral credits expire after 12 months.", None),
    ("Download links expire after 24 hours.", None),
    ("The trial link is valid for 14 days.", None),
    # a reward's validity and a span reaching back are not windows
    ("All referral credits are valid for 3 months from the date of referral.", None),
    ("Your friend must not have been a customer in the past 6 months to earn you a reward.", None),
    ("Der Geworbene darf in den letzten 12 Monaten kein Kunde gewesen sein, sonst gibt es keine Prämie.", None),
    ("Purchases by visitors who clicked your link in the past 30 days earn you a commission.", 30),
    # a session as the span a referral is credited in, without the word cookie
    ("All sales made within the same session are credited to you.", 0),
    ("De referral-link is geldig zolang de sessie van de klant duurt.", 0),
    ("Die Provision wird nur für Käufe in derselben Sitzung gutgeschrieben, der Link ist sonst nicht gültig.", 0),
    ("Join our onboarding session within 30 days to learn how commissions work.", None),
    ("In a live session we explain how you earn commission.", None),
    # the customer referred tied to the affiliate for good
    ("That customer will forever be tied to your account.", -1),
    ("Der geworbene Kunde bleibt Ihnen dauerhaft zugeordnet.", -1),
    ("Le client vous reste lié à vie.", -1),
    ("El cliente queda vinculado a tu cuenta para siempre.", -1),
    ("Once a customer is referred, they are yours forever.", -1),
    ("Die geworbenen Kunden bleiben Ihnen auf Lebenszeit zugeordnet.", -1),
    ("The link is tied to your account forever, even if you change your email.", None),
    # a lifetime as a label's value, not the label's word
    ("Cookie duration: unlimited", -1),
    ("Cookie duration\nLifetime", -1),
    ("Tracking: Lifetime", -1),
    ("Cookie lifetime: session", 0),
    ("Cookie lifetime: 30 days", 30),
    ("Commission: lifetime recurring 20%", None),
    # a span counted from the click, said with "for", and referrals that stay with the affiliate
    ("You get credit for 60 days after their visit.", 60),
    ("Vous touchez une commission pendant 60 jours après le clic.", 60),
    ("Your referrals stay with you for 90 days.", 90),
    ("You earn 20% recurring commission for life.", None),
    # the cookie's name inside the duration, and windows named after the click
    ("The link also has 30 'cookie days'.", 30),
    ("60 Cookie-Tage für jeden Klick.", 60),
    ("Attribution: 30 days, last click.", 30),
    ("Lookback window: 30 days", 30),
    ("Post-click window: 7 days", 7),
    # the same in the other languages: the tracking lasts, a visitor buys within a span, counted from the click
    ("Le suivi dure 45 jours.", 45),
    ("El seguimiento dura 30 días.", 30),
    ("Il tracciamento dura 30 giorni.", 30),
    ("Vous êtes rémunéré si le client achète dans les 30 jours.", 30),
    ("Si le visiteur achète dans les 30 jours suivant son clic, vous touchez une commission.", 30),
    ("Als de bezoeker binnen 30 dagen koopt, ontvang je commissie.", 30),
    # praise of this program's cookie is not a comparison with programs in general
    ("Industry-leading 90-day cookie", 90),
    ("A generous 90-day cookie, three times longer than the industry standard of 30 days.", 90),
])
def test_cookie_said_without_naming_it(text, days):
    assert terms.extract(text).cookie_days == days


def test_a_window_sentence_of_many_referral_phrases_is_read_in_linear_time(monkeypatch):
    """A unit with no cookie word is read for windows, spans of the referral, ties and sessions: each pattern scans it
    once, so four times the phrases cost about four times the reading."""
    def sentence(times: int) -> str:
        return " ".join("the referral link of the friend is tied within the same session and within a period of"
                        for _ in range(times)) + " 30 days."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small


@pytest.mark.parametrize("text,days", [
    # a word is no duration: "ad" is not "a" + "d", "und" not "un" + "d", "aan" not "a" + "an", "ahora" not "a hora"
    ("When a shopper clicks an ad on your blog, the cookie lasts 45 days.", 45),
    ("Cookie: set when someone clicks your ad, kept 60 days", 60),
    ("Das Cookie speichert Klicks und Leads, Laufzeit 30 Tage.", 30),
    ("De cookie blijft gekoppeld aan je account, looptijd 30 dagen.", 30),
    ("Tracking cookie: ahora 90 días.", 90),
    ("Tracking: click an ad", None),
    ("Cookie: 24h", 1),
    ("Cookie duration: a day", 1),
    ("Cookie-Laufzeit: ein Jahr", 365),
    # a window counted from the referral itself, and what the referral names instead (a sale, a reward, a payment)
    ("Your friend must place an order within 3 months of being referred.", 90),
    ("New members have to subscribe within 30 days of the referral date.", 30),
    ("The referred customer must buy within 60 days of referral for you to earn the bonus.", 60),
    ("Your gift card is emailed within 30 days of a successful referral order.", None),
    ("The referral bonus will be paid within 45 days of the referral.", None),
    ("Missing referrals can be reported within 28 days of the referred sale.", None),
    ("If your friend signs up within 30 days of being referred, you both get $20.", 30),
    ("Your friend needs to open an account within 90 days of the referral.", 90),
    ("We will contact your friend within 2 days of the referral.", None),
    ("The referrer will receive their gift card within 30 days of the referral.", None),
    ("You will be notified by email within 24 hours of the referral date.", None),
    # the visitor or customer tied to the affiliate for a span, said without the cookie
    ("Anyone who opens your link will be your visitor for 60 days.", 60),
    ("Once a visitor clicks your link, they are linked to your account for 90 days.", 90),
    ("A customer you refer stays assigned to you for 30 days.", 30),
    ("Le client reste lié à votre compte pendant 45 jours.", 45),
    ("Your coupon is yours for 30 days.", None),
    ("Your discount is linked to your account for 14 days.", None),
    ("Use the banners linked below for 30 days of promotion.", None),
    ("Your account is linked to PayPal for 30 days before payout.", None),
    # "every" before a person counts who, not when; before a span or a payment it is still a frequency
    ("Every visitor you send remains tied to you for 45 days.", 45),
    ("Every customer you refer is tracked for 60 days.", 60),
    ("Commissions are paid every 30 days.", None),
    ("Every new customer gets a 30-day free trial.", None),
    ("You earn 20% on every order for 12 months.", None),
])
def test_cookie_spans_said_of_the_visitor_and_the_referral(text, days):
    assert terms.extract(text).cookie_days == days


def test_a_sentence_of_many_visitors_and_referrals_is_read_in_linear_time(monkeypatch):
    """Each person after "every", each tie before "for" and each referral after "within" is read in a bounded window."""
    def sentence(times: int) -> str:
        return " ".join("every visitor is linked to your account for a while within days of being referred and"
                        for _ in range(times)) + " buys within 30 days."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small


@pytest.mark.parametrize(("text", "days"), [
    # an example said in passing inside a sentence illustrates that sentence; the paragraphs after it are the page's
    ("How it works\nYour referral link, for example, looks like https://shop.test/?ref=you\n"
     "When someone clicks your link, a cookie is stored on their device which is active for 45 days.", 45),
    ("How long does the partnership last, assuming you follow our rules?\nAs long as you like.\n"
     "How long are clicks tracked?\nOur cookies will be tracked during a 90 day window.", 90),
    ("If your monthly sales reach (let's say) $3,000, your rate rises to 40%.\n"
     "Every click on your link sets a cookie that lasts 60 days.", 60),
    ("Commission\nWe pay out once a month (for example, March earnings are paid in April) by PayPal.\n"
     "Our tracking cookie lasts 30 days.", 30),
    ("Wie lange gilt das Cookie?\nDer Link sieht zum Beispiel so aus: shop.de/?ref=123\nDas Cookie ist 30 Tage gültig.", 30),
    ("Comment ça marche\nVotre lien ressemble par exemple à celui-ci, avec votre identifiant.\n"
     "Le cookie est valable 60 jours.", 60),
    ("Cómo funciona\nTu enlace, por ejemplo, se ve así: tienda.es/?ref=tu\nLa cookie dura 90 días.", 90),
    # one that starts its sentence, names an example or introduces what follows still runs on to the next heading
    ("Commission\nFor example, a visitor clicks your link today.\n"
     "The cookie lasts 30 days, so a purchase on day 20 earns you 10%.", None),
    ("Commission\nHere is an example of how the cookie works:\n"
     "A visitor clicks on 1 March and the 30-day cookie keeps the sale yours.", None),
    ("Commission\nLet me give you an example.\nA shopper clicks your link and buys 20 days later with a 30-day cookie.",
     None),
    ("Commission\nSo let's say a shopper clicks your link on Monday.\n"
     "Thanks to the 30-day cookie, a purchase on Friday is yours.", None),
    ("Commission\nSay, for example, a shopper clicks your link on Monday.\n"
     "Thanks to the 30-day cookie, a purchase on Friday is yours.", None),
    ("Commission\nThe rate differs by plan, for example:\n"
     "A shopper who clicks and buys within the 30-day cookie earns you 20%.", None),
    # a referral or affiliate URL is its link: a window counted from it, a span said of it
    ("Your friend has to sign up within 14 days after using the URL you shared.", 14),
    ("New users must register within 30 days of following your URL.", 30),
    ("Affiliate URLs expire after 60 days.", 60),
    ("Your referral URL remains active for 90 days.", 90),
    ("Please send us your website URL within 7 days of signing up.", None),
    ("Refunds are issued within 30 days after using the URL we send you.", None),
    ("The URL expires after 24 hours.", None),
    ("We review your URL within 2 days.", None),
])
def test_an_example_said_in_passing_and_a_referral_url(text, days):
    assert terms.extract(text).cookie_days == days



@pytest.mark.parametrize(("text", "days"), [
    # a reward named or sent right before a span is given in it: the span is its delivery, not a window
    ("Once your friend has made a first purchase, you will receive the $25 bonus within 48 hours.", None),
    ("After your friend's first order, the referrer gets a reward within 5 days.", None),
    ("When the invited customer makes a first purchase, your gift card is e-mailed within 14 days.", None),
    ("Once a referred customer has bought, your reward check is mailed within 15 days.", None),
    ("Sobald dein Freund bestellt hat, erhältst du deine Prämie innerhalb von 4 Wochen.", None),
    ("Dès que votre filleul a commandé, vous recevez votre récompense dans les 30 jours.", None),
    ("Cuando tu amigo haga su primera compra, recibirás el bono en los 7 días siguientes.", None),
    ("Quando o cliente indicado fizer a primeira compra, você receberá o bônus de R$ 30 em até 72 horas.", None),
    # ... but the referred person's act between the reward and the span keeps the window
    ("You earn a $50 bonus when your friend buys within 30 days of clicking your link.", 30),
    ("Get a reward for every friend who signs up within 60 days.", 60),
    ("You receive a bonus for each purchase made within 45 days of the visit.", 45),
    ("Du erhältst eine Prämie, wenn dein Freund innerhalb von 30 Tagen bestellt.", 30),
    # a session booked, cancelled or attended is an appointment, not a visit's session
    ("If your friend cancels the session, you get no credit for that session.", None),
    ("You get $15 in credit for every photo session your friend books with us.", None),
    ("Was passiert, wenn mein Freund die Sitzung storniert? Dann gibt es für diese Sitzung keine Gutschrift.", None),
    ("All purchases within the same session are credited to you.", 0),
    ("Cookie: session only.", 0),
])
def test_a_reward_given_within_a_span_and_a_session_booked(text, days):
    assert terms.extract(text).cookie_days == days


@pytest.mark.parametrize(("text", "days"), [
    # normalise writes English "one" as "1" before any field reads the text: a session said with it is read so
    ("All purchases made within one session are credited to you.", 0),
    ("Sales are only credited to you if the visitor buys during one single session.", 0),
    # ... and a span of one is a figure of one
    ("Cookie duration: one year", 365),
    ("Referrals are tracked for one month after the click.", 30),
    ("The cookie lasts one day.", 1),
    # not a session an appointment is
    ("You earn credit for one coaching session your friend books.", None),
])
def test_one_said_in_words_is_read_as_normalise_writes_it(text, days):
    assert terms.extract(text).cookie_days == days


@pytest.mark.parametrize(("text", "days"), [
    # a number said in words and again in brackets, as contracts write it, is one figure: the window after
    # "within" is read in every language
    ("You earn a commission on purchases made within thirty (30) days of the click.", 30),
    ("Sie erhalten eine Provision für Käufe innerhalb von dreißig (30) Tagen nach dem Klick.", 30),
    ("Vous touchez une commission sur les achats effectués dans les trente (30) jours suivant le clic.", 30),
    ("Recibirás una comisión por las compras realizadas dentro de los treinta (30) días siguientes al clic.", 30),
    ("U ontvangt commissie op aankopen binnen dertig (30) dagen na de klik.", 30),
    ("Você recebe comissão pelas compras feitas em até trinta (30) dias após o clique.", 30),
    ("Riceverai una commissione sugli acquisti effettuati entro trenta (30) giorni dal clic.", 30),
    ("Die Cookie-Laufzeit beträgt sechzig (60) Tage.", 60),
    # ... and other periods said so stay other periods
    ("Affiliate may terminate this agreement upon thirty (30) days written notice.", None),
    ("Commissions are paid within thirty (30) days after the end of each month.", None),
    ("Refunds requested within thirty (30) days of purchase reverse the commission. The cookie lasts 60 days.", 60),
    ("Provisionen werden innerhalb von dreißig (30) Tagen nach Monatsende ausgezahlt.", None),
])
def test_a_number_said_in_words_and_again_in_brackets_is_one_figure(text, days):
    assert terms.extract(text).cookie_days == days



@pytest.mark.parametrize(("text", "days"), [
    # a span counted from the day of the click is counted from the click
    ("You earn commission on every purchase made within 60 days from the date of the click.", 60),
    ("Sales are credited to you for 45 days from the day the visitor first clicks your link.", 45),
    ("You get credit for purchases within 90 days from the time a customer clicks your link.", 90),
    ("Affiliates are paid on orders placed for 1 year from the date the customer initially clicked the link.", 365),
    # ... not from the day of another event
    ("Refunds are possible for 14 days from the date of purchase.", None),
    ("Commissions are paid within 30 days from the date of the sale.", None),
    ("Commissions are paid 30 days from the date the customer clicked, once the order is approved.", None),
    ("The cookie lasts 30 days. Payouts are sent 60 days from the date of the order.", 30),
])
def test_a_span_counted_from_the_day_of_the_click(text, days):
    assert terms.extract(text).cookie_days == days


@pytest.mark.parametrize(("text", "days"), [
    # a site's own cookies named by their purpose in its cookie notice keep no referral
    ("Analytics cookies expire after 2 years.", None),
    ("We store your cookie preferences for 12 months.", None),
    ("Google Analytics cookies are kept for 26 months. Our affiliate cookie lasts 60 days.", 60),
    ("Statistik-Cookies werden nach 14 Monaten gelöscht. Die Cookie-Laufzeit beträgt 30 Tage.", 30),
    ("Les cookies de mesure d'audience sont conservés 13 mois.", None),
    ("Las cookies analíticas se conservan 24 meses.", None),
    ("Os cookies de análise são armazenados por 13 meses.", None),
    ("I cookie analitici durano 12 mesi.", None),
    ("Analytische cookies worden 2 jaar bewaard.", None),
    # ... the affiliate's cookie beside them stays
    ("The tracking cookie lasts 90 days, while analytics cookies last 2 years.", 90),
    ("Cookie duration: 30 days (analytics cookies are separate).", 30),
    ("Necessary cookies: session. Affiliate cookie: 45 days.", 45),
])
def test_a_sites_own_cookies_named_by_purpose_are_not_the_referral_cookie(text, days):
    assert terms.extract(text).cookie_days == days


@pytest.mark.parametrize(("text", "days"), [
    # an article takes no unit said as a letter, and English "a" no German day: initials and a tag are no durations
    ("The cookie is set for a H.O.P.E. product purchase.", None),
    ("Cookie: we place a tag on the visitor's browser that lasts 30 days.", 30),
    ("Tracking cookie: a tag is stored in the browser for 45 days.", 45),
    # ... a unit said in words after an article still counts, and a figure touches its letter
    ("The cookie lasts a day.", 1),
    ("Der Cookie gilt einen Tag lang.", 1),
    ("Cookie-Laufzeit: ein Tag", 1),
    ("Le cookie dure un an.", 365),
    ("Cookie: 24h", 1),
    ("Cookie: 1 d", 1),
])
def test_an_article_before_a_letter_or_a_tag_is_no_duration(text, days):
    assert terms.extract(text).cookie_days == days


@pytest.mark.parametrize(("text", "days"), [
    # a product sent back within a span is a refund's span, in seven languages
    ("If a product bought through your link is later returned by the customer within 14 days, the commission is "
     "adjusted.", None),
    ("If the order is returned within 30 days, the commission is reversed.", None),
    ("Wird die Ware innerhalb von 14 Tagen zurückgeschickt, entfällt die Provision.", None),
    ("Si le produit est renvoyé dans les 14 jours, la commission est annulée.", None),
    ("Si el producto es devuelto dentro de los 30 días, se anula la comisión.", None),
    ("Als het product binnen 14 dagen wordt geretourneerd, vervalt de commissie.", None),
    ("Se o produto for devolvido em até 7 dias, a comissão é cancelada.", None),
    ("Se il prodotto viene restituito entro 14 giorni, la commissione viene annullata.", None),
    # ... a visitor who returned to the site is a visit, and the cookie beside a return stays
    ("If the visitor returned to the site within 30 days and bought, you earn the commission.", 30),
    ("Cookie: 30 days. Items returned by the customer within 14 days earn no commission.", 30),
])
def test_a_product_sent_back_within_a_span_is_no_window(text, days):
    assert terms.extract(text).cookie_days == days
