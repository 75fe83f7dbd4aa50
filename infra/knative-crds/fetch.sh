#!/usr/bin/env bash
# Copies the Knative Eventing CRDs that ../shared/schemas/knative lacks (EventPolicy) from the knative.dev/eventing
# module that go.mod here requires, downloaded from the Go module proxy and checked against go.sum, into $1.
#
# Why that version: the eventing CRDs of ../shared/schemas/knative (knative/eventing at 8cf4c4b6, a commit the
# proxy does not serve) are byte for byte those of v0.43.0 to v0.46.0; v0.43.0's EventPolicy CRD names a
# conversion webhook (eventing-webhook) for its one version, which v0.44.0 dropped, and every one of them has the
# EventPolicy `filters` the manifests use. So the oldest of them without the webhook: v0.44.0.
set -euo pipefail
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$(dirname "$0")"
dir=$(go mod download -json knative.dev/eventing | python3 -c '
import json, sys
found = json.load(sys.stdin)
sys.exit(found["Error"]) if "Error" in found else print(found["Dir"])')
for crd in eventpolicy; do  # whole or not at all: a copy, then a rename in place
  cp "$dir/config/core/resources/$crd.yaml" "$out/.eventing-$crd.yaml.partial"
  chmod u+w "$out/.eventing-$crd.yaml.partial"
  mv -f "$out/.eventing-$crd.yaml.partial" "$out/eventing-$crd.yaml"
done
