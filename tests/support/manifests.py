"""The manifests as the deploy and Vault tests read them: rendered by kustomize (the project's
pinned one in .tools/, else kubectl's), the overlays there are, the Knative CRDs: those beside the
project and the EventPolicy one `task setup:knative` fetches."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.processes import ROOT, tool

CRDS = ROOT.parent / "shared" / "schemas" / "knative"
OVERLAYS = sorted(p.name for p in (ROOT / "manifests" / "overlays").iterdir() if p.is_dir())


def kustomize() -> list[str]:
    tool = ROOT / ".tools" / "bin" / "kustomize"
    if tool.exists():
        return [str(tool), "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    pytest.fail("no kustomize: run ./task setup:kustomize")


def render(folder: Path) -> list[dict]:
    result = subprocess.run([*kustomize(), str(folder)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {folder} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def crd_files() -> list[Path]:
    """Every Knative CRD the manifests use: ../shared/schemas/knative's, and EventPolicy's from the knative.dev/eventing
    module (infra/knative-crds)."""
    if not any(CRDS.glob("*.yaml")):
        raise AssertionError(f"no Knative CRD schemas in {CRDS}: they live beside the project, in ../shared/schemas/knative/")
    return sorted(CRDS.glob("*.yaml")) + [tool("knative/eventing-eventpolicy.yaml", "setup:knative")]


def event_receivers(docs: list[dict]) -> set[str]:
    """The functions something sends events to, each checking the event's token against the API server's keys: a
    Trigger's subscriber, a PingSource's sink, and the dead-letter sinks of the Broker and of every Trigger (Knative
    takes a Trigger's delivery whole, so each names its own)."""
    receivers = set()
    for doc in docs:
        spec = doc.get("spec") or {}
        if doc["kind"] == "Trigger":
            receivers.add(spec["subscriber"]["ref"]["name"])
        if doc["kind"] == "PingSource":
            receivers.add(spec["sink"]["ref"]["name"])
        if doc["kind"] in ("Trigger", "Broker") and (sink := (spec.get("delivery") or {}).get("deadLetterSink")):
            receivers.add(sink["ref"]["name"])
    return receivers
