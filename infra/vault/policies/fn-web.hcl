# web: check the API bearer token a browser signed in with (stored as hashes). Nothing else.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
