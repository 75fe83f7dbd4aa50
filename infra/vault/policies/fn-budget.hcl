# budget: API bearer tokens for POST /campaigns/{id}/metrics. Nothing else.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
