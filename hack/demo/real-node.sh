#!/usr/bin/env bash
# Quick start, the real-node part (hack/up runs it after the simulated cluster): brings up the testbed's real
# node, applies the housing-project cluster on the `local` runtime (samples/local) to the namespace
# darwin-local, whose pods the apiserver sends to the node, and shows Ray running for real: its pods on
# darwin-node-0, the dashboard answering through the head Service, and a Ray job run on the cluster.
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

job=$(mktemp)
trap 'rm -f "$job"' EXIT
jq -n '{entrypoint: "python -c \"import ray; ray.init(); print(\\\"resources\\\", ray.cluster_resources()); print(\\\"answer\\\", ray.get(ray.remote(lambda: 6 * 7).remote()))\""}' >"$job"
echo
echo "\$ kubectl create --raw $dashboard/api/jobs/ -f job.json   # a job through Ray's Jobs REST API"
id=$(k create --raw "$dashboard/api/jobs/" -f "$job" | jq -r .submission_id)
echo "submitted $id"
status=""
for _ in $(seq 1 300); do
  status=$(k get --raw "$dashboard/api/jobs/$id" | jq -r .status)
  [[ $status == SUCCEEDED || $status == FAILED || $status == STOPPED ]] && break
  sleep 1
done
echo "job $id: $status"
echo
echo "\$ kubectl get --raw $dashboard/api/jobs/$id/logs"
k get --raw "$dashboard/api/jobs/$id/logs" | jq -r .logs
[[ $status == SUCCEEDED ]] || { echo "the Ray job on $CLUSTER did not succeed" >&2; exit 1; }
