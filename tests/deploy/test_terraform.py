"""Terraform without applying it: parsed with python-hcl2 and its structure checked (a least-privilege
Vault policy and a Kubernetes auth role per function, versioned private buckets, index retention),
then scanned by checkov, whose every accepted finding must carry its reason."""

import json
import re
import shutil
import subprocess

import hcl2
import pytest

from tests.support.processes import ROOT
from tests.support.vault_policies import POLICIES, policy_rules

TERRAFORM = ROOT / "terraform"
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def plain(value):
    """python-hcl2 keeps HCL's quotes and block markers; drop them."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parsed() -> dict:
    merged: dict = {"resource": {}, "variable": {}, "terraform": [], "provider": []}
    for path in sorted(TERRAFORM.glob("*.tf")):
        doc = plain(hcl2.load(path.open()))
        for block in doc.get("resource", []):
            for kind, named in block.items():
                merged["resource"].setdefault(kind, {}).update(named)
        for block in doc.get("variable", []):
            merged["variable"].update(block)
        merged["terraform"] += doc.get("terraform", [])
        merged["provider"] += doc.get("provider", [])
    return merged


def test_every_function_has_a_least_privilege_policy_and_a_role_bound_to_its_account():
    tf = parsed()
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
    assert sorted(tf["variable"]["functions"]["default"]) == functions
    role = tf["resource"]["vault_kubernetes_auth_backend_role"]["function"]
    assert role["bound_service_account_names"] == ["fn-${each.key}"]
    assert role["bound_service_account_namespaces"] == ["${var.namespace}"]
    assert role["token_policies"] == ["${vault_policy.function[each.key].name}"]
    assert tf["resource"]["vault_mount"]["kv"]["options"] == {"version": "2"}
    for name in functions:
        rules = policy_rules(POLICIES / f"fn-{name}.hcl")
        for path, capabilities in rules.items():
            assert path.startswith("secret/") and path not in ("secret/*", "secret/data/*"), f"fn-{name}: {path}"
            assert not {"sudo", "root"} & capabilities, f"fn-{name} grants {path}: {capabilities}"
        # every function checks the read token /metrics asks for: it reads the tokens' hashes, and never writes them
        assert rules.get("secret/data/api-tokens/*") == {"read"}, f"fn-{name} cannot check a token"
    # a function that needs no secret of its own gets the tokens' hashes and nothing else
    for name in ("index", "verify"):
        assert policy_rules(POLICIES / f"fn-{name}.hcl") == {"secret/data/api-tokens/*": {"read"}}


def test_buckets_are_versioned_private_and_encrypted_and_old_versions_expire():
    resources = parsed()["resource"]
    assert resources["aws_s3_bucket_versioning"]["data"]["versioning_configuration"][0]["status"] == "Enabled"
    block = resources["aws_s3_bucket_public_access_block"]["data"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    rules = resources["aws_s3_bucket_lifecycle_configuration"]["data"]["rule"]
    assert any("noncurrent_version_expiration" in rule for rule in rules)
    policy = resources["opensearch_ism_policy"]["superseded"]
    assert "superseded-versions" in policy["policy_id"]
    versions = {p for block in parsed()["terraform"] for req in block["required_providers"] for p in req}
    assert versions == {"vault", "aws", "opensearch"}


def checkov(folder) -> dict:
    if not CHECKOV.exists():
        pytest.fail("no checkov: run ./task setup:checkov")
    result = subprocess.run([str(CHECKOV), "-d", str(folder), "--framework", "terraform", "--quiet", "--compact",
                             "--skip-download", "-o", "json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_nothing_unaccepted_and_every_acceptance_says_why():
    report = checkov(TERRAFORM)
    assert report["summary"]["parsing_errors"] == 0
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == []
    skips = [m for path in TERRAFORM.glob("*.tf") for m in re.finditer(r"#checkov:skip=([A-Z0-9_]+):?(.*)",
                                                                       path.read_text())]
    assert skips and all(len(reason.strip()) > 20 for _, reason in (m.groups() for m in skips))


def test_checkov_catches_a_bucket_without_versioning(tmp_path):
    broken = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, broken)
    s3 = broken / "s3.tf"
    s3.write_text(s3.read_text().replace('status = "Enabled"', 'status = "Suspended"'))
    failed = {c["check_id"] for c in checkov(broken)["results"]["failed_checks"]}
    assert "CKV_AWS_21" in failed


def test_vault_keeps_an_audit_log_of_every_request():
    """Without an audit device a stolen role (a function's service-account token used elsewhere) or a policy
    granting too much reads secrets and leaves no trace; with one, every request is logged, secrets HMAC'd."""
    devices = parsed()["resource"].get("vault_audit", {})
    assert devices, "terraform enables no Vault audit device"
    for name, device in devices.items():
        assert device["type"] in ("file", "syslog", "socket"), name
        assert str(device.get("options", {}).get("log_raw", "false")).lower() == "false", f"{name} logs secrets raw"


# Variables free of validation, and why: addresses the operator's cluster decides, and the providers' credentials.
FREE_FORM = {"vault_address", "kubernetes_host", "kubernetes_ca_cert", "s3_endpoint", "s3_region", "s3_access_key",
             "s3_secret_key", "opensearch_url"}


def accepts(variable: str, spec: dict, value) -> bool:
    """Whether the variable's validations take `value`, evaluated as terraform would for the forms used here:
    can(regex(...)) on the value or on each item of a list, and a number's lower bound."""
    for rule in spec["validation"]:
        condition = rule["condition"]
        if "regex(" in condition:
            pattern = re.search(r'regex\("((?:[^"\\]|\\.)*)"', condition).group(1)
            items = value if isinstance(value, list) else [value]
            if (isinstance(value, list) and not value) or not all(re.search(pattern, str(i)) for i in items):
                return False
        else:
            bound = re.fullmatch(rf"\$\{{var\.{variable} >= (\d+)\}}", condition)
            assert bound, f"{variable}: a condition this test cannot read: {condition}"
            if not value >= int(bound.group(1)):
                return False
    return True


def test_every_variable_that_names_or_binds_something_is_validated():
    """The namespace and function names are what Vault binds each role to: a glob there ('*', 'affiliate-*')
    let a service account named fn-keys in any matching namespace log in with the keys function's policy; the
    index prefix is a pattern over indices; no retention may be zero. Each default passes its own validation."""
    variables = parsed()["variable"]
    unvalidated = sorted(name for name, spec in variables.items() if "validation" not in spec and name not in FREE_FORM)
    assert unvalidated == []
    for name, spec in variables.items():
        if "validation" in spec:
            assert accepts(name, spec, spec["default"]), f"{name}'s default fails its own validation"
    for name in ("namespace", "bucket", "index_prefix"):
        assert not any(accepts(name, variables[name], v) for v in ("*", "", "affiliate-*", "a b")), name
    assert not any(accepts("functions", variables["functions"], v) for v in ([], ["*"], ["keys", "k*"], [""]))
    for name, spec in variables.items():
        if spec.get("type") == "number":
            assert not accepts(name, spec, 0), f"{name} takes 0"


@pytest.mark.parametrize("path", ["terraform/terraform.tfstate", "terraform/terraform.tfstate.backup",
                                  "terraform/prod.tfvars", "terraform/terraform.tfvars.json",
                                  "terraform/.terraform/providers/x", "terraform/plan.tfplan"])
def test_terraform_state_and_variable_files_are_never_committed(path):
    """`terraform apply` as the runbook runs it keeps its state in terraform/, and a terraform.tfvars is where an
    operator puts the MinIO key (s3_secret_key): a `git add -A` committed either, for whoever reads the repository."""
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "-q", path], capture_output=True)
    assert ignored.returncode == 0, f"{path} is not ignored by git"


@pytest.mark.parametrize("overlay", ["dev", "staging", "prod"])
def test_functions_log_in_to_vault_with_a_short_token_for_vaults_audience_only(overlay):
    """Each role takes only tokens minted for its audience, and every function mounts such a token, short-lived,
    where AMX_VAULT_JWT_PATH points. Before, a role with no audience took the pod's own API-server token, which
    the kubelet's legacy extension keeps valid for a year: one read of it (a file-read bug in a function) was a
    Vault login as that function for as long as its pod lived."""
    from tests.support.manifests import render

    role = parsed()["resource"]["vault_kubernetes_auth_backend_role"]["function"]
    audience = role.get("audience")
    assert audience and audience not in ("https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local")
    docs = render(ROOT / "manifests" / "overlays" / overlay)
    settings = next(d["data"] for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("amx-settings"))
    folder, _, file = settings["AMX_VAULT_JWT_PATH"].rpartition("/")
    services = [d for d in docs if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")]
    assert services
    for service in services:
        pod = service["spec"]["template"]["spec"]
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == folder]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        (token,) = [s["serviceAccountToken"] for s in volume["projected"]["sources"] if s["serviceAccountToken"]["path"] == file]
        assert token["audience"] == audience and token["expirationSeconds"] <= 3600, service["metadata"]["name"]


def test_the_runbooks_terraform_and_image_are_those_of_the_overlay_it_applies():
    """README's runbook applied terraform with its defaults (prod's namespace, bucket and index prefix) and pushed
    0.1.0, then applied the dev overlay: Vault's roles took no dev service account, the bucket dev names was never
    made, and dev pulls `:dev`. The image the runbook builds is the one the overlay it deploys runs."""
    from tests.support.manifests import render

    readme = (ROOT / "README.md").read_text()
    runbook = readme[readme.index("**Deploy to a fresh K3s.**"):readme.index("**Rotate a key.**")]
    overlay = re.search(r"\./task deploy -- (\w+)", runbook).group(1)  # it pushes the overlay's image, pinned
    given = dict(re.findall(r"\bTF_VAR_(\w+)=(\S+)", runbook))
    assert re.search(r"\./task image -- (\S+)", runbook).group(1) == overlay  # it builds the image that overlay pulls
    built = subprocess.run([ROOT / "infra" / "image" / "pulled.sh", overlay], capture_output=True, text=True,
                           timeout=60, check=True).stdout.strip()  # as `./task image` tags it
    docs = render(ROOT / "manifests" / "overlays" / overlay)
    settings = next(d["data"] for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("amx-settings"))
    variables = parsed()["variable"]
    value = {name: given.get(name, variables[name].get("default")) for name in ("namespace", "bucket", "index_prefix")}
    assert value == {"namespace": settings["AMX_NAMESPACE"], "bucket": settings["AMX_S3_BUCKET"],
                     "index_prefix": settings.get("AMX_INDEX_PREFIX", "amx")}
    assert {c["image"] for d in docs if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")
            for c in d["spec"]["template"]["spec"]["containers"]} == {built}
