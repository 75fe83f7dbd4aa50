// The Knative Eventing release whose CRDs the manifests are checked against, pinned by go.sum: only the
// EventPolicy CRD is taken from it (config/core/resources/eventpolicy.yaml) by `task setup:knative`.
module affiliatematrix.dev/knative-crds

go 1.22

require knative.dev/eventing v0.44.0
