"""How much text the terms extractor's patterns are handed: hostile-input tests count this, not time."""

from affiliate_matrix import terms


def characters_read(text: str, monkeypatch) -> int:
    """How many characters the extractor's patterns are handed while reading `text`: a count, not a clock."""
    from affiliate_matrix.terms.text import Pattern

    read = [0]
    for name in ("search", "match", "finditer", "findall"):
        original = getattr(Pattern, name)

        def counted(self, text, *where, _original=original):
            read[0] += len(text) - (where[0] if where else 0)
            return _original(self, text, *where)

        monkeypatch.setattr(Pattern, name, counted)
    terms.extract(text)
    monkeypatch.undo()
    return read[0]
