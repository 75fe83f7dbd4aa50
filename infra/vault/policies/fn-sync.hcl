# scrape and sync: read the credentials of the connections they run. Nothing else.
path "secret/data/connections/*" {
  capabilities = ["read"]
}
