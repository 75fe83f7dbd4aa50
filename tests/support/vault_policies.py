"""The Vault policies of infra/vault/policies/, read as Vault reads their path rules."""

from pathlib import Path

import hcl2

from tests.support.processes import ROOT

POLICIES = ROOT / "infra" / "vault" / "policies"


def policy_rules(policy: Path) -> dict[str, set[str]]:
    """The policy's path rules: path pattern -> capabilities (python-hcl2 keeps HCL's quotes; they are dropped)."""
    rules: dict[str, set[str]] = {}
    for block in hcl2.loads(policy.read_text())["path"]:
        for path, body in block.items():
            rules.setdefault(path.strip('"'), set()).update(c.strip('"') for c in body["capabilities"])
    return rules
