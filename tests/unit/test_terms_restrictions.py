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


# Self-referral said as a referral verb whose object is the referrer itself, or as one's own purchases said another
# way (a possessive after the purchase, a coupon code of one's own, a personal booking), in each language.
@pytest.mark.parametrize("text,expected", [
    ("Partners may not refer themselves or their household.", ["self_referral"]),
    ("You can't invite yourself to get the bonus.", ["self_referral"]),
    ("Please do not refer your own company.", ["self_referral"]),
    ("Commissions on orders for your own business will be reversed.", ["self_referral"]),
    ("Ambassadors may not use their own discount code on their orders.", ["self_referral"]),
    ("Personal orders are not eligible for a commission.", ["self_referral"]),
    ("Werber dürfen sich nicht selbst als Neukunden empfehlen.", ["self_referral"]),
    ("Eine Selbstempfehlung wird nicht vergütet.", ["self_referral"]),
    ("Le partenaire ne peut pas être son propre affilié.", ["self_referral"]),
    ("No se permite la auto invitación con otra cuenta.", ["self_referral"]),
    ("O cliente não pode indicar a si próprio.", ["self_referral"]),
    ("Je kunt jezelf niet doorverwijzen.", ["self_referral"]),
    ("Non riceverai commissioni sui tuoi acquisti.", ["self_referral"]),
    ("Share your code with friends: you earn 10% when they buy through it.", []),
    ("Your audience can order through your own link and you earn on it.", []),
])
def test_self_referral_said_as_the_referrer_itself(text, expected):
    assert _restrictions(text) == expected


# A typographic apostrophe forbids as a plain one does; a rule that takes the commission back forbids what causes it;
# a practice that must be approved first is restricted.
@pytest.mark.parametrize("text,expected", [
    ("Affiliates can’t earn on their own purchases.", ["self_referral"]),
    ("Self-purchases won’t be credited.", ["self_referral"]),
    ("Commissions from self-purchases will be reversed.", ["self_referral"]),
    ("Newsletter campaigns require prior approval.", ["email_spam"]),
    ("Email promotion must be approved by our team.", ["email_spam"]),
    ("Bidding on brand keywords must be authorized in writing.", ["ppc_brand_bidding"]),
    ("Email campaigns are welcome.", []),
    ("We don’t sell adult products.", []),
])
def test_the_ways_a_ban_is_said(text, expected):
    assert _restrictions(text) == expected


# A ban on the paid-search channel itself covers bidding on the brand, the ban said before the channel too.
@pytest.mark.parametrize("text,expected", [
    ("You cannot run Google Ads for your affiliate link.", ["ppc_brand_bidding"]),
    ("No paid search of any kind.", ["ppc_brand_bidding"]),
    ("Bing Ads are not permitted.", ["ppc_brand_bidding"]),
    ("Kein Suchmaschinenmarketing.", ["ppc_brand_bidding"]),
    ("Google Ads campaigns on generic terms are welcome.", []),
])
def test_the_paid_search_channel_banned(text, expected):
    assert _restrictions(text) == expected


# Adult said as sexual content; a list opened by a negated welcome or a modal with its negation.
@pytest.mark.parametrize("text,expected", [
    ("Sites with sexually explicit content will be rejected.", ["adult"]),
    ("Keine Seiten mit sexuellen Darstellungen.", ["adult"]),
    ("No se aceptan sitios con contenido sexual.", ["adult"]),
    ("We do not tolerate discrimination based on sexual orientation.", []),
    ("Folgende Umfelder sind nicht erwünscht:\n• Pornografie\n• Glücksspiel", ["adult"]),
    ("Folgende Inhalte darf die Partnerseite nicht zeigen:\n• Erotik\n• Gewalt", ["adult"]),
    ("De volgende kanalen mag u niet gebruiken:\n• Cashback sites\n• Spam", ["email_spam", "incentivized"]),
])
def test_adult_content_and_lists_a_negation_opens(text, expected):
    assert _restrictions(text) == expected


# An item of a list that itself introduces a ban opens one (a nested list flattened); the items before it are not
# under it.
@pytest.mark.parametrize("text,expected", [
    ("Teilnahmebedingungen\n- Vergütet werden nur echte Klicks.\n- Folgendes ist nicht erlaubt:\n- Spam-Mails\n"
     "- Cashback-Portale", ["email_spam", "incentivized"]),
    ("Promotion\nYou may share your link on your blog\nYou may share it in your newsletter\n"
     "Prohibited methods include:\nUnsolicited bulk messages\nSexually explicit sites", ["adult", "email_spam"]),
    ("Promotion\nYou may share your link on your blog\nYou may share it in your newsletter\nCashback portals", []),
])
def test_an_item_that_introduces_a_ban_opens_it(text, expected):
    assert _restrictions(text) == expected


# Child or illegal pornography is a ban on illegal content, not on adult content; pornography itself still is.
@pytest.mark.parametrize("text,expected", [
    ("Sites with child pornography are terminated at once.", []),
    ("Kein Traffic von Seiten mit illegaler Pornografie.", []),
    ("No pornography or other adult material.", ["adult"]),
])
def test_illegal_pornography_is_not_adult(text, expected):
    assert _restrictions(text) == expected
