"""Dork queries per niche and language, from templates."""

from dataclasses import dataclass

MAX_NICHE = 100  # characters of one niche, wherever a run is asked for (POST /discover, a rule's discover action)

# nl, pt and it are worded as merchants' own program pages name themselves (checked on stored public pages):
# nl "Partnerprogramma" (its heading, at /partnerprogramma), "ons Affiliate Programma"; pt "Programa de Afiliados do
# <shop>", at /afiliados/, and "Programa de Indicação"; it "Programma di Affiliazione" and "Programma Affiliazione"
# (a shop's heading, at /programma-affiliazione and /affiliazione).
TEMPLATES = {
    "en": ['"affiliate program" {niche}', "inurl:affiliates {niche}", 'intitle:"partner program" {niche}',
           '"become an affiliate" {niche}', '"referral program" {niche}'],
    "de": ['"Partnerprogramm" {niche}', "inurl:partnerprogramm {niche}", '"Affiliate werden" {niche}'],
    "fr": ['"programme d\'affiliation" {niche}', "inurl:affiliation {niche}", '"devenir affilié" {niche}'],
    "es": ['"programa de afiliados" {niche}', "inurl:afiliados {niche}", '"hazte afiliado" {niche}'],
    "nl": ['"partnerprogramma" {niche}', "inurl:partnerprogramma {niche}", '"affiliate programma" {niche}'],
    "pt": ['"programa de afiliados" {niche}', "inurl:afiliados {niche}", '"programa de indicação" {niche}'],
    "it": ['"programma di affiliazione" {niche}', "inurl:affiliazione {niche}", '"programma affiliazione" {niche}'],
}


# A niche goes into every dork as the words it is (dorks()), so nothing in it may be read as a search operator or
# break the template's own quotes: `shoes site:evil.example`, `-inurl:affiliate` or `"` changed what each dork asked.
INSIDE_A_WORD = "-'’."  # e-bikes, men's, node.js: no operator there (a leading hyphen excludes a word)
OPERATOR_WORDS = ("OR", "AND", "NOT")  # in capitals, Google's and Bing's operators between words
NICHE_RULE = ("a niche is words of letters and digits, separated by spaces (a hyphen, apostrophe or period inside a "
              "word, as e-bikes, men's, node.js)")


def niche_problem(niche: str) -> str | None:
    """What is wrong with `niche` wherever a run is asked for (amx discover run, POST /discover, a rule's discover
    action): blank (its dorks would search for no niche at all), longer than MAX_NICHE, or what in it a search engine
    would read as an operator or that breaks a dork's quotes, named with its place (the character, counted from 1, as
    written); None when the niche is words only (NICHE_RULE)."""
    import re
    import unicodedata

    if not niche.strip():
        return "it is blank: its dorks would search for no niche at all"
    if len(niche) > MAX_NICHE:
        return f"{len(niche):,} characters, over the {MAX_NICHE} a niche may have"

    for found in re.finditer(r"\S+", niche):
        word, start = found.group(), found.start()
        if word in OPERATOR_WORDS:
            return (f"{word!r} at character {start + 1} is a search operator (write it in lower case to search the "
                    f"word); {NICHE_RULE}")
        # each character's place in a word: a letter or digit, or a mark on one (an accent written apart: NFD); a mark
        # on nothing (a word's first, one after a hyphen) is none, else it made `\u0301-affiliate` a hyphen inside
        in_word = []
        for offset, char in enumerate(word):
            on_letter = offset > 0 and in_word[offset - 1] and unicodedata.category(char).startswith("M")
            in_word.append(char.isalnum() or on_letter)
        for offset, char in enumerate(word):
            if in_word[offset] or (char in INSIDE_A_WORD and 0 < offset < len(word) - 1 and in_word[offset - 1]
                                   and word[offset + 1].isalnum()):
                continue
            if unicodedata.category(char).startswith("M"):
                said = "is a combining mark on no letter or digit"
            elif char == "-" and offset == 0:
                said = "excludes the word after it from the search"
            elif char in INSIDE_A_WORD:
                said = "is not between two letters or digits of a word"
            elif char == '"':
                said = "quotes a phrase, breaking the dork's own quotes"
            elif char == ":":
                said = "makes the word before it a search operator (as site:, inurl:)"
            else:
                said = "is not a letter, digit or space"
            return f"{char!r} at character {start + offset + 1} {said}; {NICHE_RULE}"
    return None


@dataclass(frozen=True)
class Dork:
    text: str
    niche: str
    language: str


def check_languages(languages: list[str]) -> None:
    """Refuse a language no template searches in, naming the ones that are (a run in it would search nothing)."""
    unknown = [str(lang)[:10] for lang in languages if lang not in TEMPLATES]  # a hostile value is not repeated whole
    if unknown:
        raise ValueError(f"no dork templates for language(s) {', '.join(unknown)}; supported: {', '.join(TEMPLATES)}")


def dorks(niches: list[str], languages: list[str]) -> list[Dork]:
    check_languages(languages)
    return [Dork(template.format(niche=" ".join(niche.split())), niche, language)
            for niche in niches for language in languages for template in TEMPLATES[language]]
