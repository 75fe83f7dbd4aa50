# triggers: API bearer tokens for the rules API. Webhook URLs live in the rules themselves.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
