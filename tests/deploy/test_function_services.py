"""The functions' Knative Services have one shape (manifests/base/function-shape.yaml) and differ only
in what each function says for itself (manifests/base/services.yaml, or an overlay's patch of a scale
bound or resources). Checked on every overlay's render: a Service that drifts from the others, a shape
that loses its hardening or probes, or a shape that overwrites what a function declares, fails here."""

import copy
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.support.manifests import OVERLAYS, render
from tests.support.processes import ROOT

TEMPLATE = ("spec", "template")
# What a function may set for itself; everything else is the shape every function shares.
OWN = [
    ("metadata", "name"),
    ("metadata", "labels", "app.kubernetes.io/component"),
    ("metadata", "labels", "networking.knative.dev/visibility"),  # event-only functions: test_manifests holds which
    ("metadata", "labels", "affiliatematrix.dev/publishes-events"),  # with the Broker token: test_manifests again
    ("metadata", "annotations", "affiliatematrix.dev/does"),
    (*TEMPLATE, "metadata", "labels", "app.kubernetes.io/component"),
    *[(*TEMPLATE, "metadata", "annotations", f"autoscaling.knative.dev/{bound}") for bound in ("min-scale", "max-scale", "target")],
    *[(*TEMPLATE, "spec", field) for field in ("serviceAccountName", "containerConcurrency", "timeoutSeconds",
                                                  "responseStartTimeoutSeconds", "idleTimeoutSeconds")],
    (*TEMPLATE, "spec", "containers", 0, "resources"),
]
OWN_ENV = {"FUNCTION_SOURCE", "AMX_VAULT_ROLE"}
BROKER_TOKEN = "broker-token"
HARDENED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def functions(docs: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")}


def shared_part(service: dict) -> dict:
    """The Service without what its function sets for itself."""
    shared = copy.deepcopy(service)
    for path in OWN:
        *parents, leaf = path
        node = shared
        for step in parents:
            node = node[step] if isinstance(node, list) or step in node else {}
        node.pop(leaf, None)
    pod = shared["spec"]["template"]["spec"]
    container = pod["containers"][0]
    container["env"] = [e for e in container.get("env", []) if e["name"] not in OWN_ENV]
    pod["volumes"] = [v for v in pod.get("volumes", []) if v["name"] != BROKER_TOKEN]
    container["volumeMounts"] = [m for m in container.get("volumeMounts", []) if m["name"] != BROKER_TOKEN]
    return shared


def differences(a, b, path: str = "") -> list[str]:
    """Where two parsed YAML values differ, as /-paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(a.keys() | b.keys()) for d in differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}/{i}")]
    return [] if a == b else [path or "/"]


def shape_problems(docs: list[dict]) -> list[str]:
    """How the rendered functions' Services depart from one shape, or the shape from what it must be."""
    services = functions(docs)
    parts = {name: shared_part(doc) for name, doc in services.items()}
    canonical = Counter(json.dumps(p, sort_keys=True) for p in parts.values())
    shape = json.loads(canonical.most_common(1)[0][0])
    found = [f"Service/{name} departs from the others' shape at {', '.join(differences(shape, part))}"
             for name, part in sorted(parts.items()) if part != shape]
    pod = shape["spec"]["template"]["spec"]
    container = pod["containers"][0]
    if container.get("securityContext") != HARDENED:
        found.append(f"the shape's securityContext is {container.get('securityContext')}, not {HARDENED}")
    for probe in ("readinessProbe", "livenessProbe"):
        if container.get(probe, {}).get("httpGet", {}).get("path") != "/healthz":
            found.append(f"the shape has no {probe} on /healthz")
    # a readiness period turns off the queue-proxy's probing every 50 ms of a pod starting (knative.dev/serving
    # pkg/queue/readiness/probe.go, IsAggressive: PeriodSeconds == 0): a cold start waited for the next period
    if container.get("readinessProbe", {}).get("periodSeconds"):
        found.append("the shape's readinessProbe sets periodSeconds, which turns off Knative's aggressive probing "
                     "of a starting pod (a cold start waits for the period)")
    scratch = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    if not any(m["mountPath"] == "/tmp" and m["name"] in scratch for m in container.get("volumeMounts", [])):
        found.append("the shape mounts no emptyDir on /tmp (the root filesystem is read-only)")
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    sources = container.get("envFrom", [])
    settings = [s.get("configMapRef", {}).get("name") for s in sources if "configMapRef" in s]
    if len(settings) != 1 or settings[0] not in config_maps or not settings[0].startswith("amx-settings"):
        found.append(f"the shape takes its settings from {settings}, not the amx-settings ConfigMap alone")
    # the backends' credentials: from the Secret the runbook creates (never a manifest's value), required
    secrets = [s["secretRef"] for s in sources if "secretRef" in s]
    if secrets != [{"name": "amx-backends"}]:
        found.append(f"the shape takes the backends' credentials from {secrets}, not the required Secret amx-backends")
    if any(set(s) - {"configMapRef", "secretRef"} for s in sources):
        found.append(f"the shape's environment comes from more than the settings and the backends' Secret: {sources}")
    found += opensearch_tls_problems(docs, pod, settings)
    for name, doc in sorted(services.items()):
        own = doc["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in own["containers"][0].get("env", [])}
        if {own.get("serviceAccountName"), env.get("AMX_VAULT_ROLE")} != {f"fn-{name}"}:
            found.append(f"Service/{name} runs as {own.get('serviceAccountName')} with Vault role {env.get('AMX_VAULT_ROLE')}")
        components = {doc["metadata"]["labels"].get("app.kubernetes.io/component"),
                      doc["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")}
        if components != {name}:
            found.append(f"Service/{name} is labelled component {components}")
        resources = own["containers"][0].get("resources", {})
        if any(set(resources.get(bound, {})) != {"cpu", "memory"} for bound in ("requests", "limits")):
            found.append(f"Service/{name} has resources {resources}, not cpu and memory requests and limits")
    return found


def opensearch_tls_problems(docs: list[dict], pod: dict, settings: list[str]) -> list[str]:
    """OpenSearch over https, trusting the cluster's CA from a read-only, required mount of the ConfigMap or Secret the
    runbook makes (none the manifests render): over http:// every function's OpenSearch credentials cross the network
    in clear, and an OpenSearch with its security plugin on answers https only."""
    data = next((d.get("data", {}) for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] in settings), {})
    found = []
    if not data.get("AMX_OPENSEARCH_URL", "").startswith("https://"):
        found.append(f"the functions reach OpenSearch at {data.get('AMX_OPENSEARCH_URL')}, not an https:// address")
    ca_file = data.get("AMX_OPENSEARCH_CA_FILE", "")
    sources = {v["name"]: v.get("configMap") or v.get("secret") for v in pod.get("volumes", [])}
    holders = [m for m in pod["containers"][0].get("volumeMounts", []) if ca_file.startswith(m["mountPath"].rstrip("/") + "/")]
    holder = max(holders, key=lambda m: len(m["mountPath"]), default=None)
    source = sources.get(holder["name"]) if holder else None
    rendered = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    if not (source and holder.get("readOnly") and not source.get("optional")
            and (source.get("name") or source.get("secretName")) not in rendered):
        found.append(f"AMX_OPENSEARCH_CA_FILE ({ca_file or 'unset'}) is in no required, read-only mount of the CA's "
                     "ConfigMap or Secret")
    return found


def declared_but_lost(declared, rendered, path: str = "") -> list[str]:
    """What a function declares in services.yaml that its rendered Service lacks (named list items matched by name)."""
    if isinstance(declared, dict):
        rendered = rendered if isinstance(rendered, dict) else {}
        return [p for k, v in declared.items() for p in declared_but_lost(v, rendered.get(k), f"{path}/{k}")]
    if isinstance(declared, list) and all(isinstance(i, dict) and "name" in i for i in declared):
        by_name = {i.get("name"): i for i in rendered or [] if isinstance(i, dict)}
        return [p for i in declared for p in declared_but_lost(i, by_name.get(i["name"]), f"{path}[name={i['name']}]")]
    return [] if declared == rendered else [f"{path}: declared {declared!r}, rendered {rendered!r}"]


def lost_declarations(manifests: Path) -> list[str]:
    stubs = [d for d in yaml.safe_load_all((manifests / "base" / "services.yaml").read_text()) if d]
    rendered = functions(render(manifests / "base"))
    return [f"Service/{s['metadata']['name']} {p}" for s in stubs
            for p in declared_but_lost(s, rendered.get(s["metadata"]["name"]))]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_function_service_has_the_one_shape(overlay):
    docs = render(ROOT / "manifests" / "overlays" / overlay)
    assert len(functions(docs)) == len([p for p in (ROOT / "functions").iterdir() if (p / "main.py").exists()])
    assert shape_problems(docs) == []


def test_the_shape_overwrites_nothing_a_function_declares():
    assert lost_declarations(ROOT / "manifests") == []


def overlay_patch(folder: Path, service: str, op: dict) -> None:
    """Give an overlay one more JSON patch operation on one Service."""
    kustomization = folder / "kustomization.yaml"
    doc = yaml.safe_load(kustomization.read_text())
    target = {"group": "serving.knative.dev", "kind": "Service", "name": service}
    doc["patches"].append({"target": target, "patch": json.dumps([op])})
    kustomization.write_text(yaml.safe_dump(doc, sort_keys=False))


LIVENESS, MOUNTS = "/spec/template/spec/containers/0/livenessProbe", "/spec/template/spec/containers/0/volumeMounts"


@pytest.mark.parametrize("breakage,expected", [
    (lambda m: overlay_patch(m / "overlays" / "dev", "scrape", {"op": "replace", "value": 5, "path":
                                                               f"{LIVENESS}/periodSeconds"}),
     f"Service/scrape departs from the others' shape at {LIVENESS}/periodSeconds"),
    (lambda m: overlay_patch(m / "overlays" / "dev", "web", {"op": "remove", "path": f"{MOUNTS}/0"}),
     f"Service/web departs from the others' shape at {MOUNTS}"),
    (lambda m: (m / "base" / "function-shape.yaml").write_text(
        (m / "base" / "function-shape.yaml").read_text().replace("    readOnlyRootFilesystem: true\n", "")),
     "the shape's securityContext is"),
    (lambda m: (m / "base" / "function-shape.yaml").write_text(
        (m / "base" / "function-shape.yaml").read_text().replace("path: /healthz", "path: /", 1)),
     "the shape has no readinessProbe on /healthz"),
    (lambda m: (m / "base" / "function-shape.yaml").write_text(
        (m / "base" / "function-shape.yaml").read_text().replace("    httpGet: {path: /healthz}\n",
                                                                 "    httpGet: {path: /healthz}\n    periodSeconds: 5\n", 1)),
     "the shape's readinessProbe sets periodSeconds"),
    (lambda m: (m / "base" / "services.yaml").write_text(
        (m / "base" / "services.yaml").read_text().replace("value: fn-keys}", "value: fn-budget}")),
     "Service/keys runs as fn-keys with Vault role fn-budget"),
    # every function reads the store: without the backends' credentials each would fail at its first request
    (lambda m: (m / "base" / "function-shape.yaml").write_text(
        (m / "base" / "function-shape.yaml").read_text().replace("    - secretRef:\n        name: amx-backends\n", "")),
     "not the required Secret amx-backends"),
    # OpenSearch in clear, or its CA not mounted (or mounted where a missing one would go unnoticed)
    (lambda m: (m / "base" / "settings.env").write_text(
        (m / "base" / "settings.env").read_text().replace("AMX_OPENSEARCH_URL=https://", "AMX_OPENSEARCH_URL=http://")),
     "the functions reach OpenSearch at http://opensearch.search.svc.cluster.local:9200, not an https:// address"),
    (lambda m: overlay_patch(m / "overlays" / "dev", "budget|connections|discover|index|keys|programs|scrape|sync|triggers"
                             "|verify|web", {"op": "remove", "path": f"{MOUNTS}/3"}),
     "AMX_OPENSEARCH_CA_FILE (/etc/amx-opensearch-ca/ca.crt) is in no required, read-only mount"),
    (lambda m: (m / "base" / "function-shape.yaml").write_text(
        (m / "base" / "function-shape.yaml").read_text().replace("name: amx-opensearch-ca\n", "name: amx-opensearch-ca\n"
                                                                 "        optional: true\n")),
     "AMX_OPENSEARCH_CA_FILE (/etc/amx-opensearch-ca/ca.crt) is in no required, read-only mount"),
])
def test_a_service_off_the_shape_is_found(tmp_path, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    breakage(copy)
    found = shape_problems(render(copy / "overlays" / "dev"))
    assert any(expected in p for p in found), found


def test_a_shape_that_overwrites_a_functions_own_bits_is_found(tmp_path):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    shape = copy / "base" / "function-shape.yaml"
    shape.write_text(shape.read_text() + "- op: add\n  path: /spec/template/spec/timeoutSeconds\n  value: 60\n")
    found = lost_declarations(copy)
    assert "Service/scrape /spec/template/spec/timeoutSeconds: declared 900, rendered 60" in found, found
