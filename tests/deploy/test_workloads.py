"""Every workload of every overlay, whatever its kind (a Knative Service, a Deployment, a Job, a CronJob, a bare
Pod), as an attacker holding one of its pods would find it: each container hardened, every volume that a pod can
write bounded, nothing of the node's, no secret in a value, the image pinned. Checked on the rendered overlays, so
a workload added later is held to the same without anyone listing it here."""

import re
import shutil

import pytest
import yaml

from tests.support.manifests import OVERLAYS, event_receivers, render
from tests.support.processes import ROOT

HARDENED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
# What a value that is a credential looks like: a key=value with a secret-sounding name, a PEM block, a JWT,
# provider key shapes. Settings name where secrets are (a Vault role, a token path), never hold one.
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|SECRET_KEY|TOKEN|API_?KEY|ACCESS_KEY(_ID)?|PRIVATE_KEY|CREDENTIALS?)$", re.I)
SECRET_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.|AKIA[0-9A-Z]{16}|"
                          r"://[^/\s:@]+:[^/\s@]+@")


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload: wherever a pod template sits in its kind."""
    found = []
    for doc in docs:
        where, spec = f"{doc['kind']}/{doc['metadata']['name']}", doc.get("spec", {})
        if doc["kind"] == "Pod":
            found.append((where, spec))
        elif doc["kind"] == "CronJob":
            found.append((where, spec["jobTemplate"]["spec"]["template"]["spec"]))
        elif isinstance(spec.get("template"), dict) and "spec" in spec["template"]:
            found.append((where, spec["template"]["spec"]))
    return found


def workload_problems(docs: list[dict]) -> list[str]:
    found = []
    specs = pod_specs(docs)
    if not specs:
        found.append("no workload rendered")
    for where, pod in specs:
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(flag):
                found.append(f"{where} sets {flag}")
        for volume in pod.get("volumes", []):
            if "hostPath" in volume:
                found.append(f"{where} mounts the node's {volume['hostPath'].get('path')} (volume {volume['name']})")
            # An emptyDir with no sizeLimit is bounded by nothing but the node's disk: whoever makes the pod write
            # (an export spooled to /tmp, a compromised process) fills it and the kubelet evicts the node's pods.
            if "emptyDir" in volume and not (volume["emptyDir"] or {}).get("sizeLimit"):
                found.append(f"{where}: emptyDir {volume['name']} has no sizeLimit")
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            at = f"{where} container {container.get('name')}"
            context = container.get("securityContext", {})
            for field, wanted in HARDENED.items():
                if context.get(field) != wanted:
                    found.append(f"{at}: securityContext.{field} is {context.get(field)!r}, not {wanted!r}")
            if context.get("privileged") or context.get("runAsUser") == 0:
                found.append(f"{at} runs privileged or as root")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(bound, {})):
                    found.append(f"{at} has no cpu and memory {bound}")
            image = container.get("image", "")
            name, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
            if "@sha256:" not in image and (not name or "/" in tag or tag in ("", "latest")):
                found.append(f"{at} runs image {image!r}: neither a digest nor a tag")
            for env in container.get("env", []):
                if "valueFrom" not in env and SECRET_NAME.search(env["name"]):
                    found.append(f"{at}: env {env['name']} holds a literal value where a secret would be")
                if SECRET_VALUE.search(str(env.get("value", ""))):
                    found.append(f"{at}: env {env['name']} holds what looks like a credential")
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if SECRET_NAME.search(key) or SECRET_VALUE.search(str(value)):
                    found.append(f"ConfigMap/{doc['metadata']['name']}: {key} looks like a secret")
        if doc["kind"] == "Secret":
            found.append(f"Secret/{doc['metadata']['name']} is in the manifests: secrets live in Vault")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_is_hardened_bounded_and_holds_no_secret(overlay):
    assert workload_problems(render(ROOT / "manifests" / "overlays" / overlay)) == []


@pytest.mark.parametrize("addition,expected", [
    ({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
     "Deployment/extra container c: securityContext.runAsNonRoot"),
    ({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "volumes": [{"name": "host", "hostPath": {"path": "/var/run"}}, {"name": "scratch", "emptyDir": {}}],
        "containers": [{"name": "c", "image": "busybox:latest"}]}}}}}},
     "CronJob/extra mounts the node's /var/run"),
    ({"kind": "Job", "spec": {"template": {"spec": {"containers": [{
        "name": "c", "image": "busybox:1.36", "env": [{"name": "AMX_OPENSEARCH_PASSWORD", "value": "hunter2"}]}]}}}},
     "Job/extra container c: env AMX_OPENSEARCH_PASSWORD holds a literal value"),
])
def test_a_workload_added_unhardened_is_found(tmp_path, addition, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    api = {"Deployment": "apps/v1", "CronJob": "batch/v1", "Job": "batch/v1"}[addition["kind"]]
    (copy / "base" / "extra.yaml").write_text(yaml.safe_dump({"apiVersion": api, "metadata": {"name": "extra"}, **addition}))
    kustomization = copy / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - pingsources.yaml\n", "  - pingsources.yaml\n  - extra.yaml\n"))
    found = workload_problems(render(copy / "overlays" / "dev"))
    assert any(expected in p for p in found), found
    if addition["kind"] == "CronJob":
        assert "CronJob/extra: emptyDir scratch has no sizeLimit" in found
        assert any("CronJob/extra container c runs image 'busybox:latest'" in p for p in found)


def token_problems(docs: list[dict]) -> list[str]:
    """Which functions mount the pod's own API-server token without using it. A function uses it only to read the
    service-account issuer's keys from the API server, to check an event's token: so exactly those an event is
    routed to (manifests.event_receivers) mount it. Vault's login takes its own
    projected token (vault-token), which every function mounts."""
    receivers = event_receivers(docs)
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    found = []
    for doc in docs:
        if doc["kind"] != "Service" or not doc["apiVersion"].startswith("serving.knative.dev"):
            continue
        pod, name = doc["spec"]["template"]["spec"], doc["metadata"]["name"]
        account = accounts.get(pod.get("serviceAccountName"), {})
        mounted = pod.get("automountServiceAccountToken", account.get("automountServiceAccountToken", True))
        if mounted != (name in receivers):
            found.append(f"Service/{name} {'mounts' if mounted else 'lacks'} the API-server token but "
                         f"{'receives' if name in receivers else 'receives no'} events")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_functions_that_check_event_tokens_mount_the_api_server_token(overlay):
    assert token_problems(render(ROOT / "manifests" / "overlays" / overlay)) == []
