"""What a sync keeps of its key with its answers (sync.key_fields): the fields no secret, its account ids, never a
secret, whatever the source or the operator names a field."""

import pytest

from affiliate_matrix.observability import secret_field
from affiliate_matrix.sources import ApiSource, all_sources
from affiliate_matrix.sync import key_fields

API_SOURCES = {name: source for name, source in all_sources().items() if issubclass(source, ApiSource)}


@pytest.mark.parametrize("name", sorted(API_SOURCES))
def test_every_field_of_an_api_sources_key_kept_with_its_answers_is_an_account_id(name):
    """secret_field judges by name: a source whose secret is named as no secret is ("passphrase", "signing_key") would
    have it kept in the clear with every answer. Each field kept is an account id (Awin's publisher_id, Impact's
    account_sid, CJ's requestor_cid, Rakuten's client_id): a source adding another is to be judged here first."""
    source = API_SOURCES[name]
    kept = key_fields(source(), {field: f"value-of-{field}" for field in source.credential_keys})
    assert all(field.endswith("id") for field in kept), (name, kept)
    assert set(kept) | {field for field in source.credential_keys if secret_field(field)} == set(
        source.credential_keys)


def test_fields_an_operator_adds_to_a_key_are_never_kept():
    """A key holds what its operator wrote (amx keys set): fields the source does not read are kept nowhere, a password
    or a note alike."""
    awin = API_SOURCES["awin"]
    credentials = {"api_token": "t0ken", "publisher_id": "123456", "password": "hunter2", "note": "spare key",
                   "passphrase": "open sesame"}
    assert key_fields(awin(), credentials) == {"publisher_id": "123456"}


@pytest.mark.parametrize("name", ["api_token", "auth_token", "client_secret", "sid", "apiKey", "x-api-key",
                                  "access_key", "private_key", "password", "refresh_token", "signature",
                                  "passphrase", "signing_key", "encryption_key", "shared_key", "hmac_key", "user_key",
                                  "webhook_key", "hmac_secret"])
def test_a_secret_fields_name_is_judged_secret(name):
    """Since a sync keeps the fields judged no secret with its answers, a name misjudged puts a secret in a document,
    not only in a log line: passphrase, signing_key, encryption_key, shared_key, hmac_key, user_key and webhook_key were
    judged no secret."""
    assert secret_field(name), name
