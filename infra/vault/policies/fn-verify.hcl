# verify: re-checks public directory pages; needs no secret. An empty policy keeps the role explicit.
path "secret/data/none" {
  capabilities = ["deny"]
}
