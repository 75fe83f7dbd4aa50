"""The Vault adapter's copies kept to serve a key while Vault is down: whatever Vault answers leaves them as it says, so
an outage never serves a key rotated away or revoked once the function has heard so from Vault. Vault's answers are
played by the adapter's one call to it (_op); the adapter on a real OpenBao: tests/contract/test_secret_store.py."""

import pytest

from affiliate_matrix.errors import BackendUnavailable, NotFoundError
from affiliate_matrix.secrets.vault import VaultSecretStore

PATH = "connections/shop"


def answering(*answers):
    """A store whose calls to Vault get `answers` in turn: a secret's data and version, or an error raised."""
    store, left = VaultSecretStore(client=None, mount="secret"), list(answers)

    def vault(call, what):
        answer = left.pop(0)
        if isinstance(answer, Exception):
            raise answer
        data, version = answer
        return {"data": {"data": data, "metadata": {"version": version}}}

    store._op = vault
    return store


def test_a_read_that_takes_no_copy_refreshes_the_one_kept():
    """A function holding version 1's copy that learns from Vault its key was rotated (a read refusing copies: a sync
    checking whether the key it was refused is still the connection's) kept the copy of version 1: Vault down then,
    it served the key retired. The copy kept is refreshed by every read; a read refusing copies makes none."""
    store = answering(({"api_token": "old"}, 1), ({"api_token": "new"}, 2),
                      BackendUnavailable("secret store: unavailable"))
    store.read(PATH)
    assert store.read(PATH, outage_copy=False) == (PATH, {"api_token": "new"}, 2)
    assert store.read(PATH) == (PATH, {"api_token": "new"}, 2)  # Vault down: the copy of what it last said

    untaken = answering(({"k": "token-record"}, 1), BackendUnavailable("secret store: unavailable"))
    untaken.read("api-tokens/t1", outage_copy=False)
    with pytest.raises(BackendUnavailable, match="failing closed"):
        untaken.read("api-tokens/t1")


def test_a_key_vault_says_is_gone_is_not_served_from_a_copy_when_vault_goes_down():
    """Revoked (its versions destroyed) or removed: Vault answered "not found", and the copy read before stayed, so
    Vault down a moment later, the revoked key was served again. "Not found" drops the copy."""
    store = answering(({"api_token": "revoked-soon"}, 1), NotFoundError("secret: not found"),
                      BackendUnavailable("secret store: unavailable"))
    store.read(PATH)
    with pytest.raises(NotFoundError):
        store.read(PATH)
    with pytest.raises(BackendUnavailable, match="failing closed"):
        store.read(PATH)
