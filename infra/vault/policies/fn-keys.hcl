# keys: rotate (write new versions with check-and-set), retire and revoke (destroy versions),
# and keep the rotation metadata of the connections' credentials and the webhooks' keys (notify's auth_key); API
# bearer tokens for its /metrics.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/connections/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/connections/*" {
  capabilities = ["read", "update"]
}
path "secret/destroy/connections/*" {
  capabilities = ["update"]
}
path "secret/data/webhooks/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/webhooks/*" {
  capabilities = ["read", "update"]
}
path "secret/destroy/webhooks/*" {
  capabilities = ["update"]
}
