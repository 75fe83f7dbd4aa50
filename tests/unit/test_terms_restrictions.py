"""Restrictions read for what the text forbids the affiliate, on sentences written for each mechanism (not taken
from the corpus), with the ban each must still keep beside it."""

import pytest

from affiliate_matrix import terms
from tests.support.terms_reading import characters_read


def _restrictions(text: str) -> list[str]:
    return terms.extract(text).restrictions


# A word that is not the practice: forced clicks are a tracking fraud, not a reward paid to the visitor; an e-mail
# address is a contact, not the channel.
@pytest.mark.parametrize("text,expected", [
    ("Forced clicks are not allowed.", []),
    ("Forced Klicks sind untersagt.", []),
    ("Keine Paidmailer und keine Forced Klicks.", ["incentivized"]),
    ("If you have no e-mail address, we will call you.", []),
    ("Wer keine E-Mail-Adresse hat, wird per Post informiert.", []),
    ("Kein E-Mail-Marketing.", ["email_spam"]),
    ("No email marketing without our approval.", ["email_spam"]),
])
def test_a_word_that_names_something_else_is_not_the_practice(text, expected):
    assert _restrictions(text) == expected


# The channel named nearest the practice's word says which practice it is.
@pytest.mark.parametrize("text,expected", [
    ("Non è consentito fare spam su forum o blog di terzi.", []),
    ("Forum spam is not allowed.", []),
    ("Le spam dans les commentaires de blogs est interdit.", []),
    ("No spam.", ["email_spam"]),
    ("Spam per E-Mail ist verboten.", ["email_spam"]),
    ("No se permite el spam por correo.", ["email_spam"]),
    ("Direct linking from paid social media is not permitted.", ["social_ads"]),
    ("Direct linking from Google Ads is not permitted.", ["ppc_brand_bidding"]),
    ("Direct linking to our website is prohibited.", ["ppc_brand_bidding"]),
    ("Le lien direct vers notre site est interdit.", ["ppc_brand_bidding"]),
    # An item of a list is its own phrase: the websites of the item before are not the spam's channel.
    ("You may not use traffic from coupon websites, banner exchanges, spam or bought traffic.",
     ["coupon_sites", "email_spam"]),
])
def test_the_channel_nearest_the_word_decides_the_practice(text, expected):
    assert _restrictions(text) == expected


# Self-referral is the affiliate buying through its own link; the audience buying through it is the program.
@pytest.mark.parametrize("text,expected", [
    ("No, tus clientes no obtienen un descuento si compran con tu enlace.", []),
    ("Não, seus seguidores não recebem desconto se comprarem pelo seu link.", []),
    ("Non, tes lecteurs ne paient pas plus cher s'ils achètent via ton lien.", []),
    ("You may not purchase through your own affiliate link.", ["self_referral"]),
    ("O afiliado não pode comprar pelo próprio link.", ["self_referral"]),
    ("Compras a través de tu propio enlace no generan comisión.", ["self_referral"]),
])
def test_a_purchase_by_someone_else_is_not_self_referral(text, expected):
    assert _restrictions(text) == expected


# A practice named as the publishers a rule is for is not banned; what they may not do is the rule.
@pytest.mark.parametrize("text,expected", [
    ("Coupon sites may only promote codes we issue.", []),
    ("Gutscheinpartnern ist untersagt, eigene Codes zu veröffentlichen.", []),
    ("Kortingscodesites mogen alleen onze codes gebruiken, andere codes zijn niet toegestaan.", []),
    ("Los sitios de cupones solo pueden usar códigos oficiales.", []),
    ("Cashback sites are not allowed to display codes we did not issue.", []),
    ("Coupon sites are not allowed.", ["coupon_sites"]),
    ("Gutscheinseiten sind untersagt.", ["coupon_sites"]),
    ("Cashback sites are not allowed to join the program.", ["incentivized"]),
    ("Cashback is not to be offered to visitors.", ["incentivized"]),
    ("Los sitios de cupones no están permitidos.", ["coupon_sites"]),
])
def test_the_publishers_a_rule_is_for_are_not_banned(text, expected):
    assert _restrictions(text) == expected


def test_many_practices_in_one_unit_are_read_in_time_linear_in_its_length(monkeypatch):
    """Every practice's word is judged in a bounded window: a hostile unit of thousands of them, none forbidden,
    costs about twice the reading at twice the length."""
    def sentence(times: int) -> str:
        rule = "forum spam and coupon sites may only use our codes"
        return "No problem: " + ", but ".join(rule for _ in range(times))

    small, large = (characters_read(sentence(n), monkeypatch) for n in (100, 400))
    assert large < 5 * small  # quadratic reading would be 16 times
