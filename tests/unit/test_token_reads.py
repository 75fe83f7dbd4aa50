"""A bearer token is checked against its record in the secret store (Vault in production): each check of a token is a
read. One that cannot be a token `amx tokens create` mints, by its shape, is refused before any read, so a flood of
random headers is no flood of Vault reads; a well-formed one is read (it may be ours) and refused when it is not."""

import pytest

from affiliate_matrix.auth import authorize, create_token, session_token_id
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import Unauthorized
from affiliate_matrix.runtime import Runtime


@pytest.fixture
def rt(tmp_path):
    return Runtime("test", Settings(data_dir=tmp_path))


def test_only_a_token_of_the_minted_shape_costs_a_secret_store_read(rt, monkeypatch):
    token = create_token(rt.secrets, "read")
    reads, read = [], rt.secrets.read
    monkeypatch.setattr(rt.secrets, "read", lambda path, **options: reads.append(path) or read(path, **options))
    _, token_id, secret = token.split("_", 2)
    for malformed in ("x" * 60, token[:-1], token + "A", f"amx_{'g' * 12}_{secret}", f"amx_{'１' * 12}_{secret}",
                      f"amx_{token_id}_{secret[:-1]}!", token.replace("amx_", "AMX_"), f"{token}_{secret}"):
        with pytest.raises(Unauthorized, match="not one `amx tokens create` printed"):
            authorize(rt, f"Bearer {malformed}")
    for cookie in ("x", token, f"amxs_{'g' * 12}_{secret}", f"amxs_{token_id}_{secret[:-1]}"):  # a web session's
        with pytest.raises(Unauthorized, match="not signed in"):
            session_token_id(rt, cookie)
    assert reads == []
    unknown = f"amx_{'0' * 12}_{'A' * 43}"  # our shape, never minted: read, and refused
    with pytest.raises(Unauthorized, match="not valid"):
        authorize(rt, f"Bearer {unknown}")
    assert reads == [f"api-tokens/{'0' * 12}"]
    assert authorize(rt, f"Bearer {token}") == "read"
    assert reads == [f"api-tokens/{'0' * 12}", f"api-tokens/{token_id}"]


def test_a_sign_in_reads_its_tokens_record_once(rt, monkeypatch):
    """Opening a web session read the token's record twice, once to check it and once more for its expiry: two Vault
    reads a sign-in where one says both."""
    from affiliate_matrix.auth import FOLDER, open_session

    token = create_token(rt.secrets, "read")
    reads, read = [], rt.secrets.read
    monkeypatch.setattr(rt.secrets, "read", lambda path, **options: reads.append(path) or read(path, **options))
    open_session(rt, token)
    assert [path for path in reads if path.startswith(f"{FOLDER}/")] == [f"{FOLDER}/{token.split('_')[1]}"]
