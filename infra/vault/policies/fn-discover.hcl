# discover: the search providers' keys, and API bearer tokens for POST /discover.
path "secret/data/discovery/*" {
  capabilities = ["read"]
}
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
