"""Payout frequency read as notions (terms/schedule.py), on sentences written for them in seven languages rather
than taken from the corpus: a schedule is built from words for a period, "each", "next" and an ordinal day; the
notion nearest before it decides what it schedules; a request of the payout is on request, one not needed is not."""

import re

import pytest

from affiliate_matrix import terms
from tests.support.terms_reading import characters_read


def frequency(text: str) -> str | None:
    return terms.extract(text).payout_frequency


@pytest.mark.parametrize("text,expected", [
    # a period with "each" or "once", an adjective between
    ("Affiliate commission is paid after each financial quarter has closed.", "quarterly"),
    ("De provisies worden eenmaal per maand betaald.", "monthly"),
    ("Provisies worden uitbetaald aan het einde van elke kalendermaand.", "monthly"),
    ("Les commissions sont versées une fois par mois.", "monthly"),
    ("Los pagos se realizarán cada quincena.", "biweekly"),
    ("I pagamenti vengono effettuati ogni quindici giorni.", "biweekly"),
    # an ordinal day of the (following) month
    ("Recibirás el pago de tu comisión el primer día hábil del mes siguiente.", "monthly"),
    ("Betalingen worden verzonden in de laatste week van elke maand.", "monthly"),
    ("O pagamento é feito no primeiro dia útil do mês seguinte.", "monthly"),
    ("All commission payments will be sent on the 20th day of the calendar month following the lock date.", "monthly"),
    # money or a reward sent
    ("Commissions are combined into a single check and will be mailed monthly.", "monthly"),
    ("The credits will be issued once each month.", "monthly"),
    # "we pay" and "paid" as each language says them
    ("Wir zahlen die Provision jeweils zum 15. des Folgemonats aus.", "monthly"),
    ("As comissões são pagas todo dia 10 de cada mês.", "monthly"),
    ("Le commissioni vengono pagate entro il 15 del mese successivo.", "monthly"),
    ("Commissions are paid monthly via invoice.", "monthly"),
    # net terms as a term or a span from the commission invoice, or the end of the month after
    ("Die Provision wird innerhalb von 30 Tagen nach Ausstellung der Provisionsrechnung ausgezahlt.", "net30"),
    ("Las comisiones se pagan neto treinta (30) días a partir del final del mes.", "net30"),
    ("Uitbetaling: maandelijkse facturatie met een uitbetaal termijn van 30 dagen.", "net30"),
    ("De beloning wordt uitbetaald aan het einde van de kalendermaand, volgend op de maand van de aankoop.", "net30"),
    # a request of the payout by its verb, or a withdrawal at any time
    ("A payment will be made after a request by email.", "on_request"),
    ("En tu panel podrás solicitar la liquidación de tus comisiones.", "on_request"),
    ("Saque seus ganhos de indicação a qualquer momento.", "on_request"),
    ("Sie können Ihre Auszahlung jederzeit beantragen.", "on_request"),
])
def test_a_schedule_said_of_the_payout_is_read(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text", [
    # another notion nearer before the value: a lock, a reset, an approval, billing
    "Actions will lock on the 10th of the following month and are then closed for payment to publishers.",
    "You are paid $35 per sign-up until the tier resets at the beginning of the next month.",
    "Payments: commissions are approved at the end of each month.",
    "Betaling: maandelijkse facturatie met een betaal termijn van 15 dagen.",
    "Payouts go by PayPal. The credit will be applied to your next month's invoice.",
    "Our monthly affiliate newsletter announces payout news.",
    # a rate, a commission that recurs, advice, a monthly amount
    "The credit is calculated at $1 per month for each month they pay.",
    "You receive a commission every month for as long as your referral stays subscribed.",
    "Du erhältst deine Provision jeden Monat, solange der Kunde zahlt.",
    "Vous recevez une commission chaque mois tant que votre filleul reste abonné.",
    "Je ontvangt elke maand commissie zolang de klant betaalt.",
    "Configurez les règles de versement : fréquence (mensuel recommandé).",
    "Ele estima que o valor mensal pago em comissão ficaria em torno de R$ 4.500.",
    "Pagamos comissões sobre o valor da primeira mensalidade.",
    # a request one need not make; a span of months, not the month after
    "We pay you as soon as the client has paid us, so there will be no need for you to request payment.",
    "Payouts: commission on purchases in the following months.",
    "Une commission vous est versée pour tout règlement effectué dans les 6 mois suivant son inscription.",
])
def test_what_the_schedule_is_not_the_payouts_is_not_read(text):
    assert frequency(text) is None


@pytest.mark.parametrize("text,expected", [
    # the affiliate's money moved (deposited, distributed, transferred) anywhere in the sentence, or sent beside it
    ("The bonus will be deposited into your account within the first 5 business days of the following month.",
     "monthly"),
    ("La bonificación se depositará en tu cuenta dentro de los primeros 5 días hábiles del mes siguiente.",
     "monthly"),
    ("As recompensas são intransferíveis e não acumulativas com outras promoções, e serão distribuídas após o "
     "fechamento de cada mês.", "monthly"),
    ("Les récompenses sont virées sur votre compte chaque mois.", "monthly"),
    ("De beloningen worden elke maand op je rekening gestort.", "monthly"),
    ("Le provvigioni vengono accreditate sul tuo conto ogni mese.", "monthly"),
    ("We send checks out on the 15th of every month.", "monthly"),
    ("Checks go out on the 15th of each month.", "monthly"),
    ("Las comisiones se abonan mensualmente en tu cuenta.", "monthly"),
    ("As comissões são transferidas todo dia 10.", "monthly"),
    ("Any commission due will be sent via PayPal after our quarterly review.", "quarterly"),
    ("At the end of the month you will receive a check for the sales you referred.", "monthly"),
    # a condition on the balance is the payout's threshold, not the span a commission recurs for
    ("Commissions will be distributed to you monthly, so long as the total exceeds $50.", "monthly"),
    # a payout word in the value's clause, not only within a few words of it, or in its sentence where the value's
    # clause opens it
    ("Payments and commissions will be automatically deposited into the bank account you provided on or before the "
     "5th business day of each month.", "monthly"),
    ("At the end of the month, if you have accumulated at least $50 in commissions, you will receive a commission "
     "check or a direct deposit for the sales you referred.", "monthly"),
    ("Am Ende jedes Monats, sofern Ihr Guthaben mindestens 50 € beträgt und alle Angaben vollständig sind, wird die "
     "Provision auf Ihr Konto ausgezahlt.", "monthly"),
    # the sentence answering a question of when the payout comes, on the question's line or the next
    ("When will I get paid? We process everything on the 1st of each month.", "monthly"),
    ("When do we pay? The commission period closes on the last day of the month. Payment starts in the first week of "
     "the following month.", "monthly"),
    ("¿Cuándo recibiré mi comisión? Ganarás esa comisión el primer día hábil del mes siguiente.", "monthly"),
    ("Wann bekomme ich meine Provision?\nAm Anfang jedes Monats für den Vormonat.", "monthly"),
    ("Quand vais-je recevoir mes commissions ? Le 10 de chaque mois.", "monthly"),
    # a run every N days said as an interval or a cycle, N deciding the schedule
    ("Commissions are paid out at 30 day intervals.", "monthly"),
    ("Las comisiones se pagan en ciclos de 15 días.", "biweekly"),
    ("Die Auszahlung erfolgt in einem Intervall von 7 Tagen.", "weekly"),
    ("Affiliates are paid every 90 days.", "quarterly"),
    ("We have two pay periods: the 1st to the 15th and the 16th to the end of the month.", "biweekly"),
    # a request of the payout made by its noun
    ("Zodra je saldo € 20 bedraagt kun je een verzoek indienen voor een uitbetaling.", "on_request"),
    ("Once your balance reaches $50 you can submit a payout request from your dashboard.", "on_request"),
    ("Sobald Ihr Guthaben 50 € erreicht, können Sie eine Auszahlungsanfrage stellen.", "on_request"),
    ("Vous pouvez faire une demande de paiement dès 50 €.", "on_request"),
])
def test_a_payout_said_by_money_moved_a_question_of_when_or_a_cycle_is_read(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text", [
    # something else sent, the affiliate's money only named beside it
    "Our box is sent every month; you earn a commission on every box.",
    "We send you a newsletter every month with your commission summary.",
    "Our team sends a report of your commissions every week.",
    "Gifts are sent to customers every month; your reward is a one-time bonus.",
    "Os clientes pagam todo mês.",
    # a payout word elsewhere in a long sentence, the value in a clause of its own
    "Payment details such as your PayPal address or bank account must be entered in your account settings before "
    "you can take part in our contests, which we hold every month.",
    "Payouts require a valid tax form on file, and our affiliate managers will reach out to the top performers in "
    "the program to discuss custom deals at the beginning of each quarter.",
    "Les paiements sont effectués par virement bancaire après vérification de votre identité et de vos coordonnées, "
    "et notre équipe publie un nouveau guide pour les partenaires chaque semaine.",
    # a question of when that is not about the payout, or an answer about the customer or another notion
    "When can I start promoting? You can start right away; we review applications every week.",
    "When will I get paid? Commissions are approved at the end of each month.",
    "When will I get paid? Our subscription renews every month.",
    "Quando vou receber a minha comissão? O cliente paga a mensalidade todo mês.",
    "Wann erhalte ich meine Provision? Der Kunde muss jeden Monat bezahlen.",
    # the period a commission is earned in, said in answer to when the payout comes
    "When do we pay? The commission period starts on the first calendar day of the month.",
    "Wann zahlen wir aus? Der Provisionszeitraum beginnt am ersten Tag des Monats.",
    "Quand payons-nous ? La période de commission commence le premier jour du mois.",
    "Payouts: the tracking period closes at the end of each month.",
    # a request of the payout only named, not made
    "Qualsiasi richiesta di prelievo attiva annulla il bonus.",
    # a span of days that is a hold, not a cycle
    "Hold period of 30 days applies to every commission.",
])
def test_money_sent_of_something_else_or_an_answer_about_the_customer_is_not_read(text):
    assert frequency(text) is None


def test_a_payment_run_wins_over_the_request_beside_it():
    text = "Pagos se realizarán cada quincena. Pueden solicitar en cualquier momento su liquidación."
    assert frequency(text) == "biweekly"


def test_schedules_beside_other_notions_are_read_in_time_linear_in_their_number(monkeypatch):
    """Every schedule looks back over its clause for the nearest notion: the clause is a bounded window, so a
    hostile text of thousands of schedules without commas costs about linear reading."""
    def sentence(times: int) -> str:
        return "Payouts are made " + " then ".join("after the lock on the 1st of each month by check" for _ in
                                                  range(times)) + "."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times


def test_an_ordinal_day_is_read_from_where_its_digits_start():
    """A payout text (2,000 characters) of one run of digits, or a description (20,000): a schedule's ordinal day ("the
    15th of each month") was tried from every digit of the run, each try reading the rest of it (2,000 digits took
    0.5 s, a description's 40 s). It is tried from the run's start alone, and still read whole."""
    from affiliate_matrix.terms.schedule import _ORDINAL

    ordinal, run = re.compile(_ORDINAL), "1" * 2_000
    assert sum(1 for at in range(len(run)) if ordinal.match(run, at)) == 1  # every digit was a start
    assert ordinal.match("on the 15th", 7).group() == "15th" and ordinal.match("on the 15th", 8) is None
    assert terms.payout_frequency(run) is None
    assert terms.payout_frequency("Paid on the 15th of each month.") == "monthly"


def test_a_long_sentence_of_money_moved_is_read_in_time_linear_in_its_length(monkeypatch):
    """Every schedule reads its sentence for a payout word, within a bounded reach, so a hostile sentence of
    thousands of schedules and commissions without a full stop costs about linear reading."""
    def sentence(times: int) -> str:
        return " and ".join("the commission is deposited on the 1st of each month" for _ in range(times)) + "."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small


@pytest.mark.parametrize("text,expected", [
    # a bonus's run gives way to the commission's run or request said elsewhere
    ("Performance bonuses are paid out every quarter. Commissions are paid on the 15th of each month.", "monthly"),
    ("Contest prizes are sent out weekly. You can withdraw your commission at any time from your dashboard.",
     "on_request"),
    ("Prämien werden vierteljährlich ausgezahlt. Die Provision wird monatlich ausgezahlt.", "monthly"),
    ("Los premios del concurso se pagan cada trimestre. Las comisiones se pagan el día 10 de cada mes.", "monthly"),
    # a bonus's run with no other, or one said with the commission, is still the text's
    ("Your referral bonus will be deposited into your account on the 1st of the following month.", "monthly"),
    ("Commissions and bonuses are paid weekly by bank transfer.", "weekly"),
    # the month's last day after the month earned in is its end: net terms
    ("Commissions are paid on the last business day of the month following the month in which the sale was made.",
     "net30"),
    ("Die Provision wird am letzten Werktag des Folgemonats ausgezahlt.", "net30"),
    ("Les commissions sont versées le dernier jour ouvré du mois suivant.", "net30"),
    ("Las comisiones se pagan el último día hábil del mes siguiente.", "net30"),
    ("Commissions are paid on the last business day of each month.", "monthly"),
    # earning a commission in a period is not being paid in it, unless the payout is said nearer
    ("Commissions earned in a month are paid on the 15th of the following month.", "monthly"),
    ("Earnings are paid out weekly via PayPal.", "weekly"),
])
def test_a_bonus_gives_way_and_the_months_last_day_after_it_is_net_terms(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text", [
    # a period that is the monitoring's or the earning's, not the payout's
    "Referred sales are monitored weekly by our team; payouts are sent by PayPal.",
    "All orders are tracked daily and monitored monthly, with an email for each pending payout.",
    "Earn monthly recurring income with our affiliate program, paid via PayPal.",
    "If you earn more than $100 each month, your payment can also be sent by bank transfer.",
    "Existing monthly monitored clients who refer a friend receive a credit on their payment account.",
])
def test_a_period_of_monitoring_or_earning_is_not_the_payouts(text):
    assert frequency(text) is None


def test_a_bonus_that_is_the_only_reward_keeps_its_run():
    text = ("Invite a friend and get a $20 referral bonus. Your bonus is paid on the 1st of each month. "
            "You may also request an early payout by email.")
    assert frequency(text) == "monthly"


@pytest.mark.parametrize("text,expected", [
    # the program pays the affiliate, said in the third person
    ("Brightline pays its affiliates monthly through PayPal or Payoneer.", "monthly"),
    ("The company pays partners every two weeks by bank transfer.", "biweekly"),
    ("Acme pays you on a quarterly basis for all approved sales.", "quarterly"),
    ("NordicGear zahlt seinen Partnern die Provision monatlich per Überweisung.", "monthly"),
    ("La boutique paie ses affiliés chaque mois par virement.", "monthly"),
    ("La tienda paga a sus afiliados cada mes por transferencia.", "monthly"),
    ("A loja paga aos seus parceiros todos os meses via PIX.", "monthly"),
    ("De webshop betaalt haar affiliates elk kwartaal uit.", "quarterly"),
    ("Il negozio paga i suoi affiliati ogni mese tramite bonifico.", "monthly"),
    # a run every N days said as a schedule
    ("Referral rewards are paid out to your PayPal on a 14-day rolling schedule.", "biweekly"),
    ("We settle affiliate balances on a 30-day payout schedule.", "monthly"),
    # a day of the current month
    ("Commissions for the previous month are paid on the 10th of the current month.", "monthly"),
    ("Die Provisionen des Vormonats werden am 15. des laufenden Monats ausgezahlt.", "monthly"),
    # a cash-out requested
    ("Once your balance reaches $25 you can request a cash-out to your bank account.", "on_request"),
    ("Submit a cashout request from your dashboard whenever your balance is above $20.", "on_request"),
    # the answer to how long the money takes
    ("How long will it take to get my money?\nUpon your request, we send it within two business days.", "on_request"),
    ("How long until I receive my money?\nPayouts go out on the 5th of every month.", "monthly"),
    # a button the affiliate clicks to withdraw or receive the money
    ("Open the Earnings tab and click \"Withdraw\" to send your balance to PayPal.", "on_request"),
    ("In your dashboard, click the Cash Out button to receive your commissions.", "on_request"),
    ("Klicken Sie im Partnerbereich auf „Auszahlen“, um Ihr Guthaben zu erhalten.", "on_request"),
    ("Dans votre espace, cliquez sur « Retirer » pour recevoir vos gains.", "on_request"),
    ("Haz clic en «Retirar» para recibir tu saldo en PayPal.", "on_request"),
    ("Clique em \"Sacar\" para receber o seu saldo.", "on_request"),
    ("Klik op 'Uitbetalen' om je tegoed te ontvangen.", "on_request"),
    # a run still wins over the button
    ("Shopwise pays affiliates monthly. You can also click Withdraw to request an early payout.", "monthly"),
])
def test_schedules_said_of_the_program_paying_a_cash_out_or_a_button(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text", [
    "Our software pays for itself within a month; affiliates earn 30% of every sale.",
    "The advertiser pays affiliates per lead; leads are validated weekly by our team.",
    "Click the link in the welcome email to receive your discount code each month.",
    "Click \"Redeem now\" and you will receive the amount in your next payout.",
    "Click \"Set up payout method\" to connect your Stripe account.",
    "Click here to claim your free spins every week!",
    "How long does the cookie last?\nThe cookie lasts 30 days and resets every month.",
    "How long do commissions last for?\nYou earn commission every month for 12 months.",
    "How long will it take to receive my order?\nOrders ship on the 1st of each month.",
    "Stats for the current month are updated on the 1st of the current month.",
    "Commissions are approved on the 10th of the current month.",
    "Customers can cash out their winnings weekly; affiliates earn 25% revenue share.",
    "Reports are generated on a 30 day rolling schedule and emailed to you.",
    "A 30 day rolling refund schedule applies to all orders.",
])
def test_no_payout_schedule_in_a_click_a_question_or_a_schedule_of_something_else(text):
    assert frequency(text) is None


@pytest.mark.parametrize("text,expected", [
    # a run the affiliate opts into, or one of the accounts paid by one method, gives way to the default run
    ("Affiliates may elect to be paid weekly by direct deposit. All commissions are paid monthly by PayPal.", "monthly"),
    ("If you opt for direct deposit, you will be paid every week. Otherwise, commissions are paid on the 15th of each "
     "month.", "monthly"),
    ("Partners who choose bank transfer receive their payouts quarterly. Commission payments are sent monthly.",
     "monthly"),
    ("Accounts that are paid by wire transfer receive payments once a month. All other accounts receive payments every "
     "two weeks.", "biweekly"),
    ("Payouts are processed weekly or monthly depending on your payment method. We pay all affiliates on the 1st of "
     "each month by check.", "monthly"),
    ("Wenn Sie sich für die Überweisung entscheiden, erfolgt die Auszahlung wöchentlich. Die Provisionen werden "
     "monatlich ausgezahlt.", "monthly"),
    ("Si vous optez pour le virement, les paiements sont effectués chaque semaine. Les commissions sont versées une "
     "fois par mois.", "monthly"),
    ("Si eliges transferencia bancaria, los pagos se realizan cada semana. Las comisiones se pagan una vez al mes.",
     "monthly"),
    ("Als je voor een bankoverschrijving kiest, worden de betalingen wekelijks uitgevoerd. Commissies worden "
     "maandelijks uitbetaald.", "monthly"),
    # the option alone is still the text's run; a method chosen, a threshold or "eligible" is no option of the run
    ("Affiliates may elect to be paid weekly.", "weekly"),
    ("Commissions are paid monthly via the payment method you choose. Weekly contests are held for the top "
     "affiliates, and you can choose to receive PayPal or a check.", "monthly"),
    ("You can choose PayPal or bank transfer. Commissions are paid monthly.", "monthly"),
    ("Payments are issued once a month for affiliates that have reached a minimum of $50. You can request a payout "
     "at any time.", "monthly"),
    ("You are eligible for payout 30 days after the end of the month. Payments are made by PayPal.", "net30"),
    ("Payments are made monthly. If you prefer, you can request a withdrawal by email.", "monthly"),
    ("If you choose to join our program, commissions are paid monthly by PayPal. Top affiliates are paid weekly.",
     "monthly"),
])
def test_a_run_said_as_an_option_gives_way_to_the_default_run(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # the affiliate's own money received, by a possessive, in seven languages
    ("You will receive your commission within the first 10 days of the following month.", "monthly"),
    ("Affiliates receive their earnings on the 15th of each month.", "monthly"),
    ("You get your commissions every two weeks through PayPal.", "biweekly"),
    ("Recibirás tu comisión el día 15 de cada mes.", "monthly"),
    ("Vous recevrez vos commissions chaque mois par virement.", "monthly"),
    ("Erhalten Sie Ihre Provision jeden Monat per PayPal.", "monthly"),
    ("Je ontvangt je commissie elke maand.", "monthly"),
    ("Você receberá suas comissões todo mês.", "monthly"),
    ("Riceverai le tue provvigioni ogni mese.", "monthly"),
    # the affiliate's money said payable
    ("Commissions are payable monthly.", "monthly"),
    ("Affiliate earnings are payable on the 15th of each calendar quarter.", "quarterly"),
    ("Die Provisionen sind monatlich zahlbar.", "monthly"),
    # a transfer made, and "we transfer"
    ("We make a transfer every month to the account in your profile.", "monthly"),
    ("Transfers are made on the 10th of every month.", "monthly"),
    ("We transfer your commission to your bank account every week.", "weekly"),
    # a threshold said as a sum reached or earned is the payout's, not the span a commission recurs for
    ("Payments are made every month as long as you have earned at least $50.", "monthly"),
    ("We pay monthly, as long as your earnings reach the $25 minimum.", "monthly"),
])
def test_a_payout_said_as_money_received_payable_or_transferred_is_read(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text", [
    "You will receive your commission rate increase each quarter if you sell more.",
    "If you are not happy, you get your money back within 30 days. Our plans are billed monthly.",
    "You will receive your commission statement every month. Commissions are paid by PayPal.",
    "The membership fee is payable monthly. Affiliates earn 20% of every sale.",
    "Customers can make a bank transfer every month to pay for their plan. You earn 20% of it.",
    "You earn 20% every month as long as the customer stays subscribed. Payments are made by PayPal.",
    "You will receive your commission every month your referral stays subscribed.",
])
def test_money_received_or_payable_that_is_no_payout_run_is_not_read(text):
    assert frequency(text) is None


@pytest.mark.parametrize("text,expected", [
    # two days of each month are two runs a month
    ("Die Provision wird jeweils am 15. und am 31. des Monats überwiesen.", "biweekly"),
    ("Wir zahlen die Provisionen am 1. und 15. jedes Monats aus.", "biweekly"),
    ("Nous payons les commissions le 1er et le 15 de chaque mois.", "biweekly"),
    ("Pagamos las comisiones el 1 y el 15 de cada mes.", "biweekly"),
    ("Pagamos as comissões nos dias 5 e 20 de cada mês.", "biweekly"),
    ("Le commissioni vengono pagate il 1 e il 15 di ogni mese.", "biweekly"),
    ("De uitbetaling gebeurt op de 1e en 15e van elke maand.", "biweekly"),
    ("Payouts are made on the 1st and 15th.", "biweekly"),
    ("Payouts are made on the 15th and the last day of each month.", "biweekly"),
    # a day of a month said of each quarter is the quarter's run
    ("Commissions are paid out on the first of the month of each quarter for the previous quarter.", "quarterly"),
    ("Commissions are paid on the 15th of the month following the end of each quarter.", "quarterly"),
    ("Provisionen werden am 10. des Monats nach jedem Quartal ausgezahlt.", "quarterly"),
    ("Les commissions sont versées le 10 du premier mois de chaque trimestre.", "quarterly"),
    # a name a click starts is no click of a withdraw button
    ("ClickBank ensures that you receive your commissions every two weeks, on the button!", "biweekly"),
    ("U kunt uw aantal kliks en uitbetalingsinformatie bekijken; de uitbetaling gebeurt elke maand.", "monthly"),
])
def test_two_days_of_the_month_a_day_of_the_quarter_and_a_name_a_click_starts(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # days between which sales are counted are no two runs; a click of a withdraw button is still a request
    ("Commissions earned between the 1st and 15th of the month are paid on the 30th of the month.", "monthly"),
    ("Sales made from the 1st to the 15th of the month are paid on the 30th.", "monthly"),
    ("Click on the Withdraw button to get your money.", "on_request"),
    ("Klik op Uitbetalen om je geld te ontvangen.", "on_request"),
    ("Haz clic en Retirar para recibir tu dinero.", "on_request"),
    ("Commissions are paid monthly; the quarterly report is sent on the 1st of the month.", "monthly"),
])
def test_days_between_which_sales_count_and_a_real_click_keep_their_reading(text, expected):
    assert frequency(text) == expected


def test_two_days_and_a_quarters_day_said_thousands_of_times_are_read_in_linear_time(monkeypatch):
    def sentence(times: int) -> str:
        return "Payouts are made " + " then ".join("on the 1st and 15th of the month of each quarter, ClickBank"
                                                  for _ in range(times)) + "."

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times



@pytest.mark.parametrize("text,expected", [
    # a weekday of each month is a monthly run
    ("Commission will be paid to you on the first Monday of the month via PayPal.", "monthly"),
    ("Die Provision wird am ersten Montag jedes Monats ausgezahlt.", "monthly"),
    ("Les commissions sont versées le premier lundi du mois.", "monthly"),
    ("As comissões são pagas na primeira segunda-feira do mês.", "monthly"),
    ("Le provvigioni vengono pagate il primo lunedì del mese.", "monthly"),
    ("De commissies worden uitbetaald op de eerste maandag van de maand.", "monthly"),
    # not one said of something else, and a weekday of each week stays weekly
    ("Our newsletter goes out on the first Monday of the month; commissions are paid by PayPal.", None),
    ("We pay every Friday.", "weekly"),
])
def test_a_weekday_of_each_month_is_a_monthly_run(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # the affiliate's money paid in the singular passive of Spanish and Portuguese
    ("La comisión se paga el día 15 de cada mes.", "monthly"),
    ("La comisión se pagará el primer día hábil de cada mes.", "monthly"),
    ("A comissão é paga no dia 15 de cada mês.", "monthly"),
    ("A comissão será paga todo mês via PIX.", "monthly"),
    # a subscription or a fee the customer pays is no payout
    ("La suscripción se paga cada mes.", None),
    ("A mensalidade é paga todo mês pelo cliente.", None),
])
def test_the_affiliates_money_paid_in_the_singular_passive_is_a_payout(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a threshold or a cap per month is the amount's, not a run
    ("Publishers are also required to clear a monthly threshold of $65 to be paid.", None),
    ("Le seuil mensuel de paiement est de 50 €.", None),
    ("Der monatliche Mindestbetrag für die Auszahlung beträgt 50 €.", None),
    ("El umbral mensual de pago es de 50 €.", None),
    # a run said beside it stays
    ("Your commission is paid monthly in the first week of the following month, as long as you reach the monthly "
     "threshold of 50 USD.", "monthly"),
    ("Commissions are paid monthly, minimum $50.", "monthly"),
])
def test_a_threshold_per_month_is_no_run(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # an affiliate said to be approved is who is paid, not an approval the schedule is of
    ("Approved partners can request withdrawals from their dashboard.", "on_request"),
    ("Les affiliés approuvés peuvent demander un paiement à tout moment.", "on_request"),
    ("Freigegebene Partner können ihre Auszahlung jederzeit beantragen.", "on_request"),
    # commissions approved on a run are still the approval's
    ("Commissions are approved monthly and paid via PayPal.", None),
    ("Approved commissions are paid on the 15th of each month.", "monthly"),
])
def test_an_affiliate_said_to_be_approved_is_no_approval_notion(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # the customer paying is a billing period, under a payout heading too
    ("Payments\nCustomers pay monthly.", None),
    ("Zahlungen\nKunden zahlen monatlich.", None),
    ("Paiements\nLes clients paient chaque mois.", None),
    ("Pagos\nLos clientes pagan cada mes.", None),
    ("Betalingen\nKlanten betalen maandelijks.", None),
    ("Your referrals pay monthly; you get 20% of each payment.", None),
    ("Customer payments are processed weekly; affiliate payouts go out monthly.", "monthly"),
    # a period beside a yearly one is a billing plan's
    ("Payments\nPlans: monthly or yearly.", None),
    ("Paiements\nFormules : mensuelle ou annuelle.", None),
    ("Pagamentos\nOs planos são cobrados mensalmente ou anualmente.", None),
    # the affiliate paid stays, beside the customer's payments
    ("Customers pay monthly, and we pay you on the 15th of each month.", "monthly"),
    ("Whether your customers pay monthly or yearly, we pay you on the 15th of each month.", "monthly"),
    ("The advertiser pays you monthly.", "monthly"),
    ("Referral payouts are sent monthly.", "monthly"),
])
def test_the_customers_billing_is_no_payout_run(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a label names what its value schedules
    ("Payments\nReporting: weekly", None),
    ("Payouts\nApproval: monthly", None),
    ("Auszahlung\nBerichte: wöchentlich", None),
    ("Paiements\nRapports : hebdomadaires", None),
    ("Payments\nSubscription: monthly", None),
    # a payout's label keeps its value
    ("Payments\nPayout schedule: monthly", "monthly"),
    ("Paiements\nFréquence : mensuelle", "monthly"),
    ("Approved commissions: paid monthly via PayPal.", "monthly"),
])
def test_a_label_of_another_notion_takes_its_value(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # with no word of paying in the clause, a notion's verb said after the value decides
    ("Auszahlungen\nDie Provisionen werden monatlich vom Händler bestätigt.", None),
    ("Pagos\nLas comisiones se validan cada mes.", None),
    ("Pagamentos\nAs comissões são validadas todo mês.", None),
    ("Betaling\nDe klant wordt maandelijks gefactureerd.", None),
    ("Payouts\nCommissions are confirmed by the merchant every month.", None),
    ("Payments\nThe tracking data is updated weekly.", None),
    # a notion said as a condition of the run is not one
    ("Payouts\nMonthly, once approved.", "monthly"),
    ("Commissions are paid monthly once approved.", "monthly"),
    ("Auszahlung\nmonatlich, sobald freigegeben", "monthly"),
    ("Payments are made on the 15th of every month for approved referrals.", "monthly"),
    # what an approval qualifies is what is paid
    ("We pay all approved results each Wednesday.", "weekly"),
    ("Nous payons les commissions validées chaque mercredi.", "weekly"),
    ("Commissions are approved monthly and paid via PayPal.", None),
])
def test_a_notion_said_after_the_value_or_of_what_is_paid(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # net terms said from the month's last day, in a month, or after the month's end in short
    ("Commissions will be paid 60 days from the last day of the month in which the sale occurred.", "net60"),
    ("Die Provision wird 30 Tage nach dem letzten Tag des Monats ausgezahlt.", "net30"),
    ("Monthly payouts will be sent one month from the end of the month.", "net30"),
    ("Les commissions sont versées un mois après la fin du mois.", "net30"),
    ("Payouts are made monthly within 30 days of month end.", "net30"),
    # a lag after the quarter's end is the quarter's run
    ("Bonuses are paid once per quarter, 30 days after the end of the quarter.", "quarterly"),
    ("Commissions are paid quarterly, 60 days after the last day of the quarter.", "quarterly"),
    ("Payments are made 30 days after the end of the month.", "net30"),
])
def test_net_terms_are_said_of_a_month(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a right the program reserves is no schedule
    ("The company reserves the right to amend or withdraw this offer at any time. Rewards are paid by PayPal.", None),
    ("Le programme se réserve le droit de retirer le paiement des commissions à tout moment.", None),
    ("La empresa se reserva el derecho de retirar el pago de comisiones en cualquier momento.", None),
    ("We reserve the right to change payment dates. Payouts are sent monthly.", "monthly"),
    # a means offered on request is a means
    ("Payment by cheque is also available upon request.", None),
    ("Auszahlung per Gutschein ist auf Anfrage möglich.", None),
    ("Payment by cheque is available upon request. Commissions are paid monthly.", "monthly"),
    ("Payouts are available on request.", "on_request"),
    # what may be the case, or a schedule asked about, is not said
    ("It could be the case that we only pay you when you request your payments.", None),
    ("Il se peut que les paiements soient effectués uniquement sur demande.", None),
    ("Es kann sein, dass die Auszahlung nur auf Anfrage erfolgt.", None),
    ("Payments\nIs your payment frequency set to \"payment upon request\"?", None),
    # a request of the first payout only
    ("Once the threshold has been reached, you will be able to request your first payment.", None),
    ("Vous devez demander votre premier paiement dans votre compte.", None),
    ("You can request a payment at any time.", "on_request"),
    # whenever the affiliate likes is on request
    ("Partners can withdraw their earnings whenever they like.", "on_request"),
    ("Puedes retirar tus comisiones cuando quieras.", "on_request"),
    # a label introducing what follows gives way to the run said under it
    ("Payments\nEach month:\nWe create a document with the approved results.\nWe pay all approved results each "
     "Wednesday.", "weekly"),
    # a monthly profit is an amount
    ("Die Zahlungen werden vom monatlichen Gesamtgewinn berechnet.", None),
    ("Payments are based on your monthly profit.", None),
])
def test_what_is_not_said_of_the_payout_run(text, expected):
    assert frequency(text) == expected


def test_labels_and_customers_are_read_in_time_linear_in_their_number(monkeypatch):
    """A label's notion is looked for in a bounded window before its colon, a customer who pays in the value's
    clause: a hostile text of thousands of them costs about linear reading."""
    def text(times: int) -> str:
        return "Payments\n" + " ".join("Reporting: weekly, customers pay monthly" for _ in range(times))

    small, large = (characters_read(text(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times


@pytest.mark.parametrize("text,expected", [
    # a short line a person is the subject of says what they do, not a payout value
    ("Payments\nWe review applications weekly.", None),
    ("Payouts\nOur affiliate manager will contact you every month.", None),
    ("Auszahlung\nWir prüfen Anmeldungen wöchentlich.", None),
    ("Paiements\nNous publions de nouvelles bannières chaque semaine.", None),
    # a value, or a person paying, stays
    ("Payouts\nMonthly via PayPal", "monthly"),
    ("Payments\nWe pay monthly.", "monthly"),
    ("Auszahlung\nWir zahlen monatlich aus.", "monthly"),
])
def test_a_short_line_a_person_is_the_subject_of_needs_a_word_of_paying(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a short line under a payout heading whose subject is a thing says what that thing does
    ("Payouts\nNew creatives are added every week.", None),
    ("Payouts\nThe leaderboard is refreshed weekly.", None),
    ("Payouts\nOrders ship weekly.", None),
    ("Auszahlungen\nNeue Werbemittel werden jede Woche hinzugefügt.", None),
    ("Paiements\nLes commandes sont expédiées chaque semaine.", None),
    ("Pagos\nLos nuevos materiales promocionales se publican cada mes.", None),
    ("Uitbetalingen\nNieuwe banners worden elke week toegevoegd.", None),
    ("Pagamentos\nNovos banners são adicionados toda semana.", None),
    ("Pagamenti\nNuovi banner vengono aggiunti ogni settimana.", None),
    # or a person said right after the schedule that opens it
    ("Payouts\nEach month we pick a winner.", None),
    ("Uitbetalingen\nElke maand sturen we een nieuwsbrief.", None),
    # a value, after a label, a comma or a preposition, or the affiliate's money as the subject, stays
    ("Payouts\nMonthly via PayPal.", "monthly"),
    ("Payouts\nOn the 15th of each month.", "monthly"),
    ("Payouts\nPayPal, every month.", "monthly"),
    ("Payouts\nSchedule: weekly", "weekly"),
    ("Auszahlungen\nAm 15. jedes Monats.", "monthly"),
    ("Payouts\nCommissions are processed every month.", "monthly"),
    ("Pagos\nTus ganancias se procesan cada mes.", "monthly"),
    # a means or a payer before the value says it is the payout's
    ("Payouts\nTransfers happen every month.", "monthly"),
    ("Auszahlungen\nDie Überweisung erfolgt monatlich.", "monthly"),
    ("Pagamentos\nA transferência é feita todo mês.", "monthly"),
    ("Uitbetalingen\nDe overboeking gebeurt maandelijks.", "monthly"),
    ("Payment terms\nThe program pays monthly.", "monthly"),
])
def test_a_short_line_a_thing_is_the_subject_of_needs_a_word_of_paying(text, expected):
    assert frequency(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a clause of its own after a semicolon or a conjunction says what something else does
    ("Payouts are made by PayPal; we send a performance summary every month.", None),
    ("Commissions are paid via PayPal, and new banners are added every week.", None),
    ("The payout threshold is $50 and our affiliate team reviews applications weekly.", None),
    ("Die Auszahlung erfolgt per PayPal; neue Werbemittel gibt es jede Woche.", None),
    ("Le paiement se fait par PayPal ; de nouvelles bannières sont ajoutées chaque semaine.", None),
    ("De uitbetaling gaat via PayPal; elke week voegen we nieuwe banners toe.", None),
    ("El pago se realiza por PayPal; cada semana añadimos nuevos banners.", None),
    ("O pagamento é feito via PayPal; toda semana adicionamos novos banners.", None),
    ("Il pagamento avviene tramite PayPal; ogni settimana aggiungiamo nuovi banner.", None),
    ("Payment information: the dashboard refreshes every week.", None),
    ("Zahlungsinformationen: das Dashboard wird jede Woche aktualisiert.", None),
    # the payout's own clause, or a value after the semicolon, stays
    ("Commissions are calculated and paid monthly.", "monthly"),
    ("Payouts are made by PayPal; monthly, on the 15th.", "monthly"),
    ("Payments are sent by PayPal, and they go out every month.", "monthly"),
    ("We pay by PayPal, and payments are sent every Friday.", "weekly"),
    ("Payment schedule: monthly", "monthly"),
    ("Payouts: the 15th of each month.", "monthly"),
    ("Payment: commissions are sent every month.", "monthly"),
    ("Los pagos se hacen por PayPal; cada mes pagamos el día 15.", "monthly"),
    ("Pagamento via PayPal; todo mês enviamos suas comissões.", "monthly"),
    ("Pagamento tramite PayPal; ogni mese paghiamo le provvigioni.", "monthly"),
])
def test_a_clause_of_its_own_is_not_said_of_paying_by_the_clause_before(text, expected):
    assert frequency(text) == expected
