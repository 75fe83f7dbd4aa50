"""Durations in seven languages: "90-day", "6 Monate", "un anno", "trente jours", "30-tägige", "24h".

English number words are already figures in a unit's normalised text (`text.normalise`); the other languages'
are read here, and only in front of a unit of time, so a word like Italian "sei" (6, and "you are") or Dutch
"acht" is a number only where it counts days, months or years."""

import re

from affiliate_matrix.terms.text import NO_EXPONENT, NOT_AN_EXPONENT, NOT_HEX, Pattern, number, read_once

# Number words of de, fr, es, nl, pt, it (one is `_ONE`, an article in most of them). A compound is its words
# summed ("quarante-cinq", "cuarenta y cinco", "fünfundvierzig", "vijfenveertig", "quarantacinque"); a
# hundred multiplies. French 70 and 80 are single entries, so "quatre-vingt-dix" is 80 + 10. A compound is at most
# four words: fused words split many ways ("vierzehn" is "vier" + "zehn"), and a run of them before no unit would
# otherwise be tried in exponentially many splits.
_WORDS = {
    **dict.fromkeys(("zwei", "deux", "dos", "twee", "dois", "duas", "due"), 2),
    **dict.fromkeys(("drei", "trois", "tres", "drie", "três", "tre"), 3),
    **dict.fromkeys(("vier", "quatre", "cuatro", "quatro", "quattro"), 4),
    **dict.fromkeys(("fünf", "fuenf", "cinq", "cinco", "vijf", "cinque"), 5),
    **dict.fromkeys(("sechs", "six", "seis", "zes", "sei"), 6),
    **dict.fromkeys(("sieben", "sept", "siete", "zeven", "sete", "sette"), 7),
    **dict.fromkeys(("acht", "huit", "ocho", "oito", "otto"), 8),
    **dict.fromkeys(("neun", "neuf", "nueve", "negen", "nove"), 9),
    **dict.fromkeys(("zehn", "dix", "diez", "tien", "dez", "dieci"), 10),
    **dict.fromkeys(("elf", "onze", "once", "undici"), 11),
    **dict.fromkeys(("zwölf", "douze", "doce", "twaalf", "doze", "dodici"), 12),
    **dict.fromkeys(("vierzehn", "quatorze", "catorce", "veertien", "catorze", "quattordici"), 14),
    **dict.fromkeys(("fünfzehn", "quinze", "quince", "vijftien", "quindici"), 15),
    **dict.fromkeys(("zwanzig", "vingt", "veinte", "twintig", "vinte", "venti"), 20),
    **dict.fromkeys(("dreißig", "dreissig", "trente", "treinta", "dertig", "trinta", "trenta"), 30),
    **dict.fromkeys(("vierzig", "quarante", "cuarenta", "veertig", "quarenta", "quaranta"), 40),
    **dict.fromkeys(("fünfzig", "cinquante", "cincuenta", "vijftig", "cinquenta", "cinquanta"), 50),
    **dict.fromkeys(("sechzig", "soixante", "sesenta", "zestig", "sessenta", "sessanta"), 60),
    **dict.fromkeys(("siebzig", "soixante-dix", "setenta", "zeventig", "settanta"), 70),
    **dict.fromkeys(("achtzig", "quatre-vingts", "quatre-vingt", "ochenta", "tachtig", "oitenta", "ottanta"), 80),
    **dict.fromkeys(("neunzig", "noventa", "negentig", "novanta"), 90),
    **dict.fromkeys(("hundert", "cent", "cien", "ciento", "honderd", "cem", "cento"), 100),
}
_HUNDREDS = {"hundert", "cent", "cien", "ciento", "honderd", "cem", "cento"}
_WORD = "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True))
_WORD_NUMBER = rf"\b(?:{_WORD})(?:(?:[\s-]+(?:y|e|et|und|en)[\s-]+|[\s-]|und|en)?(?:{_WORD})){{0,3}}\b"

_UNIT = (r"days?|t[äa]gig(?:e[nrs]?)?|tagen?|tage?|jours?|d[ií]as?|dagen|daagse|dag|giorn[io]|"
         r"months?|monate?n?|mois|mes(?:es|e|i)?|mês|maanden|maand|"
         r"years?|jahre?n?|jahr|ann[ée]es?|ans?|años?|anos?|ann[io]|jaren|jaar|"
         r"weeks?|wochen?|semaines?|semanas?|settiman[ae]|weken|"
         r"hours?|hrs?|h|stunden?|std|heures?|horas?|uur|or[ae]|d")
_ONE = r"(?:an?|ein(?:e[nm]?)?|un[ae]?|um[a]?|een)"  # English "one" arrives as "1", a figure (normalise)
# A figure may touch its unit ("30d", "24h"); a word stands apart from it, or "and", "und", "ad", "aan" and "ahora"
# would read as "a" or "an" before a unit ("a" + "d", "un" + "d", "a" + "an", "a" + "hora"). A word takes no unit
# said as a letter ("for a H.O.P.E. product" is no hour), nor English "a" a German day ("we place a tag").
DURATION = Pattern(
    # (?<!\d): a figure is looked for only where its digits start (see text.NUMBER)
    rf"(?:(?P<n>(?=\d)(?<!\d){NOT_AN_EXPONENT}{NOT_HEX}\d+(?:[.,]\d+)?{NO_EXPONENT})\)?[\s-]*|"
    rf"(?P<one>\b{_ONE})[\s-]+(?![hd]\b|(?<=\ba[\s-])tage?\b|"
    rf"(?<=\ban[\s-])tage?\b))(?:-\s*)?"
    rf"(?:(?:full|whole|entire|ganze[ns]?|vollen?)\s+)?"
    rf"(?:calendar[\s-]|kalender)?(?P<unit>{_UNIT})\b", re.I)  # "30 calendar days", "30 Kalendertagen"
_WORDS_BEFORE_UNIT = Pattern(rf"{_WORD_NUMBER}(?=[\s-]*(?:{_UNIT})\b)", re.I)
# A number said twice, in words (or, English words being figures already, in figures) and again in brackets, as
# contracts write it: "thirty (30) days", "dreißig (30) Tagen", "trente (30) jours", "treinta (30) días".
_SAID_TWICE = Pattern(rf"(?:(?P<figure>(?<!\d)\d+)|(?P<words>{_WORD_NUMBER}))\s*\(\s*(?P<again>\d+)\s*\)"
                      rf"(?=[\s-]*(?:{_UNIT})\b)", re.I)


def _words_value(words: str) -> int:
    total = 0
    for word in re.findall(_WORD, words.lower()):
        total = max(total, 1) * 100 if word in _HUNDREDS else total + _WORDS[word]
    return total


@read_once
def figures(text: str) -> str:
    """The text with number words before a unit of time as figures ("cuarenta y cinco días" is "45 días"), so a
    clause split at "y" or "e" does not cut a number in two, and a number said twice said once ("dreißig (30) Tagen"
    is "30 Tagen"), so the duration stands right after the words that open it ("innerhalb von", "within")."""
    return _WORDS_BEFORE_UNIT.sub(lambda m: str(_words_value(m.group(0))), _SAID_TWICE.sub(_said_once, text))


def _said_once(match: re.Match) -> str:
    """The figure in brackets where it repeats the number before it; both, as written, where they differ."""
    said = int(match["figure"]) if match["figure"] else _words_value(match["words"])
    return match["again"] if said == int(match["again"]) else match.group(0)


def duration_days(match: re.Match) -> int | None:
    """A DURATION match in days: "12 months" is a year (365), "6 months" 180, "24 hours" 1; None for a
    figure no record holds (text.number)."""
    figure = number(match["n"]) if match["n"] else 1
    if figure is None:
        return None
    n = float(figure)
    unit = match["unit"].lower()
    if unit.startswith(("mo", "mes", "mês", "maand")):
        days = n / 12 * 365 if n % 12 == 0 else n * 30
    elif unit.startswith(("y", "j", "an", "añ", "ano")) and not unit.startswith("jour"):
        days = n * 365
    elif unit.startswith(("w", "se")):
        days = n * 7
    elif unit.startswith(("h", "st", "uur", "or")):
        days = n / 24
    else:
        days = n
    return 0 if n == 0 else max(1, round(days))
