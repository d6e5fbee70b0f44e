# Ray head node from PyPI, loopback only, one CPU: ray[default] for the dashboard and its job API, ray[serve]
# for Ray Serve applications, and the testbed's MLflow (with scikit-learn), which a ray-serve Serve's
# application loads its model with: its runtime_env pins the same MLflow, already satisfied, so nothing is
# downloaded when an application starts.
RAY_VERSION=${DARWIN_RAY_VERSION:-2.60.0}
RAY_PORT=${DARWIN_RAY_PORT:-26379}
RAY_DASHBOARD_PORT=${DARWIN_RAY_DASHBOARD_PORT:-28265}
RAY_HOME="$DARWIN_CACHE/ray-$RAY_VERSION"
# Ray builds unix socket paths under its temp dir; they must stay short (107 bytes), so keep it near /tmp.
RAY_TMP="$DARWIN_RUN/data/ray"

ray_build() {
  tb_pip_venv ray "$RAY_HOME/venv" "ray[default,serve]==$RAY_VERSION" "mlflow==$MLFLOW_VERSION"
}

ray_start() {
  mkdir -p "$RAY_TMP"
  # Every port is fixed (28001-28009, workers 28300-28399, clear of KWOK's 28100), so the head does not
  # scatter over random ports.
  # Ray turns --node-ip-address=127.0.0.1 into the machine's outward address unless it believes it runs on a
  # single-node platform: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps every address it advertises and binds
  # (gcs_server, raylet, client server, the metrics servers of the dashboard and autoscaler) on 127.0.0.1.
  RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 AUTOSCALER_METRIC_PORT=28008 DASHBOARD_METRIC_PORT=28009 \
    RAY_USAGE_STATS_ENABLED=0 RAY_DISABLE_DOCKER_CPU_WARNING=1 \
    tb_spawn ray "$RAY_HOME/venv/bin/ray" start --head --block \
    --node-ip-address=127.0.0.1 --port="$RAY_PORT" \
    --include-dashboard=true --dashboard-host=127.0.0.1 --dashboard-port="$RAY_DASHBOARD_PORT" \
    --ray-client-server-port=28001 --node-manager-port=28002 --object-manager-port=28003 \
    --dashboard-agent-listen-port=28004 --dashboard-agent-grpc-port=28005 --metrics-export-port=28006 \
    --runtime-env-agent-port=28007 --min-worker-port=28300 --max-worker-port=28399 \
    --num-cpus=1 --num-gpus=0 --object-store-memory=200000000 \
    --temp-dir="$RAY_TMP" --disable-usage-stats
}

# `ray start --block` drains and stops the processes it started when it gets SIGTERM itself (about 5 s);
# signalling its whole process group at once instead leaves it waiting on dead children until the SIGKILL.
ray_stop() {
  local f="$DARWIN_RUN/pids/ray.pid" pid
  if [[ ${1:-stop} == kill ]] || ! tb_running ray; then
    tb_kill9 ray
    return 0
  fi
  read -r pid _ <"$f"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 40))
  while tb_running ray && ((SECONDS < deadline)); do sleep 0.2; done
  # whatever is left of the group (nothing after a clean drain)
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$f"
  tb_log "stopped ray"
}

# Ready when the dashboard serves its version and the job API answers.
ray_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:$RAY_DASHBOARD_PORT/api/version" 2>/dev/null | grep -q ray_version &&
    curl -fsS --max-time 5 "http://127.0.0.1:$RAY_DASHBOARD_PORT/api/jobs/" >/dev/null 2>&1
}

ray_timeout() { echo 180; }

ray_env() {
  echo "DARWIN_RAY_DASHBOARD=http://127.0.0.1:$RAY_DASHBOARD_PORT"
  echo "DARWIN_RAY_ADDRESS=127.0.0.1:$RAY_PORT"
  echo "DARWIN_RAY_VERSION=$RAY_VERSION"
}
