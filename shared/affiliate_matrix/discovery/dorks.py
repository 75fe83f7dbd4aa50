"""Dork queries per niche and language, from templates."""

from dataclasses import dataclass

MAX_NICHE = 100  # characters of one niche, wherever a run is asked for (POST /discover, a rule's discover action)

TEMPLATES = {
    "en": ['"affiliate program" {niche}', "inurl:affiliates {niche}", 'intitle:"partner program" {niche}',
           '"become an affiliate" {niche}', '"referral program" {niche}'],
    "de": ['"Partnerprogramm" {niche}', "inurl:partnerprogramm {niche}", '"Affiliate werden" {niche}'],
    "fr": ['"programme d\'affiliation" {niche}', "inurl:affiliation {niche}", '"devenir affilié" {niche}'],
    "es": ['"programa de afiliados" {niche}', "inurl:afiliados {niche}", '"hazte afiliado" {niche}'],
}


@dataclass(frozen=True)
class Dork:
    text: str
    niche: str
    language: str


def dorks(niches: list[str], languages: list[str]) -> list[Dork]:
    unknown = [lang for lang in languages if lang not in TEMPLATES]
    if unknown:
        raise ValueError(f"no dork templates for language(s) {', '.join(unknown)}; known: {', '.join(TEMPLATES)}")
    return [Dork(template.format(niche=" ".join(niche.split())), niche, language)
            for niche in niches for language in languages for template in TEMPLATES[language]]
