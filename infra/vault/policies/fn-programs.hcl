# programs: check API bearer tokens (stored as hashes). Nothing else.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
