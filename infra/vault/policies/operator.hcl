# A person with amx: mint API tokens, add and revoke keys.
path "secret/data/api-tokens/*" {
  capabilities = ["create", "read"]
}
path "secret/data/connections/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/connections/*" {
  capabilities = ["read", "update", "list"]
}
path "secret/destroy/connections/*" {
  capabilities = ["update"]
}
