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


def test_a_directory_column_names_store_credit_too():
    assert terms.payout_methods("PayPal, or use your commission balance to pay invoices") == ["paypal", "store_credit"]


def test_a_long_payout_text_is_read_in_time_linear_in_its_length(monkeypatch):
    """Rewards, uses and goods said thousands of times in one unit: every window the methods read is bounded."""
    def sentence(times: int) -> str:
        return "Payouts: " + " ".join("your friend and you receive credits to use your earnings on" for _ in range(times))

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times
