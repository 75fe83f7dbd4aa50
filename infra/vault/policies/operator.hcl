# A person with amx: mint, list and revoke API tokens; add and revoke keys (a connection's, a webhook's).
path "secret/data/api-tokens/*" {
  capabilities = ["create", "read"]
}
path "secret/metadata/api-tokens/*" {
  capabilities = ["read", "update", "list"]
}
path "secret/destroy/api-tokens/*" {
  capabilities = ["update"]
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
path "secret/data/webhooks/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/webhooks/*" {
  capabilities = ["read", "update", "list"]
}
path "secret/destroy/webhooks/*" {
  capabilities = ["update"]
}
