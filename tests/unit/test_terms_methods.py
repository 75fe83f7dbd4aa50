"""Payout methods read as notions (terms/methods.py), on sentences written for them in seven languages rather than
taken from the corpus: a reward kept with the merchant is store credit; a method counts where the affiliate is
paid, not where the customer pays; a name counts as the method it names, not as another word."""

import pytest

from affiliate_matrix import terms
from tests.support.terms_reading import characters_read


def methods(text: str) -> list[str]:
    return terms.extract(text).payout_methods


@pytest.mark.parametrize("text", [
    # spent on the merchant's own goods
    "Your referral earnings can be used to pay for your next hosting invoice.",
    "Du kannst deine Provisionen auch für Bestellungen in unserem Shop verwenden.",
    "Vos commissions peuvent être utilisées pour régler vos factures d'abonnement.",
    "Las comisiones acumuladas se pueden usar para pagar tus pedidos en la tienda.",
    "I guadagni possono essere utilizzati per i tuoi acquisti sul nostro negozio.",
    "Je verdiensten kun je besteden aan producten in onze webshop.",
    "Os seus ganhos podem ser usados para pagar a assinatura do seu plano.",
    # received in kind by the referrer
    "Refer a friend and receive a $25 gift card when they place their first order.",
    "Pour chaque filleul, vous recevez un mois offert sur votre abonnement.",
    "Wirb einen Freund und erhalte einen Geschenkgutschein über 20 Euro.",
    "Por cada amigo que se registre recibirás 10 € en créditos para tu próxima compra.",
    "Voor elke vriend die je aanbrengt ontvang je € 15 tegoed.",
    "Indique um amigo e ganhe créditos na loja para a próxima compra.",
])
def test_a_reward_kept_with_the_merchant_is_store_credit(text):
    assert methods(text) == ["store_credit"]


@pytest.mark.parametrize("text", [
    "Your friend receives a $20 gift card on their first order.",               # the friend's reward
    "Customers get 2 months free with your link.",                              # the customers'
    "If several affiliates refer a customer, the last one will receive credit for the sale.",  # attribution
    "You can receive credit for up to 90 days after the click.",
    "Commission is paid on all orders placed using your link on our shop.",     # the link is used, not the reward
    "Affiliates receive no commission on orders using vouchers.",
    "Avant d'avoir commandé, votre filleul doit s'inscrire.",                   # "avoir" the verb
    "Earnings are added to your balance and paid out monthly.",                 # a balance paid out is no credit
])
def test_what_is_not_the_affiliates_reward_in_kind_is_not_store_credit(text):
    assert "store_credit" not in methods(text)


@pytest.mark.parametrize("text,expected", [
    ("We pay out to your bank account via ACH or wire transfer.", ["ach", "wire"]),   # the account the rail lands in
    ("We pay you once we have received the client's payment into our bank account. Payouts go out by PayPal.",
     ["paypal"]),
    ("You can check and change your payment settings in the dashboard.", []),      # "check" the verb
    ("Payouts are sent by PayPal or check.", ["check", "paypal"]),
    ("Checks are mailed on the 15th.", ["check"]),
    ("Le parrain reçoit sa commission sur une carte prépayée.", ["other"]),
    ("Zodra je recht hebt op een beloning, wordt deze overgemaakt op je rekeningnummer.", ["bank_transfer"]),
    ("Saque via PIX a partir de R$ 50.", ["bank_transfer"]),
    ("Formas de pagamento: boleto, PIX ou cartão.", []),                            # how customers pay
    ("Nous validons les commandes dès réception du règlement de la part du client :\n"
     "- par chèque\n- par virement", []),
    ("Auszahlung erfolgt sofort per PayPal.", ["paypal"]),                          # "sofort" is no checkout means
])
def test_a_method_counts_where_the_affiliate_is_paid(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text", [
    # settled on the affiliate's next bill or order
    "Die Prämie wird mit Ihrer nächsten Rechnung verrechnet.",
    "Your reward is deducted from your next invoice.",
    "La récompense est déduite de votre prochaine facture.",
    "El saldo acumulado se descuenta de tu próxima factura.",
    "De beloning wordt verrekend met je volgende factuur.",
    "Il premio viene scalato dalla tua prossima bolletta.",
    "Je tegoed kun je gebruiken bij je volgende bestelling.",
    "Votre récompense est valable sur votre prochaine commande.",
    # the reward is the merchant's service for free
    "Your reward is a free month of hosting for every signup.",
    "Die Prämie ist ein kostenloser Monat Ihres Abos.",
    "A recompensa é um mês grátis da sua assinatura.",
    # a voucher the affiliate (not the audience) receives
    "Refer a friend: you will receive a £20 voucher once they subscribe.",
    "Empfehlen Sie uns weiter: Sie erhalten einen Gutschein über 25 Euro.",
    "Zodra je vriend bestelt, ontvang jij een waardebon van €5.",
    "Recibirás un cupón de descuento de 10 € por cada amigo que invites.",
    # to spend on the merchant's own site
    "Earn credits you can spend on our website.",
    "Deine Provision kannst du in unserem Shop einlösen.",
    "Le tue provvigioni sono da spendere sul nostro sito.",
    "Tus comisiones son para gastar en nuestra tienda.",
    # paid into the merchant's wallet
    "For every friend you invite, 5 € go into your wallet in the app.",
    "Por cada amigo referido, 5 € en tu monedero.",
    "Vos commissions sont créditées dans votre portefeuille.",
    "La recompensa es un mes gratis de suscripción.",
])
def test_a_reward_settled_or_spent_with_the_merchant_is_store_credit(text):
    assert methods(text) == ["store_credit"]


@pytest.mark.parametrize("text,expected", [
    ("You earn 10% commission on the customer's next order.", []),                 # the customer's order
    ("Your friend gets 10% off their next purchase.", []),                          # the friend's reward
    ("You earn 20% commission on the next renewal as well.", []),                   # the customer's renewal
    ("Tu comisión se calcula sobre el próximo pedido del cliente.", []),
    ("You receive a unique voucher code to share with your audience.", []),        # the customers' code
    ("Deine Kunden erhalten einen Gutschein über 10 Euro.", []),
    ("Rewards are paid to your Bitcoin wallet.", ["crypto"]),                       # a crypto wallet is crypto
    ("Payouts are sent to your PayPal wallet.", ["paypal"]),
    ("Earnings go into your wallet and are paid out by PayPal each month.", ["paypal"]),   # a balance paid out
    ("You may not use our brand name on your site.", []),
])
def test_what_is_not_kept_with_the_merchant_is_not_store_credit(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text,expected", [
    # the items of a list whose lead-in is about paying the affiliate are payout means, a gift card among them
    ("Once approved, commissions can be redeemed through:\n• Bank transfer\n• Tremendous (gift card options)",
     ["bank_transfer", "store_credit"]),
    ("Die Auszahlung der Provision erfolgt wahlweise über:\n- PayPal\n- Geschenkkarte", ["paypal", "store_credit"]),
    ("Vos gains peuvent être versés par :\n- virement\n- carte cadeau", ["bank_transfer", "store_credit"]),
    ("Our customers can pay with:\n- PayPal\n- gift card", []),                    # how customers pay
    ("Commissions paid per category:\n- Gift cards: 1%\n- Books: 5%", []),        # categories a rate is paid on
    ("We pay commissions by:\n- cheque\n- bank transfer", ["bank_transfer", "check"]),
    ("Un 3% de comisión para ventas de cheques regalo.", []),                       # gift cheques sold, not a cheque
    # what the affiliate must give says how it is paid
    ("Please enter your bank details in your profile.", ["bank_transfer"]),
    ("Bitte hinterlegen Sie Ihre Bankverbindung im Partnerkonto.", ["bank_transfer"]),
    ("Merci de renseigner vos coordonnées bancaires dans votre espace.", ["bank_transfer"]),
    ("Indica tus datos bancarios en tu perfil de afiliado.", ["bank_transfer"]),
    # an amount in crypto is paid in it; a crypto exchange's coins are what its customers buy
    ("Le parrain reçoit 25 euros en stablecoins.", ["crypto"]),
    ("Ricevi 10 € in bitcoin per ogni amico invitato.", ["crypto"]),
    ("Buy Bitcoin and Ethereum with your account in minutes.", []),
    ("Klanten kopen bitcoins via onze app.", []),
    # a check mailed later in its clause; names that are words are not the method
    ("Commissions are combined into a single check and will be mailed monthly.", ["check"]),
    ("Interactions with our brand must be genuine.", []),
    ("Join to unlock category wise payout.", []),
    ("Payouts via Wise or PayPal.", ["bank_transfer", "paypal"]),
    # a payment app, a bank card the payout is loaded on
    ("Pagamento por MB Way ou IBAN.", ["bank_transfer", "other"]),
    ("O bónus pode ser transferido para um cartão bancário.", ["other"]),
    # a bank account in the line of a wire is where the wire lands
    ("Get paid by wire transfer. It hits your bank account directly.", ["wire"]),
    # a payer paying by a means, or money moved to the affiliate, is a payout clause
    ("Awin pays affiliates by BACS twice a month.", ["bank_transfer"]),
    ("Wir überweisen die Provision auf Ihr Konto.", ["bank_transfer"]),
    ("Transferimos tus comisiones a tu cuenta bancaria.", ["bank_transfer"]),
    ("Amazon paga por transacciones en su tienda.", []),
    ("Nous payons par chèque ou virement bancaire.", ["bank_transfer", "check"]),
    ("We betalen uit via PayPal of overboeking.", ["bank_transfer", "paypal"]),
])
def test_a_method_is_read_from_what_the_text_says_about_paying(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text", [
    "We'll send you a check at the beginning of each month for all bookings.",
    "There is no minimum, but you will not receive a commission check until you earn $50.",   # a delay, not a denial
    "Commission checks will not start to arrive until after $50 is earned.",
    "Once you have reached $25, our processor will cut you a check.",
    "We send checks out on the 15th of every month.",
    "We only send cheques.",
    "This payout will be sent to you by mail as a check.",
    "A check for your earnings goes out within 30 days of the end of the month.",
    "Preferred payment method: electronic transfer or check for domestic delivery.",
    "Un chèque vous est envoyé chaque trimestre.",
    "Nous vous envoyons un chèque à la fin du mois.",
    "Den Scheck schicken wir Ihnen per Post zu.",
    "Sie erhalten einen Scheck über Ihre Provision.",
    "Te enviaremos un cheque con tus ganancias.",
    "Recibirás un cheque cada mes.",
    "Você receberá um cheque pelo correio.",
    "Ti invieremo un assegno ogni mese.",
    "Je ontvangt elke maand een cheque per post.",
])
def test_a_check_conveyed_to_the_affiliate_is_a_payout_means_wherever_it_is_said(text):
    assert methods(text) == ["check"]


@pytest.mark.parametrize("text", [
    "You can check your earnings in the dashboard and we will send you an email.",   # "check" the verb
    "Please check your mail for the confirmation we sent.",
    "We will send you a link to check your stats.",
    "We'll check and send you a confirmation within 48 hours.",
    "Check out our new products and we will send you samples.",
    "We run a check before sending approvals to new affiliates.",                   # a check that is not sent
    "Get a free SEO check sent to your inbox.",
    "You will receive a check mark next to each approved sale.",
    "Customers can send us a check for their order.",                               # sent to the merchant
    "Please mail your check to our office.",
    "Orders ship once we have received your check.",                                # received by the merchant
    "Nous recevons votre chèque sous 5 jours.",
    "An environmental check is part of every review.",
    "Vous nous envoyez un chèque pour régler votre commande.",
    "Der Kunde schickt uns einen Scheck.",
    "El cliente nos envía un cheque por el pedido.",
    "Tu amigo recibirá un cheque regalo.",                                         # a gift cheque
    "We no longer send checks.",                                                    # denied, no threshold after
])
def test_a_check_not_conveyed_to_the_affiliate_is_no_payout_means(text):
    assert "check" not in methods(text)


@pytest.mark.parametrize("text", [
    # the customer pays: the payer after "paid by", "you" paying, the merchant accepting, a checkout's cards
    "Bank transfer fees are paid by the buyer. Affiliates earn 10% of every sale.",
    "International bank charges are at the customer's expense. Partners earn 15%.",
    "If you pay by bank transfer, your order ships once the money arrives. Affiliates earn 10%.",
    "Pay in 4 interest-free instalments with PayPal. Affiliates earn 8% on every order.",
    "We also accept payment by cheque. Our affiliates earn 10% commission.",
    "Payment is accepted by PayPal, bank transfer or cheque. Affiliates earn 10%.",
    "Nous acceptons les paiements par PayPal et virement. Les affiliés touchent 10 % par vente.",
    "Wir akzeptieren Zahlungen per PayPal und Überweisung. Partner erhalten 10 % Provision.",
    "Moyens de paiement acceptés : PayPal, chèque, virement. Commission de 10 % par vente.",
    "Los gastos de transferencia bancaria corren a cargo del cliente. Comisión del 10 %.",
    "Secure checkout: Visa, Mastercard, Amex and PayPal. Earn 10% on every sale you refer.",
    # a purchase paid by a means
    "Orders can be paid by PayPal or bank transfer. Affiliates earn 10% of each order.",
    "Your subscription is billed via PayPal or Stripe. Earn 20% recurring on every referral.",
    "Purchases made with store credit and gift cards are eligible for affiliate commissions.",
    # a payment company as the company, a brand, a partner or a product
    "The affiliate program is operated by PayPal Holdings. You earn 10% on every sale.",
    "Trusted by PayPal, Google and Microsoft. Join our affiliate program and earn 25%.",
    "Our partners include PayPal, Shopify and Amazon. Earn 30% on every sale.",
    "Trusted by:\nPayPal\nShopify\nEarn 20% on every sale.",
    "Our app integrates with Stripe, PayPal and Square. Get 20% recurring commission.",
    "Earn commission on every sale of our PayPal integration plugin. Payouts are made monthly.",
    "Customers get 0% financing with PayPal Credit. Affiliates earn 6%.",
    "Affiliates are paid every month. Chargebacks and PayPal disputes are deducted from commissions.",
    "Commissions are paid 30 days after the sale. Sales refunded via PayPal are reversed.",
])
def test_a_means_the_customer_pays_by_or_a_payment_company_as_a_brand_is_no_payout_method(text):
    assert methods(text) == []


@pytest.mark.parametrize("text,expected", [
    # beside the notions above, the affiliate's own means stay
    ("Our payment partners include PayPal and Payoneer; payouts are sent on the 15th.", ["payoneer", "paypal"]),
    ("Payouts are powered by PayPal and arrive within 3 days.", ["paypal"]),
    ("We pay you by PayPal. PayPal fees are covered by us.", ["paypal"]),
    ("You need a verified PayPal account to receive payouts.", ["paypal"]),
    ("Commissions are paid via PayPal Mass Payments on the 1st.", ["paypal"]),
    ("Affiliates are paid by bank transfer; fees charged by your bank are at your own expense.", ["bank_transfer"]),
    ("Commission is paid by bank transfer once the customer has paid the invoice.", ["bank_transfer"]),
    ("Your invoice to us is paid by bank transfer within 14 days.", ["bank_transfer"]),
    ("Orders placed via your link earn 10%, paid monthly via PayPal.", ["paypal"]),
    ("Once your application is accepted, commissions are paid via PayPal.", ["paypal"]),
    # a method's word inside a name is the name's
    ("The network mails you a check twice a month; the totals are in your ClickBank account.", ["check"]),
    ("Payouts go to the bank account you entered; the totals are in your ClickBank account.", ["bank_transfer"]),
    ("50% of the membership fees paid by a referred member, paid out by PayPal.", ["paypal"]),
    ("Refer a friend with your promo code: another 5% accrues in your affiliate credit dashboard.", ["store_credit"]),
])
def test_the_affiliates_means_stay_beside_the_customers(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text", [
    "Commissions apply to purchases made within the cookie window.",
    "Does the affiliate commission apply to all your products?",
    "La comisión se aplica a todos los pedidos.",
    "Payouts are made monthly, and we track and credit orders and commissions credited to your site.",  # "and credit"
    # a reward's scope
    "Refer a friend to the app: referral rewards apply only to subscriptions bought in the first 30 days.",
    "Invite friends and earn a bonus. The bonus applies to annual plans purchased through your link.",
    "Token rewards apply exclusively to completed orders, and are calculated at settlement.",
])
def test_a_commission_applied_to_goods_says_what_it_is_paid_on_not_store_credit(text):
    assert "store_credit" not in methods(text)


@pytest.mark.parametrize("text", [
    # a wallet nothing is put into: the app's product, where the friend trades or keeps money
    "Refer friends to CoinNest, and they can buy, sell and swap crypto in the wallet.",
    "You earn 20% of the fees, on every trade your referred friends make in the wallet.",
    "Invita a tus amigos a la app, y podrán enviar dinero desde el monedero.",
    # a friend's wallet
    "Refer a friend: after their first top-up they will find €10 in their wallet.",
    # a contest's prize
    "Refer friends all month: the top 5 referrers will receive Amazon gift cards.",
    "Invite friends to earn points. Winners of our summer giveaway get a €100 gift card.",
    "Parrainez vos amis et participez à notre concours : vous recevrez peut-être une carte cadeau de 50 €.",
])
def test_a_wallet_nothing_is_put_into_or_a_contests_prize_is_not_store_credit(text):
    assert "store_credit" not in methods(text)


@pytest.mark.parametrize("text", [
    "For each friend who signs up, you receive €5 in your app wallet.",
    "Refer a friend and get $10 credited to your wallet, to spend on your next order.",
    "Your referral bonus is added to your wallet within 48 hours.",
    "+ 5% en monedero electrónico por cada venta de tus referidos.",
    "Refer a friend and receive a $25 gift card, and join our monthly contest for extra prizes.",
    # a reward spent on the affiliate's own, or a credit that applies (not a reward's scope)
    "Refer a friend: your rewards apply to your next order in our shop.",
    "Referral credits apply to subscriptions and renewals on your account.",
])
def test_a_reward_put_into_the_wallet_beside_a_contest_or_spent_stays_store_credit(text):
    assert methods(text) == ["store_credit"]


def test_a_directory_column_names_store_credit_too():
    assert terms.payout_methods("PayPal, or use your commission balance to pay invoices") == ["paypal", "store_credit"]


@pytest.mark.parametrize("phrase", [
    "your friend and you receive credits to use your earnings on",
    # the notions of this module's later pass: a next bill, a free reward, a voucher, our shop, a wallet, a check
    "the reward is free with your next invoice and you receive a voucher to spend on our shop in your wallet check",
    # a check conveyed, either side, and a denial's "until" read after it
    "we will not send you a commission check until the check is mailed",
    # the customer's means and a payment company as a brand, either side of the name
    "trusted by PayPal and orders paid by PayPal Credit, Visa, Mastercard refunded via PayPal disputes",
    # a wallet and what is put into it, a contest's prize, a reward's scope
    "refer a friend and the top 5 winners get 5 % in the app wallet rewards apply only to orders",
    # a payout platform said to be one, a customer's options, an order covered, an open choice
    "Tipalti is a third-party platform [a/b/c] customers have payment options orders covered by PayPal",
    # a means denied after its name
    "PayPal is not available bank transfer direct deposit is not an option",
    # a payment processor either side of the name
    "the payment processor is PayPal or Stripe, our payment processor",
])
def test_a_long_payout_text_is_read_in_time_linear_in_its_length(monkeypatch, phrase):
    """Rewards, uses and goods said thousands of times in one unit: every window the methods read is bounded."""
    def sentence(times: int) -> str:
        return "Payouts: " + " ".join(phrase for _ in range(times))

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times


def test_a_long_run_of_digits_or_blanks_is_tried_from_few_of_its_places():
    """A description of 20,000 digits then "credit", a payout text of 2,000 blanks then "and you": credit after a
    figure ("$20 credit") and a conjunction between clauses were tried from every digit or blank of the run, each try
    reading the rest of it (3 s, 0.2 s). The word after a figure is 40 characters at most, and a conjunction's blanks
    start where the run does; both are still read."""
    from affiliate_matrix.terms.methods import _CLAUSE_END, _IN_KIND_NAMED

    def starts(pattern, text: str) -> int:
        return sum(1 for at in range(len(text)) if pattern.compiled.match(text, at))

    assert starts(_IN_KIND_NAMED, "1" * 20_000 + " credit") <= 41  # every digit was a start
    assert starts(_CLAUSE_END, "a" + " " * 2_000 + "and you get credit") == 1  # every blank was
    assert terms.payout_methods("Your friend gets 10% off" + " " * 1_900 + "and you receive $20 credit") == [
        "store_credit"]
    assert terms.payout_methods("Refer a friend and get 5 dollars credit") == ["store_credit"]


@pytest.mark.parametrize("text,expected", [
    # a payout platform said to be one is the service the means run through
    ("Tipalti is a third-party app we use to distribute payments to affiliates. Transactions will be reflected in your "
     "bank account within 5 days.", ["bank_transfer"]),
    ("What is Tipalti? Tipalti is a third-party app. Payouts: ACH, PayPal or wire transfer.", ["ach", "paypal", "wire"]),
    ("You will receive monthly commission payments via ACH through our partnering platform, Tipalti. You will get two "
     "emails from Tipalti.", ["ach"]),
    ("Wir zahlen über unseren Dienstleister Tipalti per Banküberweisung oder PayPal.", ["bank_transfer", "paypal"]),
    ("Le paiement passe par la plateforme Tipalti, par virement bancaire ou PayPal.", ["bank_transfer", "paypal"]),
    ("Los pagos se hacen con la plataforma Tipalti: transferencia bancaria o PayPal.", ["bank_transfer", "paypal"]),
    # with no means beside it, or named as a means, it stays
    ("Tipalti is a payout platform: affiliates are paid through Tipalti.", ["other"]),
    ("Tipalti is the only payment option for partners.", ["other"]),
    ("International resellers may choose to be paid via Check or Tipalti.", ["check", "other"]),
    ("We pay commissions by PayPal or Venmo. Venmo is a mobile payment app.", ["other", "paypal"]),
    ("What is Skrill? An e-wallet. We pay commissions by PayPal or Skrill.", ["other", "paypal"]),
    ("Add your preferred payment provider\nStripe, Paypal, and Direct Deposit are the available payout providers.",
     ["bank_transfer", "other", "paypal"]),
])
def test_a_payout_platform_said_to_be_one_gives_way_to_the_means(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a list the customer's payment options open names how customers pay
    ("Commissions are paid by bank transfer.\nCustomers purchasing tickets through your referrals have the following "
     "payment options:\n1. Zelle: no processing fees apply.\n2. Credit Card or PayPal: fees apply.", ["bank_transfer"]),
    ("Ihre Provision zahlen wir per PayPal aus.\nZahlungsarten für Kunden:\n- Überweisung\n- Skrill", ["paypal"]),
    ("Les clients disposent des moyens de paiement suivants :\n- Virement bancaire\n- PayPal", []),
    ("Los clientes tienen estas formas de pago:\n- Transferencia bancaria\n- Bizum", []),
    # an order covered by a means is the customer's
    ("Orders fully covered by store credit earn nothing. Payouts are sent by PayPal.", ["paypal"]),
    # credit for a renewal or a payment is its attribution
    ("Refer a friend: your link gives you credit for every renewal the referred customer makes.", []),
    ("The affiliate receives credit for each payment a referred customer makes, paid out via PayPal.", ["paypal"]),
])
def test_a_customers_payment_options_an_order_covered_and_credit_as_attribution_are_no_payout_means(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Payment options:\n- PayPal\n- Bank transfer", ["bank_transfer", "paypal"]),
    ("Our customers love us. We offer the following payment methods to affiliates:\n- PayPal\n- Skrill",
     ["other", "paypal"]),
    ("Payouts are sent monthly [PayPal / bank transfer available].", ["bank_transfer", "paypal"]),
])
def test_the_affiliates_payment_options_and_a_bracketed_note_stay(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text", [
    "Payments are processed [monthly/quarterly] via [direct deposit/electronic payment].",
    "Provisionen werden [monatlich/quartalsweise] per [Überweisung/PayPal] ausgezahlt.",
    "Les commissions sont versées [chaque mois/chaque trimestre] par [virement/PayPal].",
])
def test_a_templates_open_choice_names_no_method_and_no_schedule(text):
    found = terms.extract(text)
    assert (found.payout_methods, found.payout_frequency) == ([], None)


@pytest.mark.parametrize("text,expected", [
    # a means denied after its name, in the languages of the corpus
    ("Payouts are made by PayPal.\nPayoneer is not an available payment option.", ["paypal"]),
    ("Payouts are sent by PayPal, wire transfer is not available.", ["paypal"]),
    ("Auszahlung per PayPal oder Überweisung. Payoneer ist derzeit nicht verfügbar.", ["bank_transfer", "paypal"]),
    ("Les commissions sont versées par virement. PayPal n'est pas proposé comme mode de paiement.", ["bank_transfer"]),
    ("Pagamos las comisiones por transferencia bancaria. PayPal no está disponible como método de pago.",
     ["bank_transfer"]),
    ("As comissões são pagas via PayPal. O Payoneer não está disponível.", ["paypal"]),
    ("Le provvigioni vengono pagate tramite bonifico bancario. PayPal non è disponibile.", ["bank_transfer"]),
    ("Uitbetaling van je commissie gaat via PayPal. Payoneer is niet beschikbaar.", ["paypal"]),
    # offered somewhere or above a sum, or sent after a delay, it stays
    ("Payouts are made by PayPal or bank transfer. Bank transfer is not available in all countries.",
     ["bank_transfer", "paypal"]),
    ("Payouts are sent by PayPal or wire. Wire transfers are not available for amounts under $500.",
     ["paypal", "wire"]),
    ("We pay by check. Checks will not be sent until you earn $50.", ["check"]),
    # a denial said as a condition is a fallback, and another means' denial is not this one's
    ("Where PayPal is not supported, payouts are sent by wire.", ["paypal", "wire"]),
    ("Payouts are sent by wire if PayPal is not available.", ["paypal", "wire"]),
    ("Wo PayPal nicht verfügbar ist, zahlen wir per Überweisung.", ["bank_transfer", "paypal"]),
])
def test_a_means_denied_after_its_name_is_not_offered(text, expected):
    assert methods(text) == expected



@pytest.mark.parametrize("text,expected", [
    # a word a name starts, or the adjective "swift", names no method
    ("Commissions are paid by PayPal. Our revolutionary dashboard shows your stats.", ["paypal"]),
    ("Payouts are made with swift processing by bank transfer.", ["bank_transfer"]),
    ("All payment data is protected with cryptographic encryption; we pay by PayPal.", ["paypal"]),
    ("Die Auszahlung per PayPal ist durch Kryptografie geschützt.", ["paypal"]),
    # the names themselves still do
    ("We pay via Venmo, Zelle or Revolut.", ["other"]),
    ("Payouts in cryptocurrency (USDT) or by SWIFT transfer.", ["crypto", "wire"]),
    ("Auszahlung in Kryptowährung.", ["crypto"]),
    ("Payouts via Stripe Connect.", ["other"]),
])
def test_a_word_a_name_starts_names_no_method(text, expected):
    assert methods(text) == expected


@pytest.mark.parametrize("text,expected", [
    # a payment company said as the payment processor takes the customers' payments
    ("We may withhold payments due to you for 90 days if the payment processor (PayPal or Stripe) applies a buyer "
     "protection mode.", []),
    ("Payment processing is handled by PayPal. Affiliates receive commissions via bank transfer.", ["bank_transfer"]),
    ("Stripe, our payment processor, handles all customer payments. Commissions are paid by bank transfer.",
     ["bank_transfer"]),
    ("We use PayPal as our payment processor. Affiliates are paid by bank transfer.", ["bank_transfer"]),
    ("Die Zahlungen laufen über unseren Zahlungsabwickler PayPal. Provisionen zahlen wir per Überweisung.",
     ["bank_transfer"]),
    # a payout processor, or payouts processed by one, is the affiliate's
    ("Our payout processor is PayPal.", ["paypal"]),
    ("Affiliate payouts are processed by PayPal.", ["paypal"]),
    ("We pay commissions via PayPal; processing takes 3 days.", ["paypal"]),
])
def test_a_payment_company_said_as_the_payment_processor_is_no_payout_method(text, expected):
    assert methods(text) == expected
