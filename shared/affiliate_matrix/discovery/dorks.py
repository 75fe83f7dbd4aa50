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
