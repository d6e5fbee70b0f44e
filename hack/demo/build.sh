#!/usr/bin/env bash
# Quick start, image builds (hack/up runs it after the real-node part): the sample model server
# (samples/local/iris-server) committed to a repository of the testbed's git daemon, built from its git URL by
# the operator with BuildKit in a pod on the real node (`hermes build --follow`), pushed to the local
# registry, and deployed with `--deploy` to the Serve iris-server on the node, which then answers a
# prediction. The build of a commit already built is shown, not run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

NAMESPACE=${DARWIN_LOCAL_NAMESPACE:-darwin-local}
SERVE=iris-server

set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a
k() { "$DARWIN_KUBECTL" "$@"; }
hermes() {
  echo "\$ hermes $*"
  node_modules/.bin/node cli/hermes.ts "$@"
}
local_sample() { echo "samples/local/darwin.dreamhorizon.org_v1alpha1_$1.yaml"; }

# The repository: the sample's files at its root in one commit with a fixed author and date, so the same
# files give the same commit (and a build of it already made is found by name).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git init -q -b main "$work"
cp samples/local/iris-server/* "$work/"
git -C "$work" add -A
GIT_AUTHOR_NAME=Darwin GIT_AUTHOR_EMAIL=quickstart@darwin.local GIT_AUTHOR_DATE=2026-01-01T00:00:00Z \
  GIT_COMMITTER_NAME=Darwin GIT_COMMITTER_EMAIL=quickstart@darwin.local GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
  git -C "$work" commit -q -m "The iris model server"
repository=$DARWIN_GIT_ROOT/iris-server.git
[[ -d $repository ]] || git init -q --bare "$repository"
git -C "$work" push -q --force "$repository" main
commit=$(git -C "$work" rev-parse --short=12 HEAD)
build=iris-server-$commit
echo "== samples/local/iris-server is commit $commit of $DARWIN_GIT_URL_FROM_PODS/iris-server.git (the git daemon, as pods reach it)"

k apply --server-side --force-conflicts -f "$(local_sample serveenvironment)"
# The Serve waits for the build of this commit, running nothing until it has succeeded.
sed -e "/artifactBuildRef:/,/name:/s/name: .*/name: $build/" "$(local_sample serve)" |
  k apply --server-side --force-conflicts -n "$NAMESPACE" -f -

if k get artifactbuild "$build" -n "$NAMESPACE" >/dev/null 2>&1; then
  echo "== $build was built before; its status:"
else
  echo "== building it on the real node (BuildKit in a pod: clone, the Dockerfile's steps, push) and deploying it"
  # The base image and the result, named as the build pod reaches the local registry (the node's address).
  base=${DARWIN_IMAGE_DARWIN_MLFLOW_SERVE/#$DARWIN_REGISTRY/$DARWIN_REGISTRY_FROM_PODS}
  hermes build --git "$DARWIN_GIT_URL_FROM_PODS/iris-server.git" --revision main --build-arg "BASE=$base" \
    --image "$DARWIN_REGISTRY_FROM_PODS/$NAMESPACE/iris-server:$commit" --name "$build" -n "$NAMESPACE" \
    --follow --deploy "$SERVE" --timeout 900
fi
k wait --for=condition=Ready "serve/$SERVE" -n "$NAMESPACE" --timeout=300s >/dev/null
show() {
  echo
  echo "\$ kubectl $*"
  k "$@"
}
show get artifactbuild "$build" -n "$NAMESPACE" -o wide
show get serve "$SERVE" -n "$NAMESPACE" -o wide
# The Serve's Service on the node, reached from this machine through kube-proxy's rules.
ip=$(k get service "$SERVE" -n "$NAMESPACE" -o jsonpath='{.spec.clusterIP}')
echo
echo "\$ curl -X POST http://$ip/$SERVE/predict -d '{\"features\": [[5.1, 3.5, 1.4, 0.2]]}'"
curl -sS --fail-with-body -X POST "http://$ip/$SERVE/predict" -H 'Content-Type: application/json' \
  -d '{"features": [[5.1, 3.5, 1.4, 0.2]]}'
echo
