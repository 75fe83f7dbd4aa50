"""An HTTP server that speaks the parts of Vault's API this project uses, for tests.

No Vault server can be installed here, so this implements, from Vault's API documentation,
exactly these paths with their JSON shapes and status codes:
  GET  /v1/sys/health
  GET  /v1/<mount>/data/<path>[?version=N]          KV v2 read
  POST /v1/<mount>/data/<path>  {"options": {"cas": N}, "data": {...}}   KV v2 write (check-and-set)
  GET  /v1/<mount>/metadata/<path>                   KV v2 metadata
  LIST /v1/<mount>/metadata/<folder>                 KV v2 list (also GET ...?list=true); 404 when empty
  POST /v1/<mount>/metadata/<path>  {"custom_metadata": {...}}
  POST /v1/<mount>/destroy/<path>   {"versions": [N, ...]}
  GET  /v1/auth/token/lookup-self
  POST /v1/auth/token/renew-self    {"increment": "1h"}
  POST /v1/auth/kubernetes/login    {"role": "...", "jwt": "..."}
Tokens expire after their TTL (403 "permission denied" afterwards), as in Vault.
Run: python -m tests.support.vault_api_server --port P --root-token T [--k8s ROLE=JWT] [--token-ttl S]
"""

import argparse
import json
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_DURATION = re.compile(r"^(\d+)([smh]?)$")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value) -> int:
    if isinstance(value, int):
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"invalid duration {value!r}")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


class Vault:
    def __init__(self, root_token: str, k8s: dict[str, str], token_ttl: int, mount: str):
        self.lock = threading.Lock()
        self.tokens = {root_token: {"expires": None, "policies": ["root"], "ttl": 0, "renewable": False}}
        self.k8s = k8s
        self.token_ttl = token_ttl
        self.mount = mount
        self.kv: dict[str, dict] = {}

    def token_ok(self, token: str | None) -> dict | None:
        info = self.tokens.get(token or "")
        if info is None or (info["expires"] is not None and info["expires"] < time.time()):
            return None
        return info

    def mint(self, policies: list[str]) -> tuple[str, dict]:
        token = "hvs." + secrets.token_urlsafe(24)
        info = {"expires": time.time() + self.token_ttl, "policies": policies, "ttl": self.token_ttl, "renewable": True}
        self.tokens[token] = info
        return token, info


def envelope(data=None, auth=None) -> dict:
    return {"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
            "data": data, "wrap_info": None, "warnings": None, "auth": auth, "mount_type": "kv"}


class Handler(BaseHTTPRequestHandler):
    vault: Vault
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status: int, body: dict | None = None):
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def error(self, status: int, *messages: str):
        self.reply(status, {"errors": list(messages)})

    def body(self) -> dict:
        return json.loads(self._raw or b"{}")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("POST")

    def do_LIST(self):
        self.route("LIST")

    def route(self, method: str):
        # Read the whole body first: an early error reply must not leave bytes on a keep-alive connection.
        self._raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlparse(self.path)
        path = url.path
        v = self.vault
        try:
            if path == "/v1/sys/health":
                return self.reply(200, {"initialized": True, "sealed": False, "standby": False,
                                        "version": "1.17.0-api-test-server"})
            if path == "/v1/auth/kubernetes/login" and method == "POST":
                body = self.body()
                if v.k8s.get(body.get("role")) != body.get("jwt") or not body.get("jwt"):
                    return self.error(403, "permission denied")
                with v.lock:
                    token, info = v.mint([f"fn-{body['role']}"])
                return self.reply(200, envelope(auth={
                    "client_token": token, "accessor": uuid.uuid4().hex, "policies": info["policies"],
                    "token_policies": info["policies"], "metadata": {"role": body["role"]},
                    "lease_duration": info["ttl"], "renewable": True, "entity_id": "", "token_type": "service",
                    "orphan": True}))
            token = self.headers.get("X-Vault-Token")
            with v.lock:
                info = v.token_ok(token)
            if info is None:
                return self.error(403, "permission denied")
            if path == "/v1/auth/token/lookup-self":
                ttl = 0 if info["expires"] is None else max(0, int(info["expires"] - time.time()))
                return self.reply(200, envelope({"ttl": ttl, "creation_ttl": info["ttl"], "policies": info["policies"],
                                                 "renewable": info["renewable"], "type": "service",
                                                 "expire_time": None}))
            if path == "/v1/auth/token/renew-self" and method == "POST":
                if not info["renewable"]:
                    return self.error(400, "lease is not renewable")
                increment = _seconds(self.body().get("increment") or info["ttl"])
                with v.lock:
                    info["expires"] = time.time() + increment
                    info["ttl"] = increment
                return self.reply(200, envelope(auth={"client_token": token, "policies": info["policies"],
                                                      "lease_duration": increment, "renewable": True}))
            match = re.match(rf"^/v1/{re.escape(v.mount)}/(data|metadata|destroy)/(.+)$", path)
            if not match:
                return self.error(404, f"no handler for route \"{path}\"")
            kind, key = match.groups()
            query = parse_qs(url.query)
            if kind == "metadata" and (method == "LIST" or query.get("list") == ["true"]):
                return self.kv_metadata_list(key.rstrip("/"))
            return getattr(self, f"kv_{kind}_{method.lower()}")(key, query)
        except (ValueError, KeyError, TypeError) as exc:
            return self.error(400, str(exc))

    def kv_data_get(self, key, query):
        entry = self.vault.kv.get(key)
        if entry is None:
            return self.reply(404, {"errors": []})
        version = int(query.get("version", [entry["current_version"]])[0]) or entry["current_version"]
        meta = entry["versions"].get(version)
        if meta is None:
            return self.reply(404, {"errors": []})
        data = None if meta["destroyed"] or meta["deletion_time"] else meta["data"]
        status = 200 if data is not None else 404
        public = {k: meta[k] for k in ("created_time", "deletion_time", "destroyed")}
        return self.reply(status, envelope({"data": data, "metadata": {
            **public, "version": version, "custom_metadata": entry["custom_metadata"] or None}}))

    def kv_data_post(self, key, _query):
        body = self.body()
        if not isinstance(body.get("data"), dict):
            return self.error(400, "no data provided")
        cas = (body.get("options") or {}).get("cas")
        with self.vault.lock:
            entry = self.vault.kv.setdefault(key, {"current_version": 0, "versions": {}, "created_time": _now(),
                                                  "custom_metadata": {}})
            if cas is not None and int(cas) != entry["current_version"]:
                if not entry["versions"]:
                    del self.vault.kv[key]
                return self.error(400, "check-and-set parameter did not match the current version")
            version = entry["current_version"] + 1
            meta = {"created_time": _now(), "deletion_time": "", "destroyed": False, "data": body["data"]}
            entry["versions"][version] = meta
            entry["current_version"] = version
            entry["updated_time"] = meta["created_time"]
        return self.reply(200, envelope({"created_time": meta["created_time"], "custom_metadata": None,
                                         "deletion_time": "", "destroyed": False, "version": version}))

    def kv_metadata_get(self, key, _query):
        entry = self.vault.kv.get(key)
        if entry is None:
            return self.reply(404, {"errors": []})
        versions = {str(n): {k: m[k] for k in ("created_time", "deletion_time", "destroyed")}
                    for n, m in entry["versions"].items()}
        return self.reply(200, envelope({
            "cas_required": False, "created_time": entry["created_time"], "current_version": entry["current_version"],
            "custom_metadata": entry["custom_metadata"] or None, "delete_version_after": "0s", "max_versions": 0,
            "oldest_version": min(entry["versions"]), "updated_time": entry.get("updated_time"), "versions": versions}))

    def kv_metadata_list(self, folder):
        prefix = folder + "/"
        with self.vault.lock:
            names = {k[len(prefix):].split("/")[0] + ("/" if "/" in k[len(prefix):] else "")
                     for k in self.vault.kv if k.startswith(prefix)}
        if not names:
            return self.reply(404, {"errors": []})
        return self.reply(200, envelope({"keys": sorted(names)}))

    def kv_metadata_post(self, key, _query):
        body = self.body()
        with self.vault.lock:
            entry = self.vault.kv.setdefault(key, {"current_version": 0, "versions": {}, "created_time": _now(),
                                                  "custom_metadata": {}})
            if body.get("custom_metadata") is not None:
                entry["custom_metadata"] = {str(k): str(v) for k, v in body["custom_metadata"].items()}
        return self.reply(204)

    def kv_destroy_post(self, key, _query):
        versions = self.body().get("versions") or []
        with self.vault.lock:
            entry = self.vault.kv.get(key)
            for n in versions:
                if entry and int(n) in entry["versions"]:
                    entry["versions"][int(n)].update(destroyed=True, data=None)
        return self.reply(204)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root-token", required=True)
    parser.add_argument("--k8s", action="append", default=[], help="ROLE=JWT accepted by auth/kubernetes/login")
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--mount", default="secret")
    args = parser.parse_args()
    Handler.vault = Vault(args.root_token, dict(x.split("=", 1) for x in args.k8s), args.token_ttl, args.mount)
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
