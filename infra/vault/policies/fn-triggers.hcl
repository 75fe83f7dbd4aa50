# triggers: API bearer tokens for the rules API; a notify's webhook key (auth_key), read as the action posts. Webhook
# URLs live in the rules themselves.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/webhooks/*" {
  capabilities = ["read"]
}
