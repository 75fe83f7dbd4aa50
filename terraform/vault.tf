# Secrets: a KV v2 mount, and per function a least-privilege policy and a Kubernetes auth role
# bound to that function's service account only.

resource "vault_mount" "kv" {
  path        = "secret"
  type        = "kv"
  options     = { version = "2" }
  description = "Affiliate Matrix: source credentials, API token hashes, provider keys"
}

# Every request and answer Vault handles is logged (secret values HMAC'd, never in clear), to its standard output
# where the cluster's log collection takes it: without an audit device, a function's role used from a stolen
# service-account token, or a policy that grants too much, reads secrets and leaves no trace of who read what.
resource "vault_audit" "stdout" {
  type = "file"
  options = {
    file_path = "stdout"
    log_raw   = "false"
  }
}

resource "vault_auth_backend" "kubernetes" {
  type = "kubernetes"
}

resource "vault_kubernetes_auth_backend_config" "cluster" {
  backend            = vault_auth_backend.kubernetes.path
  kubernetes_host    = var.kubernetes_host
  kubernetes_ca_cert = var.kubernetes_ca_cert
}

resource "vault_policy" "function" {
  for_each = toset(var.functions)
  name     = "fn-${each.key}"
  policy   = file("${path.module}/../infra/vault/policies/fn-${each.key}.hcl")
}

resource "vault_policy" "operator" {
  name   = "amx-operator"
  policy = file("${path.module}/../infra/vault/policies/operator.hcl")
}

resource "vault_kubernetes_auth_backend_role" "function" {
  for_each                         = toset(var.functions)
  backend                          = vault_auth_backend.kubernetes.path
  role_name                        = "fn-${each.key}"
  bound_service_account_names      = ["fn-${each.key}"]
  bound_service_account_namespaces = [var.namespace]
  token_policies                   = [vault_policy.function[each.key].name]
  # Only a token minted for Vault logs in (the projected vault-token every function mounts, 10 minutes long):
  # not the pod's own API-server token, which the kubelet's legacy extension keeps valid for a year.
  audience                         = "vault"
  token_ttl                        = 3600
  token_max_ttl                    = 14400
}
