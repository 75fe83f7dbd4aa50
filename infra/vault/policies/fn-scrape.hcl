# scrape and sync: read the credentials of the connections they run, and API bearer tokens for /metrics.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/connections/*" {
  capabilities = ["read"]
}
