#!/usr/bin/env bash
# Quick start, model serving: register a small scikit-learn iris model in the testbed's MLflow (alias
# champion) and deploy it with hermes as the seed's "Deploy a Model" does, then show the Serve Ready with
# the model version it resolved. Expects the platform up (hack/up); starts MLflow if it is not running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

hack/testbed up mlflow
set -a
# shellcheck disable=SC1090
source "$(hack/testbed envfile)"
set +a
k() { "$DARWIN_KUBECTL" "$@"; }
hermes() {
  echo "\$ hermes $*"
  node_modules/.bin/node cli/hermes.ts "$@"
}

echo "== training an iris classifier and registering it in MLflow as iris, alias champion, tagged darwin.namespace=serve ($DARWIN_MLFLOW_URL)"
GIT_PYTHON_REFRESH=quiet "${DARWIN_CACHE:-$HOME/.cache/darwin-testbed}/mlflow-$DARWIN_MLFLOW_VERSION/venv/bin/python" \
  hack/demo/train_iris.py "$DARWIN_MLFLOW_URL" iris champion --namespace serve

echo "== deploying it with hermes, as the seed's quick start does"
export HERMES_USER_TOKEN=admin-token-default-change-in-production
hermes configure
hermes create-environment --name local --domain-suffix .local --cluster-name kind
hermes create-serve --name iris-classifier --type api --space serve --description "Iris classification model"
hermes deploy-model --serve-name iris-classifier --model-uri models:/iris@champion --cores 2 --memory 4 \
  --node-capacity spot --min-replicas 1 --max-replicas 2 --timeout 180

echo
echo "\$ kubectl get serve,deployment,hpa,ingress,pods -n serve -o wide"
k get serve,deployment,hpa,ingress,pods -n serve -o wide
echo
hermes status --serve-name iris-classifier --space serve
