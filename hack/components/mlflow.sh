# MLflow tracking server and model registry from PyPI, sqlite backend store, artifacts served by the server
# itself (mlflow-artifacts:/ URIs), data under $DARWIN_RUN/data/mlflow.
# 3.18.0 is listed on PyPI but its mlflow-skinny==3.18.0 is not served (pip: no matching distribution)
MLFLOW_VERSION=${DARWIN_MLFLOW_VERSION:-3.17.2}
MLFLOW_PORT=${DARWIN_MLFLOW_PORT:-25001}
MLFLOW_HOME="$DARWIN_CACHE/mlflow-$MLFLOW_VERSION"
MLFLOW_DATA="$DARWIN_RUN/data/mlflow"

mlflow_build() {
  tb_pip_venv mlflow "$MLFLOW_HOME/venv" "mlflow==$MLFLOW_VERSION"
}

mlflow_start() {
  mkdir -p "$MLFLOW_DATA/artifacts"
  # MLflow 3 also starts a job runner with seven huey consumer processes (~1.2 GiB, for GenAI scorer and
  # optimisation jobs) unless job execution is turned off; tracking, artifacts and the registry do not need it.
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false tb_spawn mlflow "$MLFLOW_HOME/venv/bin/mlflow" server \
    --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1 \
    --backend-store-uri "sqlite:///$MLFLOW_DATA/mlflow.db" \
    --serve-artifacts --artifacts-destination "$MLFLOW_DATA/artifacts"
}

# Ready when /health answers and the tracking API lists experiments (the store's migrations are done).
mlflow_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null 2>&1 &&
    curl -fsS --max-time 5 "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/experiments/search?max_results=1" 2>/dev/null |
    grep -q experiments
}

mlflow_timeout() { echo 180; }

mlflow_env() {
  echo "DARWIN_MLFLOW_URL=http://127.0.0.1:$MLFLOW_PORT"
  echo "DARWIN_MLFLOW_VERSION=$MLFLOW_VERSION"
}
