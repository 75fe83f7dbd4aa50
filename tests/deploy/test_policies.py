"""The event and network policies of the manifests held to what the code does, in every overlay: the Broker takes
each event type only from the functions whose code publishes it, and each function's pods may reach what its code
uses (its ports' backends by their settings, the Broker, the API server's keys, the internet) and nothing more.
What each function publishes and uses is read from the code (tests/support/function_reach.py), so a new event or a new
dependency without its policy fails here."""

import ipaddress
import json
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.manifests import OVERLAYS, event_receivers, render
from tests.support.processes import ROOT, tool
from tests.support.function_reach import function_names, needs, publishers, reached_from, reaches_internet

COMPONENT = "app.kubernetes.io/component"  # the label each function's pods carry: the function's name
PUBLISHES = "affiliatematrix.dev/publishes-events"  # the label kustomization.yaml gives the Broker token by
BROKER = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
# Knative's multi-tenant Broker ingress pods (knative-eventing, brokerRole=ingress) listen on 8080 behind the port 80
# of the broker-ingress Service that AMX_BROKER_URL names; a NetworkPolicy sees the pod's port.
BROKER_INGRESS = ({"namespace": "knative-eventing", "pods": {"eventing.knative.dev/brokerRole": "ingress"}}, 8080)
# K3s's API server: on a node's private address, port 6443 (the `kubernetes` Service's endpoint).
PRIVATE_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16"]
PRIVATE_V6 = ["::/127", "64:ff9b:1::/48", "fc00::/7", "fe80::/10"]
KUBE_APISERVER = [{"ipBlock": {"cidr": c}} for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
# Addresses no function may reach on a web port: the cloud metadata service, private, shared, loopback.
NEVER = ["169.254.169.254", "10.43.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "127.0.0.1", "::1", "fd00::1",
         "fe80::1", "::ffff:169.254.169.254", "::ffff:10.0.0.1"]
# Every function is reached only through Knative Serving: the gateway and the activator at the queue-proxy (8012
# HTTP/1, 8013 h2c), the autoscaler at its metrics (9090).
INGRESS = {("ns=kourier-system pods={'app': '3scale-kourier-gateway'}", "8012/TCP"),
           ("ns=kourier-system pods={'app': '3scale-kourier-gateway'}", "8013/TCP"),
           ("ns=knative-serving pods={'app': 'activator'}", "8012/TCP"),
           ("ns=knative-serving pods={'app': 'activator'}", "8013/TCP"),
           ("ns=knative-serving pods={'app': 'autoscaler'}", "9090/TCP")}


def by_kind(docs: list[dict]) -> dict[str, dict[str, dict]]:
    kinds = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    return kinds


def functions(kinds: dict) -> dict[str, dict]:
    return {n: d for n, d in kinds.get("Service", {}).items() if d["apiVersion"].startswith("serving.knative.dev/")}


# -- who may publish what -----------------------------------------------------------------------------------------

def policy_types(policy: dict) -> set[str] | None:
    """The event types an EventPolicy's filters let through, when they are of the one form used here (any of exact
    types); None otherwise."""
    filters = policy["spec"].get("filters")
    if not (isinstance(filters, list) and len(filters) == 1 and set(filters[0]) == {"any"}):
        return None
    exacts = [f.get("exact") for f in filters[0]["any"]]
    if not all(isinstance(e, dict) and set(e) == {"type"} for e in exacts):
        return None
    return {e["type"] for e in exacts}


def event_policy_problems(docs: list[dict], published: dict[str, set[str]]) -> list[str]:
    kinds = by_kind(docs)
    (namespace,) = kinds["Namespace"]
    services, found, allowed = functions(kinds), [], {}
    for name, policy in kinds.get("EventPolicy", {}).items():
        spec, where = policy["spec"], f"EventPolicy/{name}"
        if spec.get("to") != [{"ref": BROKER}]:
            found.append(f"{where} is not for the Broker alone: {spec.get('to')}")
        senders = [f.get("sub") for f in spec.get("from", [])]
        types = policy_types(policy)
        if len(senders) != 1 or senders[0] is None:
            found.append(f"{where} names {len(senders)} senders, not one service account (sub)")
        elif types is None:
            found.append(f"{where} filters are not `any` of `exact` types: {spec.get('filters')}")
        elif senders[0] in allowed:  # Knative holds a sender to the first policy naming it only
            found.append(f"{where} names {senders[0]}, as EventPolicy/{allowed[senders[0]][0]} does")
        else:
            allowed[senders[0]] = (name, types)
    for function, types in sorted(published.items()):
        account = services[function]["spec"]["template"]["spec"]["serviceAccountName"]
        sender = f"system:serviceaccount:{namespace}:{account}"
        _, lets = allowed.pop(sender, (None, set()))
        found += [f"{function} publishes {t}, which no EventPolicy lets {sender} publish" for t in sorted(types - lets)]
        found += [f"{function} may publish {t}, which its code does not" for t in sorted(lets - types)]
    found += [f"EventPolicy/{name} lets {sender} publish, which is no publishing function's account"
              for sender, (name, _) in sorted(allowed.items())]
    tokens = {n for n, d in services.items() if d["metadata"].get("labels", {}).get(PUBLISHES) == "true"}
    found += [f"{f} publishes but has no Broker token ({PUBLISHES})" for f in sorted(set(published) - tokens)]
    found += [f"{f} has a Broker token but publishes nothing" for f in sorted(tokens - set(published))]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_broker_takes_each_event_type_only_from_the_functions_that_publish_it(overlay):
    assert event_policy_problems(render(ROOT / "manifests" / "overlays" / overlay), publishers()) == []


def test_the_publishers_are_read_from_the_code():
    """A few facts of the code the reading must find: index and verify announce program changes (index withdraws a
    deleted connection's claims), connections announces a deletion and only connections does, only triggers
    dispatches rule actions, keys revokes (amx keys revoke runs as the keys function), the HTTP-only functions publish
    nothing."""
    found = publishers()
    assert {f for f, types in found.items() if "dev.affiliatematrix.program.delta" in types} == {"index", "verify"}
    assert {f for f, types in found.items() if "dev.affiliatematrix.connection.deleted" in types} == {"connections"}
    assert {f for f, types in found.items() if any(".action." in t for t in types)} == {"triggers"}
    assert "dev.affiliatematrix.key.revoked" in found["keys"]
    assert not {"programs", "web"} & set(found)
    assert found["scrape"] == found["sync"]  # one handler (handlers/scrape.py)


@pytest.mark.parametrize("breakage,expected", [
    # a forged change feed: scrape allowed to announce program changes
    (lambda s: s.replace("fn-scrape\n  filters:\n    - any:\n",
                         "fn-scrape\n  filters:\n    - any:\n"
                         "        - exact: {type: dev.affiliatematrix.program.delta}\n"),
     "scrape may publish dev.affiliatematrix.program.delta, which its code does not"),
    (lambda s: s.replace("        - exact: {type: dev.affiliatematrix.key.revoked}\n", ""),
     "keys publishes dev.affiliatematrix.key.revoked, which no EventPolicy lets"),
    (lambda s: s.replace("fn-verify", "fn-index"), "names system:serviceaccount:affiliate-matrix-dev:fn-index, as"),
    (lambda s: s.replace("    - any:\n        - exact: {type: dev.affiliatematrix.budget.allocated}",
                         "    - prefix: {type: dev.affiliatematrix.}\n    - any:\n"
                         "        - exact: {type: dev.affiliatematrix.budget.allocated}"),
     "EventPolicy/broker-from-budget filters are not `any` of `exact` types"),
])
def test_a_wrong_event_policy_fails(tmp_path, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    path = copy / "base" / "eventpolicies.yaml"
    path.write_text(breakage(path.read_text()))
    found = event_policy_problems(render(copy / "overlays" / "dev"), publishers())
    assert any(expected in p for p in found), found


def test_what_no_event_policy_allows_is_refused():
    (features,) = [d for d in render(ROOT / "manifests" / "cluster") if d["metadata"]["name"] == "config-features"]
    assert features["data"]["default-authorization-mode"] == "deny-all"


# -- what each function may reach ---------------------------------------------------------------------------------

def selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values, "Exists": key in labels,
                "DoesNotExist": key not in labels}[operator] is False:
            return False
    return True


def peer_name(peer: dict) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        return f"ip={block['cidr']}" + (f" except {sorted(block['except'])}" if block.get("except") else "")
    namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name", "?")
    pods = peer.get("podSelector", {}).get("matchLabels")
    return f"ns={namespace}" + (f" pods={pods}" if pods else "")


def grants(policies: list[dict], labels: dict, direction: str) -> set[tuple[str, str]]:
    """(peer, port/protocol or 'any') for every rule of the policies selecting pods with these labels."""
    found = set()
    for policy in policies:
        if not selects(policy["spec"]["podSelector"], labels) or direction.capitalize() not in policy["spec"].get(
                "policyTypes", []):
            continue
        for rule in policy["spec"].get(direction, []):
            ports = [f"{p['port']}/{p.get('protocol', 'TCP')}" for p in rule.get("ports", [])] or ["any"]
            peers = rule.get("to" if direction == "egress" else "from", [])
            found |= {(peer_name(peer), port) for peer in peers for port in ports}
    return found


def service_of(url: str) -> tuple[str, int]:
    """The namespace and port of an in-cluster URL (http://<service>.<namespace>.svc.cluster.local:<port>)."""
    parts = urlsplit(url)
    return parts.hostname.split(".")[1], parts.port or {"http": 80, "https": 443}[parts.scheme]


def wanted(need: str, settings: dict) -> set[tuple[str, str]]:
    """The grants one need takes, from the settings that name where it is."""
    if need in ("store", "index", "secrets"):
        setting = {"store": "AMX_S3_ENDPOINT_URL", "index": "AMX_OPENSEARCH_URL", "secrets": "AMX_VAULT_ADDR"}[need]
        namespace, port = service_of(settings[setting])
        return {(f"ns={namespace}", f"{port}/TCP")}
    if need == "broker":
        assert service_of(settings["AMX_BROKER_URL"])[0] == BROKER_INGRESS[0]["namespace"]
        return {(peer_name({"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": BROKER_INGRESS[0]["namespace"]}},
            "podSelector": {"matchLabels": BROKER_INGRESS[0]["pods"]}}), f"{BROKER_INGRESS[1]}/TCP")}
    if need == "kube-apiserver":
        assert urlsplit(settings["AMX_EVENTS_OIDC_DISCOVERY_URL"]).hostname == "kubernetes.default.svc"
        return {(peer_name(peer), "6443/TCP") for peer in KUBE_APISERVER}
    if need == "dns":
        return {("ns=kube-system pods={'k8s-app': 'kube-dns'}", "53/UDP"),
                ("ns=kube-system pods={'k8s-app': 'kube-dns'}", "53/TCP")}
    assert need == "internet", need
    return {(peer_name({"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}}), "any"),
            (peer_name({"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}}), "any")}


def reachable(policies: list[dict], labels: dict, address: str, port: int) -> bool:
    ip = ipaddress.ip_address(address)
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:a.b.c.d leaves as an IPv4 packet
    for policy in policies:
        if not selects(policy["spec"]["podSelector"], labels) or "Egress" not in policy["spec"].get("policyTypes", []):
            continue
        for rule in policy["spec"].get("egress", []):
            if rule.get("ports") and port not in [p["port"] for p in rule["ports"]]:
                continue
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block and ip.version == ipaddress.ip_network(block["cidr"]).version and \
                        ip in ipaddress.ip_network(block["cidr"]) and \
                        not any(ip in ipaddress.ip_network(e) for e in block.get("except", [])
                                if ipaddress.ip_network(e).version == ip.version):
                    return True
    return False


def network_problems(docs: list[dict], needs_of=needs) -> list[str]:
    kinds = by_kind(docs)
    policies = list(kinds.get("NetworkPolicy", {}).values())
    settings = next(d["data"] for n, d in kinds["ConfigMap"].items() if n.startswith("amx-settings"))
    found = []
    if not any(p["spec"]["podSelector"] == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies):
        found.append("no default deny: a NetworkPolicy selecting every pod, Ingress and Egress, allowing nothing")
    events = event_receivers(docs)
    for name, service in sorted(functions(kinds).items()):
        labels = service["spec"]["template"]["metadata"]["labels"]
        uses = needs_of(name) | {"dns"} | ({"kube-apiserver"} if name in events else set())
        want = {grant: need for need in sorted(uses) for grant in wanted(need, settings)}
        has = grants(policies, labels, "egress")
        found += [f"{name} uses {need} ({peer} {port}), which no NetworkPolicy lets it reach"
                  for (peer, port), need in sorted(want.items()) if (peer, port) not in has]
        found += [f"{name} may reach {peer} {port}, which its code does not use"
                  for peer, port in sorted(has - set(want))]
        ingress = grants(policies, labels, "ingress")
        found += [f"{name} is not reachable from {peer} {port}" for peer, port in sorted(INGRESS - ingress)]
        found += [f"{name} is reachable from {peer} {port}" for peer, port in sorted(ingress - INGRESS)]
        found += [f"{name} may reach {address}:{port}" for address in NEVER for port in (80, 443)
                  if reachable(policies, labels, address, port)]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_function_reaches_only_what_its_code_uses(overlay):
    assert network_problems(render(ROOT / "manifests" / "overlays" / overlay)) == []


def test_what_the_functions_use_is_read_from_the_code():
    """A few facts of the code the reading must find: the functions that fetch pages, APIs, search providers and
    webhooks reach the internet; the HTTP-only ones do not publish."""
    fetch = {f for f in function_names() if "internet" in needs(f)}
    assert fetch >= {"scrape", "sync", "discover", "verify"} and not fetch & {"programs", "web", "index", "budget"}
    assert {f for f in function_names() if "broker" in needs(f)} == set(publishers())


def test_the_broker_client_is_read_as_the_cluster_s_own_and_the_polite_client_as_the_internet():
    """Both are bounded by netguard's deadline. When the Broker client was built on the guarded client, every function
    that publishes read as reaching the internet, against its NetworkPolicy; were the polite client no longer read as
    the internet, a function fetching pages could lose its egress and no test would say so."""
    broker = reached_from([("affiliate_matrix.events.http", "HttpBus")])
    assert not reaches_internet(broker)
    assert ("affiliate_matrix.netguard", "bounded_client") in broker  # bounded, though not by the guarded client
    assert reaches_internet(reached_from([("affiliate_matrix.fetch", "Fetcher")]))  # pages, through the polite client
    assert reaches_internet(reached_from([("affiliate_matrix.netguard", "guarded_client")]))


def test_a_new_dependency_without_its_policy_fails():
    docs = render(ROOT / "manifests" / "overlays" / "dev")
    assert network_problems(docs, lambda f: needs(f) | ({"internet"} if f == "programs" else set())) == [
        "programs uses internet (ip=0.0.0.0/0 except ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', "
        "'169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] any), which no NetworkPolicy lets it reach",
        "programs uses internet (ip=::/0 except ['64:ff9b:1::/48', '::/127', 'fc00::/7', 'fe80::/10'] any), "
        "which no NetworkPolicy lets it reach"]


@pytest.mark.parametrize("breakage,expected", [
    (lambda s: s.replace("values: [budget, connections, discover, index, keys, programs, scrape, sync, triggers, "
                         "verify, web]\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - namespaceSelector:\n"
                         "            matchLabels: {kubernetes.io/metadata.name: storage}",
                         "values: [budget, connections, discover, index, keys, programs, sync, triggers, "
                         "verify, web]\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - namespaceSelector:\n"
                         "            matchLabels: {kubernetes.io/metadata.name: storage}"),
     "scrape uses store (ns=storage 9000/TCP), which no NetworkPolicy lets it reach"),
    (lambda s: s.replace("values: [connections, discover, keys, scrape, sync, triggers, verify]",
                         "values: [connections, discover, keys, programs, scrape, sync, triggers, verify]"),
     "programs may reach ip=0.0.0.0/0"),
    (lambda s: s.replace("169.254.0.0/16, ", ""), "scrape may reach 169.254.169.254:80"),
    (lambda s: s.replace("169.254.0.0/16, ", ""), "verify may reach ::ffff:169.254.169.254:443"),
    (lambda s: s.replace('"fe80::/10"', '"fec0::/10"'), "triggers may reach fe80::1:80"),
    (lambda s: s.replace("  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
                         "  podSelector: {}\n  policyTypes: [Ingress]\n"),
     "no default deny"),
    (lambda s: s.replace("{kubernetes.io/metadata.name: kourier-system}", "{}"), "web is reachable from ns=? pods="),
])
def test_a_wrong_network_policy_fails(tmp_path, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    path = copy / "base" / "networkpolicies.yaml"
    broken = breakage(path.read_text())
    assert broken != path.read_text()
    path.write_text(broken)
    found = network_problems(render(copy / "overlays" / "prod"))
    assert any(expected in p for p in found), found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_nothing_in_the_manifests(tmp_path, overlay):
    """checkov's Kubernetes checks on what an overlay renders (its own venv, `task setup:checkov`)."""
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(yaml.safe_dump_all(render(ROOT / "manifests" / "overlays" / overlay)))
    result = subprocess.run([str(tool("checkov/bin/checkov", "setup:checkov")), "-f", str(rendered), "--framework",
                             "kubernetes", "--quiet", "--compact", "--skip-download", "-o", "json"],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0
