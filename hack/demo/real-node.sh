#!/usr/bin/env bash
# Quick start, the real-node part (hack/up runs it after the simulated cluster): brings up the testbed's real
# node, applies the housing-project cluster on the `local` runtime (samples/local) to the namespace
# darwin-local, whose pods the apiserver sends to the node, and shows Ray running for real: its pods on
# darwin-node-0, the dashboard answering through the head Service, and the DarwinJob sample run on the
# cluster by the operator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

NAMESPACE=${DARWIN_LOCAL_NAMESPACE:-darwin-local}
CLUSTER=housing-project

echo "== starting the real node (containerd, kubelet, kube-proxy, CoreDNS, the local registry and the images)"
hack/testbed up node
set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a
k() { "$DARWIN_KUBECTL" "$@"; }
show() {
  echo
  echo "\$ kubectl $*"
  k "$@"
}
local_sample() { echo "samples/local/darwin.dreamhorizon.org_v1alpha1_$1.yaml"; }

# the two annotations that send every pod of the namespace to the real node (README, testbed section)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: $NAMESPACE
  annotations:
    scheduler.alpha.kubernetes.io/node-selector: darwin.dreamhorizon.org/node=real
    scheduler.alpha.kubernetes.io/defaultTolerations: '[{"key":"darwin.dreamhorizon.org/node","operator":"Equal","value":"real","effect":"NoSchedule"}]'
YAML
k apply --server-side --force-conflicts -f "$(local_sample darwinruntime)"
k apply --server-side --force-conflicts -n "$NAMESPACE" -f "$(local_sample darwincluster)"
# The operator stops a cluster idle for longer than its inactiveTimeMinutes: a run on a testbed left up since
# starts it again, as its user would.
if [[ $(k get darwincluster "$CLUSTER" -n "$NAMESPACE" -o jsonpath='{.spec.suspend}') == true ]]; then
  echo "== $CLUSTER was stopped while idle; starting it again (spec.suspend: false)"
  k patch darwincluster "$CLUSTER" -n "$NAMESPACE" --type merge -p '{"spec":{"suspend":false}}'
fi

echo "== waiting for $CLUSTER in $NAMESPACE to be Ready: Ray starting on the real node"
k wait --for=condition=Ready "darwincluster/$CLUSTER" -n "$NAMESPACE" --timeout=600s
show get darwincluster "$CLUSTER" -n "$NAMESPACE" -o wide
show get pods -n "$NAMESPACE" -o wide

# The head Service through the apiserver's service proxy, as from a laptop: no port-forward needed.
dashboard=/api/v1/namespaces/$NAMESPACE/services/$CLUSTER-head-svc:dashboard/proxy
echo
echo "\$ kubectl get --raw $dashboard/api/version   # the Ray dashboard, through the head Service"
k get --raw "$dashboard/api/version"
echo

# The DarwinJob sample, as a user applies it: the operator submits it to the cluster's head (from outside the
# cluster, through the apiserver's service proxy: clusterEndpoints.via in hack/operator-local.yaml) and
# mirrors Ray's status; hermes prints the log Ray kept.
k apply --server-side --force-conflicts -n "$NAMESPACE" -f samples/darwin.dreamhorizon.org_v1alpha1_darwinjob.yaml
k wait --for=jsonpath='{.status.jobStatus}'=SUCCEEDED darwinjob/housing-train -n "$NAMESPACE" --timeout=300s ||
  { k get darwinjob housing-train -n "$NAMESPACE" -o yaml >&2; echo "the DarwinJob on $CLUSTER did not succeed" >&2; exit 1; }
show get darwinjob housing-train -n "$NAMESPACE"
echo
echo "\$ hermes job logs housing-train -n $NAMESPACE"
node_modules/.bin/node cli/hermes.ts job logs housing-train -n "$NAMESPACE"
