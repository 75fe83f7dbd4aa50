#!/usr/bin/env bash
# Builds kube-apiserver and kubectl of Kubernetes $1 (e.g. v1.37.2) from the Go module proxy into
# $2 (a bin directory), as kube-apiserver-$1 and kubectl-$1.
#
# The k8s.io/kubernetes module is published without its staging/ tree (k8s.io/api, client-go, ...),
# which its go.mod and go.work point at; each of those is published on its own as v0.<minor>.<patch>.
# So: copy the module, drop go.work and vendor/, and turn each `k8s.io/x => ./staging/...` replace
# into a requirement on the published k8s.io/x. Go's build cache makes a second build quick.
set -euo pipefail
version=$1 bin=$2
staging_version=v0.${version#v1.}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

go mod download -json "k8s.io/kubernetes@$version" >"$work/download.json"
src=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Dir"])' "$work/download.json")
cp -r "$src" "$work/kubernetes"
chmod -R u+w "$work/kubernetes"
cd "$work/kubernetes"
rm -rf go.work go.work.sum vendor

edits=()
for module in $(go mod edit -json | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])
'); do
  edits+=(-dropreplace="$module" -require="$module@$staging_version")
done
go mod edit "${edits[@]}"

pkg=k8s.io/component-base/version
minor=${version#v1.}; minor=${minor%%.*}
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
# -mod=mod: go.sum gains the published staging modules' sums (checked against the checksum database).
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$work/out/" ./cmd/kube-apiserver ./cmd/kubectl
for tool in kube-apiserver kubectl; do  # whole or not at all: a copy, then a rename in place
  cp "$work/out/$tool" "$bin/.$tool-$version.partial"
  mv -f "$bin/.$tool-$version.partial" "$bin/$tool-$version"
done
