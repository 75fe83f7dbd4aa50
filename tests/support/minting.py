"""A provider that mints keys, for the key rotation tests: no real source's API mints keys (the `rotate_credentials`
hook keys.py calls), so CJ, whose recorded site answers the connection's test, is given one here."""


def cj_mints(monkeypatch, *keys: dict) -> None:
    """CJ's rotation stubbed (no real provider mints keys here): each rotation hands out the next of `keys`, merged over
    the old key, and the last again once they run out."""
    from affiliate_matrix.sources.cj import CJ

    left = list(keys)

    def rotate_credentials(old: dict) -> dict:
        return {**old, **(left.pop(0) if len(left) > 1 else left[0])}

    monkeypatch.setattr(CJ, "rotate_credentials", staticmethod(rotate_credentials), raising=False)
