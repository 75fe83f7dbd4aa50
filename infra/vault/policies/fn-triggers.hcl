# triggers: evaluates rules and posts notifications to webhooks named in the rules; needs no secret.
path "secret/data/none" {
  capabilities = ["deny"]
}
