# A person with amx: mint, list and revoke API tokens (amx tokens); add, see (amx keys status), rotate and revoke every
# kind of key (amx keys): a connection's, a webhook's (notify's auth_key), a search provider's (discovery/); and read
# them as the functions do (amx connections test, amx scrape, amx discover run). Keys are added where none is (or as
# the next version over a revoked one) and their metadata set; they are never listed in Vault (amx keys status reads
# the keys' records).
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
path "secret/data/discovery/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/discovery/*" {
  capabilities = ["read", "update"]
}
path "secret/destroy/discovery/*" {
  capabilities = ["update"]
}
