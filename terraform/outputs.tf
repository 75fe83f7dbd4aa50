output "vault_roles" {
  description = "The Kubernetes auth role of each function (AMX_VAULT_ROLE)."
  value       = { for name, role in vault_kubernetes_auth_backend_role.function : name => role.role_name }
}

output "bucket" {
  value = aws_s3_bucket.data.bucket
}
