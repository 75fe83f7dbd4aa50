# index: API bearer tokens (stored as hashes) for its /metrics. No other secret.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
