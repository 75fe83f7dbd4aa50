"""Event senders with tokens a real kube-apiserver signs (TokenRequest, as Knative's token provider asks
for them): any service account of the namespace can get one for a function's audience, and only the
account of the route that sends the event there is taken (handlers/events.py, events/identity.py).
The function reads the API server's own issuer name and signing keys, copied to files because its
discovery document points the keys at the in-cluster address."""

import json
import uuid

import pytest
from functions_framework import create_app

from affiliate_matrix.events import ACTION_PREFIX, Event
from affiliate_matrix.events.identity import MAX_TOKEN_LIFETIME_S, TRIGGER, audience, oidc_service_account
from tests.support.events import signed_event
from tests.support.processes import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture
def keys_in_a_namespace(kube_cluster, tmp_path, monkeypatch):
    """A namespace with the web function's account and the rotate_key Trigger's, and the keys function
    trusting the API server's issuer; yields a token minter for the keys function's audience."""
    namespace = f"amx-events-{uuid.uuid4().hex[:8]}"
    trigger_account = oidc_service_account(TRIGGER, "action-rotate-key-to-keys")
    kube_cluster.kubectl("create", "namespace", namespace)
    for account in ("fn-web", trigger_account):
        kube_cluster.kubectl("create", "serviceaccount", account, "-n", namespace)
    discovery = json.loads(kube_cluster.kubectl("get", "--raw", "/.well-known/openid-configuration").stdout)
    (tmp_path / "jwks.json").write_text(kube_cluster.kubectl("get", "--raw", "/openid/v1/jwks").stdout)
    (tmp_path / "openid-configuration.json").write_text(json.dumps(
        {**discovery, "jwks_uri": (tmp_path / "jwks.json").as_uri()}))
    monkeypatch.setenv("AMX_EVENTS_OIDC_DISCOVERY_URL", (tmp_path / "openid-configuration.json").as_uri())
    monkeypatch.setenv("AMX_NAMESPACE", namespace)
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))

    def token(account: str, seconds: int = 3600) -> str:  # Knative asks for an hour
        return kube_cluster.service_account_token(namespace, account, audience(namespace, "keys"), seconds=seconds)

    yield token, trigger_account
    kube_cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_only_the_routes_own_account_delivers_with_an_api_server_token(keys_in_a_namespace):
    token, trigger_account = keys_in_a_namespace
    keys = create_app("handle", str(ROOT / "functions" / "keys" / "main.py")).test_client()
    rotate = Event.make(ACTION_PREFIX + "rotate_key", "/x", {"params": {"path": "connections/none"}})

    def post(bearer: str):
        headers, body = signed_event(rotate, "keys", authorization=f"Bearer {bearer}")
        return keys.post("/", headers=headers, data=body)

    web = post(token("fn-web"))  # the TokenRequest any pod of the namespace may make under its own account
    assert web.status_code == 403 and web.json["error"]["message"].endswith(":fn-web"), web.json
    long_lived = post(token(trigger_account, seconds=MAX_TOKEN_LIFETIME_S + 3600))
    assert long_lived.status_code == 401 and "longer than" in long_lived.json["error"]["message"], long_lived.json
    routed = post(token(trigger_account))
    assert routed.status_code not in (401, 403), routed.get_data(as_text=True)
