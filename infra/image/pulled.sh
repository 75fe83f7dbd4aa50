#!/usr/bin/env bash
# usage: pulled.sh OVERLAY  -> the functions image the overlay pulls (name:tag), read from the overlay with kustomize:
# what `./task image -- OVERLAY` tags its build as, and `./task deploy -- OVERLAY` pushes, so the two are one image.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: pulled.sh OVERLAY (an overlay: dev, staging, prod)" >&2; exit 2; }
overlay=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ $overlay =~ ^[a-z]+$ && -f $root/manifests/overlays/$overlay/kustomization.yaml ]] ||
  { echo "pulled.sh: no overlay '$overlay' (dev, staging, prod)" >&2; exit 2; }
kustomize=$root/.tools/bin/kustomize
[[ -x $kustomize ]] || { echo "pulled.sh: no kustomize at .tools/bin/kustomize: ./task setup:kustomize installs it" >&2; exit 1; }
rendered=$("$kustomize" build "$root/manifests/overlays/$overlay")
image=$(sed -n 's/^ *image: //p' <<<"$rendered" | sort -u)
[[ -n $image && $(wc -l <<<"$image") -eq 1 ]] || { echo "pulled.sh: one image per overlay, not: ${image:-none}" >&2; exit 1; }
echo "$image"
