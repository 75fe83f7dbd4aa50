"""Vault's Kubernetes auth for real: OpenBao's auth/kubernetes reviews ServiceAccount tokens minted by a
real kube-apiserver (TokenRequest), one role per function bound to that function's ServiceAccount in the
manifests (as terraform/vault.tf binds it), with the policies of infra/vault/policies/ loaded. Each
function's least privilege is proven by the reads and writes outside its policy being refused."""

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import hvac
import pytest
import yaml

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import AccessDenied
from affiliate_matrix.runtime import open_secret_store
from affiliate_matrix.secrets.access import ACCESS, KEY_FOLDERS, READ
from tests.conftest import VAULT_ROOT_TOKEN
from tests.support.manifests import render
from tests.support.processes import ROOT
from tests.support.vault_policies import POLICIES, policy_rules

pytestmark = pytest.mark.slow

OVERLAY = "prod"  # its namespace is the one terraform binds the roles to (terraform/variables.tf)
ROLE_ANNOTATION = "vault.hashicorp.com/role"
TOKEN_TTL_S, TOKEN_MAX_TTL_S = 3600, 14400  # terraform/vault.tf's roles


@dataclass
class VaultOnCluster:
    url: str
    namespace: str
    accounts: dict[str, str]  # Vault role -> the ServiceAccount bound to it
    cluster: object
    audience: str  # what the roles take, and the functions' projected vault-token is minted for

    def jwt(self, tmp_path: Path, account: str, namespace: str | None = None, audience: str | None = None) -> Path:
        """A file holding a fresh token of the ServiceAccount, where a pod would find its projected vault-token
        (for Vault's audience; `audience=""` mints the API server's own, as a pod's automounted token is)."""
        path = tmp_path / f"token-{uuid.uuid4().hex[:6]}"
        audience = self.audience if audience is None else audience
        path.write_text(self.cluster.service_account_token(namespace or self.namespace, account, audience=audience or None))
        return path

    def store(self, tmp_path: Path, role: str, **settings):
        jwt = self.jwt(tmp_path, self.accounts[role])
        return open_secret_store(Settings(secrets="vault", vault_addr=self.url, vault_role=role, vault_jwt_path=jwt,
                                          **settings))


@pytest.fixture(scope="module")
def vault(openbao, kube_cluster) -> VaultOnCluster:
    docs = render(ROOT / "manifests" / "overlays" / OVERLAY)
    (namespace,) = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
    accounts = [d for d in docs if d["kind"] == "ServiceAccount" and ROLE_ANNOTATION in d["metadata"].get("annotations", {})]
    kube_cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(
        [d for d in docs if d["kind"] == "Namespace"] + accounts))
    # OpenBao runs outside the cluster, so it reviews login tokens (TokenReview) with a token of its own
    # ServiceAccount bound to system:auth-delegator, as the Vault Helm chart sets it up inside one.
    kube_cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openbao"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "token-reviewer", "namespace": "openbao"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "openbao-token-reviewer"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
         "subjects": [{"kind": "ServiceAccount", "name": "token-reviewer", "namespace": "openbao"}]}]))
    root = hvac.Client(url=openbao.url, token=VAULT_ROOT_TOKEN)
    if "kubernetes/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("kubernetes")
    root.auth.kubernetes.configure(
        kubernetes_host=kube_cluster.url, kubernetes_ca_cert=kube_cluster.ca_cert.read_text(),
        token_reviewer_jwt=kube_cluster.service_account_token("openbao", "token-reviewer", seconds=7200),
        disable_local_ca_jwt=True)
    for policy in POLICIES.glob("*.hcl"):
        root.sys.create_or_update_policy(policy.stem, policy.read_text())
    # The audience the functions' vault-token is minted for (tests/deploy ties it to terraform's roles).
    (audience,) = {source["serviceAccountToken"]["audience"] for d in docs if d["kind"] == "Service"
                   for volume in d["spec"]["template"]["spec"]["volumes"] if volume["name"] == "vault-token"
                   for source in volume["projected"]["sources"]}
    roles = {}
    for account in accounts:
        role = account["metadata"]["annotations"][ROLE_ANNOTATION]
        root.adapter.post(f"/v1/auth/kubernetes/role/{role}", json={
            "bound_service_account_names": [account["metadata"]["name"]], "bound_service_account_namespaces": [namespace],
            "audience": audience, "token_policies": [role], "token_ttl": TOKEN_TTL_S, "token_max_ttl": TOKEN_MAX_TTL_S})
        roles[role] = account["metadata"]["name"]
    return VaultOnCluster(openbao.url, namespace, roles, kube_cluster, audience)


def test_every_policy_has_a_service_account_and_role(vault):
    functions = {p.stem for p in POLICIES.glob("fn-*.hcl")}
    assert set(vault.accounts) == functions


def seed(vault: VaultOnCluster, path: str, data: dict | None = None) -> None:
    """A secret written as root (no function's role creates one but web's sessions: amx keys add does)."""
    hvac.Client(url=vault.url, token=VAULT_ROOT_TOKEN).secrets.kv.v2.create_or_update_secret(path, data or {"k": "v"})


def test_function_logs_in_with_its_service_account_token(vault, tmp_path):
    seed(vault, "connections/login-a", {"api_token": "t"})
    store = vault.store(tmp_path, "fn-scrape")
    assert store.read("connections/login-a").data == {"api_token": "t"}
    lookup = store.client.auth.token.lookup_self()["data"]
    assert lookup["meta"]["service_account_name"] == "fn-scrape" and "fn-scrape" in lookup["policies"]


@pytest.mark.parametrize("stray", ["env", "home"])
def test_a_role_logs_in_as_its_role_whatever_token_the_environment_holds(vault, tmp_path, monkeypatch, stray):
    """hvac takes VAULT_TOKEN, else ~/.vault-token, for a client given no token: a function configured to log in
    with its role (AMX_VAULT_ROLE) used an operator's token left there (`bao login` writes ~/.vault-token) instead,
    as root here, reading what its policy denies; a token of no power failed every read ("token lookup: permission
    denied"). It logs in with its role."""
    if stray == "env":
        monkeypatch.setenv("VAULT_TOKEN", VAULT_ROOT_TOKEN)
    else:
        monkeypatch.delenv("VAULT_TOKEN", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        (tmp_path / ".vault-token").write_text(VAULT_ROOT_TOKEN)
    seed(vault, "connections/stray-a", {"api_token": "t"})
    seed(vault, "webhooks/stray-b", {"value": "v"})
    store = vault.store(tmp_path, "fn-scrape")
    assert store.read("connections/stray-a").data == {"api_token": "t"}
    assert store.client.auth.token.lookup_self()["data"]["meta"]["service_account_name"] == "fn-scrape"
    with pytest.raises(AccessDenied):  # scrape's policy reads no webhook's key
        store.read("webhooks/stray-b")


def test_login_then_renewal_before_ttl(vault, tmp_path):
    # A 12000 s AMX_VAULT_TOKEN_TTL_S: the role's 3600 s grant is below a third of it, so the next operation renews.
    seed(vault, "connections/renewal-a")
    store = vault.store(tmp_path, "fn-keys", vault_token_ttl_s=12000)
    store.read("connections/renewal-a")  # logs in
    first_token = store.client.token
    assert store.client.auth.token.lookup_self()["data"]["ttl"] <= TOKEN_TTL_S
    assert store.read("connections/renewal-a").data == {"k": "v"}  # renews the same token
    assert store.client.token == first_token
    assert store.client.auth.token.lookup_self()["data"]["ttl"] > TOKEN_TTL_S


def test_revoked_token_logs_in_again(vault, tmp_path):
    # Above three times the role's maximum: every operation begins with a renewal.
    seed(vault, "connections/relogin-a")
    store = vault.store(tmp_path, "fn-keys", vault_token_ttl_s=3 * TOKEN_MAX_TTL_S + 60)
    store.read("connections/relogin-a")
    first_token = store.client.token
    store.client.auth.token.revoke_self()  # behind the store's back: its renewal is refused
    assert store.read("connections/relogin-a").data == {"k": "v"}
    assert store.client.token != first_token


def test_token_of_another_service_account_is_refused(vault, tmp_path):
    jwt = vault.jwt(tmp_path, vault.accounts["fn-programs"])
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault.url, vault_role="fn-scrape", vault_jwt_path=jwt))
    with pytest.raises(AccessDenied, match="fn-scrape"):
        store.read("connections/x")


def test_same_account_name_in_another_namespace_is_refused(vault, tmp_path):
    vault.cluster.kubectl("create", "namespace", "amx-elsewhere", check=False)
    vault.cluster.kubectl("create", "serviceaccount", "fn-scrape", "-n", "amx-elsewhere", check=False)
    jwt = vault.jwt(tmp_path, "fn-scrape", namespace="amx-elsewhere")
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault.url, vault_role="fn-scrape", vault_jwt_path=jwt))
    with pytest.raises(AccessDenied, match="fn-scrape"):
        store.read("connections/x")


def test_the_pods_own_api_server_token_is_refused(vault, tmp_path):
    """Only a token minted for Vault's audience logs in: not the automounted one for the API server (which the
    kubelet's legacy extension keeps valid for a year), nor one for the Broker's audience."""
    for audience in ("", "eventing.knative.dev/broker/affiliate-matrix/default"):
        jwt = vault.jwt(tmp_path, vault.accounts["fn-scrape"], audience=audience)
        store = open_secret_store(Settings(secrets="vault", vault_addr=vault.url, vault_role="fn-scrape", vault_jwt_path=jwt))
        with pytest.raises(AccessDenied, match="fn-scrape"):
            store.read("connections/x")


def test_token_not_from_the_cluster_is_refused(vault, tmp_path):
    jwt = tmp_path / "token"
    jwt.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YWZmaWxpYXRlLW1hdHJpeDpmbi1zY3JhcGUifQ.c2ln")
    store = open_secret_store(Settings(secrets="vault", vault_addr=vault.url, vault_role="fn-scrape", vault_jwt_path=jwt))
    with pytest.raises(AccessDenied, match="fn-scrape"):
        store.read("connections/x")


# -- least privilege ------------------------------------------------------------------------------

def capabilities(policy_rules, path: str) -> set[str]:
    """What a policy grants on a concrete path: the exact rule, else the longest matching glob (Vault's order)."""
    globs = [(pattern, caps) for pattern, caps in policy_rules.items()
             if pattern.endswith("*") and path.startswith(pattern[:-1])]
    caps = policy_rules.get(path) or (max(globs, key=lambda g: len(g[0]))[1] if globs else set())
    return set() if "deny" in caps else caps


def secret_names(tag: str) -> list[str]:
    """One secret under every path any policy names (`*` made concrete), and one under a path none names."""
    names = {"elsewhere/probe"}
    for policy in POLICIES.glob("*.hcl"):
        for pattern in policy_rules(policy):
            mount, _kind, rest = pattern.split("/", 2)
            assert mount == "secret", pattern
            names.add(rest.replace("*", f"probe-{tag}"))
    return sorted(names)


def probes(name: str, tag: str) -> list[tuple[str, str, str, dict | None, str]]:
    """(what, method, path, body, the capability it needs) for every KV v2 operation on one secret."""
    out = [("read", "GET", f"secret/data/{name}", None, "read"),
           ("overwrite", "POST", f"secret/data/{name}", {"data": {"k": "probe"}}, "update"),
           ("read metadata", "GET", f"secret/metadata/{name}", None, "read"),
           ("set metadata", "POST", f"secret/metadata/{name}", {"custom_metadata": {"probe": "1"}}, "update"),
           ("destroy", "POST", f"secret/destroy/{name}", {"versions": [1]}, "update")]
    if "/" in name:
        folder = name.rsplit("/", 1)[0]
        out += [("create", "POST", f"secret/data/{folder}/new-{tag}-{uuid.uuid4().hex[:6]}", {"data": {"k": "new"}},
                 "create"),
                ("list", "GET", f"secret/metadata/{folder}/?list=true", None, "list")]
    return out + [("remove", "DELETE", f"secret/metadata/{name}", None, "delete")]  # last: the secret is gone after


def login(vault: VaultOnCluster, tmp_path: Path, policy: str) -> str:
    """A token with the policy: a function's through Kubernetes login as its ServiceAccount, others from root."""
    if policy in vault.accounts:
        jwt = vault.jwt(tmp_path, vault.accounts[policy]).read_text()
        return hvac.Client(url=vault.url).auth.kubernetes.login(role=policy, jwt=jwt)["auth"]["client_token"]
    root = hvac.Client(url=vault.url, token=VAULT_ROOT_TOKEN)
    return root.auth.token.create(policies=[policy], no_default_policy=False)["auth"]["client_token"]


@pytest.mark.parametrize("policy", sorted(p.stem for p in POLICIES.glob("*.hcl")))
def test_each_policy_allows_exactly_what_it_names(vault, tmp_path, policy):
    tag = uuid.uuid4().hex[:8]
    root = hvac.Client(url=vault.url, token=VAULT_ROOT_TOKEN)
    names = secret_names(tag)
    for name in names:
        root.secrets.kv.v2.create_or_update_secret(name, {"k": "seed"})
    token = login(vault, tmp_path, policy)
    granted = policy_rules(POLICIES / f"{policy}.hcl")
    outcome, expected = {}, {}
    with httpx.Client(base_url=f"{vault.url}/v1/", headers={"X-Vault-Token": token}) as client:
        for name in names:
            for what, method, path, body, needs in probes(name, tag):
                response = client.request(method, path, json=body)
                assert response.status_code in (200, 204, 403), f"{what} {path}: {response.status_code} {response.text}"
                outcome[f"{what} {path}"] = response.status_code != 403
                expected[f"{what} {path}"] = needs in capabilities(granted, path.split("?")[0])
    assert outcome == expected
    assert not all(outcome.values())  # something outside the policy was tried, and refused


@pytest.mark.parametrize("folder", KEY_FOLDERS)
def test_the_operator_adds_rotates_and_revokes_each_kind_of_key_and_only_its_functions_read_it(vault, tmp_path,
                                                                                               monkeypatch, folder):
    """The README tells a person to `amx keys add` a connection's, a webhook's and a search provider's key
    (discovery/): with the operator's policy each is added, listed by status, rotated and revoked (operator.hcl had no
    rule for discovery/, so `amx keys add discovery/…` was refused); the functions ACCESS says read it do, with
    their own service account's login, and every other function is refused."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.keys import rotate
    from affiliate_matrix.runtime import Runtime

    path, operator = f"{folder}/amx-{uuid.uuid4().hex[:6]}", login(vault, tmp_path, "operator")

    def amx(*args: str, given: str | None = None) -> None:
        with monkeypatch.context() as env:  # the person's token, for the command alone (the stores below log in)
            for name, value in {"AMX_DATA_DIR": str(tmp_path / ".amx"), "AMX_SECRETS": "vault",
                                "AMX_VAULT_ADDR": vault.url, "AMX_VAULT_TOKEN": operator}.items():
                env.setenv(name, value)
            done = CliRunner().invoke(app, ["keys", *args], input=given)
        assert done.exit_code == 0, (args, done.output, done.exception)

    # a webhook's key names where it may be sent (webhook22), kept in the secret's metadata too
    sent_to = ("--for-url", "https://hooks.example.com") if folder == "webhooks" else ()
    amx("add", path, "--rotation", "manual", "--field", "api_token", *sent_to, given="first-key\n")
    amx("status")
    amx("rotate", path, "--field", "api_token", given="second-key\n")
    for function in sorted(vault.accounts):
        store = vault.store(tmp_path, function)
        if READ in ACCESS[function].get(folder, ()):
            assert store.read(path).data == {"api_token": "second-key"}, function
        else:
            with pytest.raises(AccessDenied, match="permission denied"):
                store.read(path)
    # the keys function rotates it (its cron, a rule's rotate_key): read, written over with check-and-set, the older
    # versions destroyed, with its own role; and reads its version for the key_version figure
    keys = Runtime("keys", Settings(data_dir=tmp_path / ".amx"))
    keys.secrets = vault.store(tmp_path, "fn-keys")
    assert rotate(keys, path, given={"api_token": "third-key"}).version == 3
    assert keys.secrets.metadata(path).current_version == 3
    amx("revoke", path)
    versions = hvac.Client(url=vault.url, token=VAULT_ROOT_TOKEN).secrets.kv.v2.read_secret_metadata(path)
    assert all(version["destroyed"] for version in versions["data"]["versions"].values())
