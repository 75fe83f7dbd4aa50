"""Search on real text, on both adapters: the terms corpus (real affiliate-terms pages in seven languages, each text's
first line its program's name), the sources' real samples, and real shops' names in other scripts. Each is found by its
own words, in the forms a user or a source writes them (decomposed, full-width, capitals, compatibility forms), and
by a typo where its language allows one."""

import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from affiliate_matrix.search import SearchQuery, words
from tests.support.real_samples import real_sample
from tests.support.things import BACKENDS, SPEC, open_index

TERMS = Path(__file__).parents[1] / "data" / "terms"


@cache
def corpus() -> dict[str, dict]:
    """The terms corpus's texts and the real samples' programs, as documents (name, description) by id."""
    found = {}
    for path in sorted(TERMS.rglob("*.json")):
        item = json.loads(path.read_text())
        if item.get("text"):
            found[item["id"]] = {"id": item["id"], "name": item["text"].split("\n", 1)[0][:200],
                                 "description": item["text"]}
    for campaign in json.loads(real_sample("impact", "campaigns.json").read_text())["Campaigns"]:
        found[f"impact-{campaign['CampaignId']}"] = {"id": f"impact-{campaign['CampaignId']}",
                                                     "name": campaign["CampaignName"],
                                                     "description": campaign["CampaignDescription"]}
    for programme in json.loads(real_sample("awin", "programmes.json").read_text()):
        found[f"awin-{programme['id']}"] = {"id": f"awin-{programme['id']}", "name": programme["name"],
                                            "description": programme["description"]}
    return found


# Real shops' names in other scripts, with their words' vowel signs, viramas, nuktas, tone marks and joiners.
SHOPS = {"flipkart": "फ़्लिपकार्ट होलसेल", "lazada": "ลาซาด้า ช้อปปิ้ง", "daraz": "দারাজ অনলাইন শপিং",
         "matrimony": "தமிழ் மேட்ரிமோனி", "yandex": "Яндекс Маркет", "rakuten": "楽天市場 ラクテン",
         "coupang": "쿠팡 로켓배송", "noon": "نون للتسوق", "plaisio": "Πλαίσιο Computers", "dmx": "Điện Máy Xanh",
         "digikala": "دیجی\u200cکالا", "nikos": "Ταβέρνα ο Νίκος",
         "jarir": "مَكْتَبَةُ جَرِيرٍ", "shufersal": "שופרסל אונליין"}  # Jarir fully vowelled, Shufersal unpointed


@pytest.fixture(scope="module", params=BACKENDS)
def real(request, tmp_path_factory):
    idx = open_index(request.param, tmp_path_factory.mktemp("real"), request)
    idx.ensure_index(SPEC)
    written = list(corpus().values()) + [{"id": k, "name": name} for k, name in SHOPS.items()]
    result = idx.bulk_upsert("things", written, refresh=True)
    assert result.errors == [] and result.indexed == len(written)
    return idx


def found(idx, text: str) -> list[str]:
    return [hit.id for hit in idx.search("things", SearchQuery(text=text, size=1000)).hits]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def swapped(word: str) -> str:
    """The word with its 2nd and 3rd letters swapped: one edit, a transposition, after the first letter."""
    return word[0] + word[2] + word[1] + word[3:]


# A twentieth of the corpus, in every language it has (the corpus is sorted by language): about 115 texts.
SAMPLED = sorted({*sorted(corpus())[::20], "impact-11630", "impact-2181", "awin-3"})


@pytest.mark.parametrize("doc_id", SAMPLED)
def test_a_real_program_is_found_by_its_name_s_words_in_every_form_they_are_written(real, doc_id):
    name_words = words(corpus()[doc_id]["name"])[:8]
    text = " ".join(name_words)
    for asked in (text, text.upper(), unicodedata.normalize("NFD", text), full_width(text)):
        assert doc_id in found(real, asked), asked
    if long := [w for w in name_words if len(w) >= 6]:
        typo = " ".join(swapped(w) if w == long[0] else w for w in name_words)
        assert doc_id in found(real, typo), typo


@pytest.mark.parametrize("q,expected", [
    ("फ़्लिपकार्ट", "flipkart"), ("फ\u093c्लिपकार्ट", "flipkart"), ("फ़्लिपकाट", "flipkart"), ("होलसेल", "flipkart"),
    # Thai and Japanese are searched by pairs of characters (search.paired): a part of a run finds it (its pairs side
    # by side), one character of it too, and a typo in it is a pair no name holds ("ลาซาดา", its tone mark left out,
    # no longer finds ลาซาด้า)
    ("ลาซาด้า", "lazada"), ("ลาซา", "lazada"), ("ช้อปปิ้ง", "lazada"), ("楽天", "rakuten"), ("市場", "rakuten"),
    ("場", "rakuten"), ("ﾃ", "rakuten"), ("ซาด้า", "lazada"),
    ("দারাজ", "daraz"), ("শপিং", "daraz"),
    ("மேட்ரிமோனி", "matrimony"), ("மேட்ரிமோன", "matrimony"),
    ("яндекс маркет", "yandex"), ("ЯНДЕКС", "yandex"), ("Яндкес", "yandex"),
    ("楽天市場", "rakuten"), ("ﾗｸﾃﾝ", "rakuten"),
    ("쿠팡", "coupang"), (unicodedata.normalize("NFD", "쿠팡"), "coupang"), ("로켓배송", "coupang"),
    ("نون", "noon"), ("\ufee7\ufeee\ufee5", "noon"), ("للتسوق", "noon"),  # ﻧﻮﻥ: Arabic presentation forms (PDFs)
    ("ΝΙΚΟΣ", "nikos"), ("νικος", "nikos"), ("Νίκος", "nikos"),  # capitals, no tonos: Greek users often type so
    ("πλαίσιο", "plaisio"), ("ΠΛΑΊΣΙΟ", "plaisio"), ("Πλαίσο", "plaisio"),
    ("dien may xanh", "dmx"), ("Điện Máy Xanh", "dmx"), (unicodedata.normalize("NFD", "Điện Máy Xanh"), "dmx"),
    ("دیجی\u200cکالا", "digikala"), ("دیجیکالا", "digikala"),
    # Harakat, tatweel and niqqud are written or left out at will (search.unwritten): either way is the one word
    ("مكتبة جرير", "jarir"), ("مَكْتَبَةُ", "jarir"), ("مكـتـبـة", "jarir"), ("جَرِير", "jarir"),
    ("שׁוּפֶּרְסַל", "shufersal"), ("שופרסל", "shufersal"), ("אוֹנְלַיְין", "shufersal")])
def test_a_real_shop_s_name_in_its_own_script_is_found_by_its_own_words(real, q, expected):
    assert found(real, q) == [expected]
