# web: check the API bearer token a browser signs in with (stored as hashes), and keep the browser's session:
# created at sign-in, read on every page, removed at sign-out, and ended ones swept at sign-in (auth.open_session:
# listing the records and removing the ended). Nothing else.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/web-sessions/*" {
  capabilities = ["create", "read"]
}
path "secret/metadata/web-sessions/*" {
  capabilities = ["list", "delete"]
}
