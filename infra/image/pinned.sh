#!/usr/bin/env bash
# usage: pinned.sh OVERLAY DIGEST  -> the overlay's manifests with the functions image pinned by DIGEST (sha256:…)
# Knative resolves an image tag to a digest once, when it makes a revision: a tag pushed again, applied as before,
# rolls nothing out (the Service is unchanged). Pinned by digest, each build is a new revision, and a rollback too.
set -euo pipefail
# a usage error exits 2, as its other refusals (bash's ${1:?} exits 1 and prefixes its own line number)
[[ $# -eq 2 ]] || { echo "usage: pinned.sh OVERLAY DIGEST (an overlay: dev, staging, prod; a digest: sha256:…)" >&2; exit 2; }
overlay=$1 digest=$2
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "pinned.sh: '$digest' is not an image digest (sha256: and 64 hex digits)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ $overlay =~ ^[a-z]+$ && -f $root/manifests/overlays/$overlay/kustomization.yaml ]] ||
  { echo "pinned.sh: no overlay '$overlay' (dev, staging, prod)" >&2; exit 2; }
kustomize=$root/.tools/bin/kustomize
[[ -x $kustomize ]] || { echo "pinned.sh: no kustomize at .tools/bin/kustomize: ./task setup:kustomize installs it" >&2; exit 1; }
pin=$(mktemp -d)
trap 'rm -rf "$pin"' EXIT
# kustomize takes no absolute path to another kustomization: the overlay named relative to the pin's folder
cat > "$pin/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$root/manifests/overlays/$overlay" "$pin")
images:
  - name: ghcr.io/affiliate-matrix/functions
    digest: $digest
YAML
"$kustomize" build "$pin"
