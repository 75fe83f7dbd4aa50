# web: check the API bearer token a browser signs in with (stored as hashes), and keep the browser's session:
# created at sign-in, read on every page, destroyed at sign-out (auth.open_session). Nothing else.
path "secret/data/api-tokens/*" {
  capabilities = ["read"]
}
path "secret/data/web-sessions/*" {
  capabilities = ["create", "read"]
}
path "secret/metadata/web-sessions/*" {
  capabilities = ["read"]
}
path "secret/destroy/web-sessions/*" {
  capabilities = ["update"]
}
