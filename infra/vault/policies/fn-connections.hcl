# connections: check API bearer tokens, and read a connection's credentials to test it.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/connections/*" {
  capabilities = ["read"]
}
