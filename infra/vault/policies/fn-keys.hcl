# keys: rotate every kind of key amx keys adds (connections' credentials, webhooks' keys for notify's auth_key, the
# search providers' keys under discovery/), by its cron or a rule's rotate_key action: read the key, write its new
# version over it with check-and-set (or the old one back), read its versions and destroy the older ones; a key's
# version for the key_version figure. Its connections' tests read their credentials. API bearer tokens for /metrics.
# It never creates a key (amx keys add does) nor sets a key's metadata.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/connections/*" {
  capabilities = ["read", "update"]
}
path "secret/metadata/connections/*" {
  capabilities = ["read"]
}
path "secret/destroy/connections/*" {
  capabilities = ["update"]
}
path "secret/data/webhooks/*" {
  capabilities = ["read", "update"]
}
path "secret/metadata/webhooks/*" {
  capabilities = ["read"]
}
path "secret/destroy/webhooks/*" {
  capabilities = ["update"]
}
path "secret/data/discovery/*" {
  capabilities = ["read", "update"]
}
path "secret/metadata/discovery/*" {
  capabilities = ["read"]
}
path "secret/destroy/discovery/*" {
  capabilities = ["update"]
}
