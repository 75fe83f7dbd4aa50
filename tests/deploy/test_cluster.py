"""The manifests on a real kube-apiserver (with etcd, and the Knative CRDs of ../shared/schemas/knative/ and
EventPolicy's from the knative.dev/eventing module, `task setup:knative`;
no controller runs, so nothing starts): every overlay passes a server-side dry run, is then really
applied and read back, and each ServiceAccount has exactly the RBAC that the manifests' Roles and
bindings give it, as `kubectl auth can-i` answers. `./task validate:cluster` runs this file."""

import os
import re
import shutil
import subprocess
import uuid

import pytest
import yaml

from tests.support.manifests import OVERLAYS, crd_files, render
from tests.support.processes import ROOT

pytestmark = pytest.mark.slow

# Who the RBAC of every authenticated ServiceAccount is measured against: one in a namespace nothing binds.
BASELINE = "system:serviceaccount:amx-rbac-baseline:nobody"
CAN_I_ROW = re.compile(r"^\s*(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$")


@pytest.fixture(scope="module")
def cluster(kube_cluster):
    """The API server with the Knative Serving and Eventing CRDs installed and established."""
    for crds in crd_files():
        kube_cluster.kubectl("apply", "--server-side", "-f", str(crds))
    kube_cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")
    return kube_cluster


def apply(cluster, docs: list[dict], *flags: str):
    return cluster.kubectl("apply", *flags, "-f", "-", stdin=yaml.safe_dump_all(docs), check=False)


def dry_run_then_apply(cluster, docs: list[dict]) -> str:
    """Apply an overlay as one would: its namespaces first, then a server-side dry run of everything, then for
    real. Returns what the API server refused, or ''."""
    result = apply(cluster, [d for d in docs if d["kind"] == "Namespace"])
    if result.returncode == 0:
        result = apply(cluster, docs, "--dry-run=server")
    if result.returncode == 0:
        result = apply(cluster, docs)
    return result.stderr if result.returncode else ""


def granted(cluster, user: str, namespace: str) -> set[tuple[str, str, str]]:
    """(resource.group or non-resource URL, resource name or '', verb) for every rule `can-i --list` shows."""
    rows = cluster.kubectl("auth", "can-i", "--list", "--no-headers", "-n", namespace, f"--as={user}").stdout
    atoms = set()
    for row in rows.splitlines():
        match = CAN_I_ROW.match(row)
        assert match, f"unexpected `kubectl auth can-i --list` row: {row!r}"
        resource, urls, names, verbs = (m.split() for m in match.groups())
        targets = [(r, n) for r in resource for n in (names or [""])] + [(f"url:{u}", "") for u in urls]
        atoms |= {(target, name, verb) for target, name in targets for verb in verbs}
    return atoms


def rule_atoms(rules: list[dict]) -> set[tuple[str, str, str]]:
    atoms = set()
    for rule in rules:
        for verb in rule.get("verbs", []):
            for url in rule.get("nonResourceURLs", []):
                atoms.add((f"url:{url}", "", verb))
            for group in rule.get("apiGroups", []):
                for resource in rule.get("resources", []):
                    target = f"{resource}.{group}" if group else resource
                    atoms |= {(target, name, verb) for name in rule.get("resourceNames") or [""]}
    return atoms


def declared(cluster, docs: list[dict], account: dict) -> set[tuple[str, str, str]]:
    """What the manifests' bindings give this ServiceAccount: their Roles' rules (a ClusterRole they do not
    define is read from the cluster, as the API server would resolve it)."""
    namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("Role", "ClusterRole")}
    atoms = set()
    for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        home = binding["metadata"].get("namespace")
        if not any(binds(subject, home, namespace, name) for subject in binding.get("subjects", [])):
            continue
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], home if ref["kind"] == "Role" else None, ref["name"]))
        if role is None and ref["kind"] == "ClusterRole":
            found = cluster.kubectl("get", "clusterrole", ref["name"], "-o", "yaml", check=False)
            role = yaml.safe_load(found.stdout) if found.returncode == 0 else None
        atoms |= rule_atoms((role or {}).get("rules") or [])  # a binding to a missing role grants nothing
    return atoms


def binds(subject: dict, home: str | None, namespace: str, name: str) -> bool:
    if subject["kind"] == "ServiceAccount":
        return subject["name"] == name and subject.get("namespace", home) == namespace
    if subject["kind"] == "User":
        return subject["name"] == f"system:serviceaccount:{namespace}:{name}"
    return subject["kind"] == "Group" and subject["name"] == f"system:serviceaccounts:{namespace}"


def rbac_problems(cluster, docs: list[dict]) -> list[str]:
    """Each ServiceAccount against what the manifests give it, beyond what every ServiceAccount may do."""
    found, baseline = [], {}
    for account in (d for d in docs if d["kind"] == "ServiceAccount"):
        namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
        if namespace not in baseline:
            baseline[namespace] = granted(cluster, BASELINE, namespace)
        everyone = baseline[namespace]
        has = granted(cluster, f"system:serviceaccount:{namespace}:{name}", namespace) - everyone
        wants = declared(cluster, docs, account) - everyone
        found += [f"{name} may {v} {t}{'/' + n if n else ''}, which its manifests do not grant" for t, n, v in sorted(has - wants)]
        found += [f"{name} may not {v} {t}{'/' + n if n else ''}, which its manifests grant" for t, n, v in sorted(wants - has)]
        for target, resource_name, verb in sorted(wants & has):  # and each grant, asked one by one
            what = target if target.startswith("url:") else f"{target}{'/' + resource_name if resource_name else ''}"
            answer = cluster.kubectl("auth", "can-i", verb, what.removeprefix("url:"), "-n", namespace,
                                     f"--as=system:serviceaccount:{namespace}:{name}", check=False).stdout.strip()
            if answer != "yes":
                found.append(f"{name}: `kubectl auth can-i {verb} {what}` says {answer!r}")
    return found


def stored(cluster, docs: list[dict]) -> set[tuple[str, str | None, str]]:
    items = yaml.safe_load(cluster.kubectl("get", "-f", "-", "-o", "yaml", stdin=yaml.safe_dump_all(docs)).stdout)
    return {(i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"]) for i in items["items"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_is_accepted_and_stored_by_the_api_server(cluster, overlay):
    docs = render(ROOT / "manifests" / "overlays" / overlay)
    assert dry_run_then_apply(cluster, docs) == ""
    assert stored(cluster, docs) == {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs}
    assert rbac_problems(cluster, docs) == []


# -- a broken manifest fails ------------------------------------------------------------------------

def broken(tmp_path, file: str, breakage) -> list[dict]:
    """The dev overlay with one base file edited, moved to a namespace of its own (tests share the cluster)."""
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    (copy / "base" / file).write_text(breakage((copy / "base" / file).read_text()))
    namespace = f"amx-broken-{uuid.uuid4().hex[:8]}"
    docs = render(copy / "overlays" / "dev")
    for doc in docs:
        if doc["kind"] == "Namespace":
            doc["metadata"]["name"] = namespace
        elif "namespace" in doc["metadata"]:
            doc["metadata"]["namespace"] = namespace
        for subject in doc.get("subjects", []):
            subject["namespace"] = namespace
    return docs


@pytest.mark.parametrize("file,breakage,expected", [
    ("services.yaml", lambda s: s.replace("containerConcurrency: 0", 'containerConcurrency: "none"', 1),
     "spec.template.spec.containerConcurrency in body must be of type integer"),
    ("services.yaml", lambda s: s.replace("timeoutSeconds:", "timeoutSecond:", 1), 'unknown field "spec.template.spec.timeoutSecond"'),
    ("serviceaccounts.yaml", lambda s: s.replace("automountServiceAccountToken: true",
                                                 "automountServiceAccountToken: sometimes", 1),
     "ServiceAccount.automountServiceAccountToken of type bool"),
    ("pingsources.yaml", lambda s: s.replace("schedule:", "schedul:", 1), 'unknown field "spec.schedul"'),
    # the EventPolicy CRD is installed and its schema held to (a policy without its filters would let any type in)
    ("eventpolicies.yaml", lambda s: s.replace("filters:", "filter:", 1), 'unknown field "spec.filter"'),
    ("networkpolicies.yaml", lambda s: s.replace('"fe80::/10"', '"::ffff:0:0/96"'),
     "must not have an IPv4-mapped IPv6 address"),
])
def test_a_broken_manifest_is_refused_by_the_api_server(cluster, tmp_path, file, breakage, expected):
    assert expected in dry_run_then_apply(cluster, broken(tmp_path, file, breakage))


def test_a_binding_to_a_missing_role_is_caught(cluster, tmp_path):
    binding = "\n---\n" + yaml.safe_dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "scrape-reads-config"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "amx-no-such-role"},
        "subjects": [{"kind": "ServiceAccount", "name": "fn-scrape"}]})
    docs = broken(tmp_path, "serviceaccounts.yaml", lambda s: s + binding)
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "amx-no-such-role"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}
    assert dry_run_then_apply(cluster, docs) == ""  # RBAC accepts a binding to a role that is not there ...
    assert rbac_problems(cluster, docs + [role]) == [  # ... so the grant the manifests meant is missing
        "fn-scrape may not get configmaps, which its manifests grant"]


def test_a_grant_from_outside_the_manifests_is_caught(cluster, tmp_path):
    docs = broken(tmp_path, "serviceaccounts.yaml", lambda s: s)
    assert dry_run_then_apply(cluster, docs) == ""
    namespace = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")
    cluster.kubectl("create", "role", "out-of-band", "--verb=list", "--resource=configmaps", "-n", namespace)
    cluster.kubectl("create", "rolebinding", "out-of-band", "--role=out-of-band", f"--serviceaccount={namespace}:fn-programs",
                    "-n", namespace)
    found = rbac_problems(cluster, docs)
    assert "fn-programs may list configmaps, which its manifests do not grant" in found
    assert not [p for p in found if not p.startswith("fn-programs ")]


# -- the cluster's Knative settings (manifests/cluster) ---------------------------------------------

# Knative's ConfigMaps as its release YAML leaves them (kubectl apply): knative/eventing config/core/configmaps/
# features.yaml sets the two Eventing keys the project changes, and more (here also one an admin changed);
# knative/serving config/core/configmaps/defaults.yaml sets only its _example.
KNATIVE_AS_INSTALLED = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "knative-eventing"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "knative-serving"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config-features", "namespace": "knative-eventing"},
     "data": {"authentication-oidc": "disabled", "default-authorization-mode": "allow-same-namespace",
              "delivery-timeout": "enabled", "transport-encryption": "strict"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config-defaults", "namespace": "knative-serving"},
     "data": {"_example": 'max-revision-timeout-seconds: "600"\n'}},
]


def runbook_lines(mentioning: str) -> str:
    """The commands of README's runbook (Deploy to a fresh K3s) that mention `mentioning`."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"\*\*Deploy to a fresh K3s\.\*\*.*?```sh\n(.*?)```", readme, re.S).group(1)
    return "\n".join(line for line in block.splitlines() if mentioning in line and not line.startswith("#"))


def test_the_runbook_sets_the_clusters_knative_keys_and_leaves_knatives_own(cluster, tmp_path):
    """The runbook applied manifests/cluster server-side, which Knative's install refuses: it owns the two Eventing
    keys (a conflict), and forced, kubectl hands the install's fields to the new manager, which drops every other
    key of the ConfigMap. Its lines set the project's keys alone, after the install and again after an upgrade put
    Knative's values back."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "kubectl").symlink_to(cluster.kubectl_bin)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "KUBECONFIG": str(cluster.kubeconfig)}
    lines = runbook_lines("manifests/cluster")
    ours = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["data"]
            for d in render(ROOT / "manifests" / "cluster")}
    assert lines and len(ours) == 2
    for _ in ("install", "upgrade"):
        assert apply(cluster, KNATIVE_AS_INSTALLED).returncode == 0
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", lines], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        for knatives in (d for d in KNATIVE_AS_INSTALLED if d["kind"] == "ConfigMap"):
            where = (knatives["metadata"]["namespace"], knatives["metadata"]["name"])
            live = yaml.safe_load(cluster.kubectl("get", "configmap", "-n", where[0], where[1], "-o", "yaml").stdout)
            assert live["data"] == {**knatives["data"], **ours[where]}, where
