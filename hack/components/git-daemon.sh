# A git daemon on loopback (tiers `gitops` and `node`): the repositories Argo CD syncs from and the real
# node's image builds clone. It serves every bare repository under $DARWIN_RUN/data/git as
# git://127.0.0.1:<port>/<name>.git, pushes included (receive-pack is on: tests push their changes as a user
# would); pods reach it at the node's address (node_loopback_forward in node.sh). Nothing to build: git comes
# with the machine.
# Sourced by hack/testbed.

GIT_DAEMON_PORT=${DARWIN_GIT_DAEMON_PORT:-28086}
GIT_DAEMON_ROOT=$DARWIN_RUN/data/git

git_daemon_build() { command -v git >/dev/null || tb_die "git_daemon: git is not on PATH"; }

git_daemon_start() {
  mkdir -p "$GIT_DAEMON_ROOT"
  # the probe repository that git_daemon_ready lists
  [[ -d $GIT_DAEMON_ROOT/.probe.git ]] || git init -q --bare "$GIT_DAEMON_ROOT/.probe.git"
  # pods on the real node reach it at the node's address (set up here too for a node already running)
  if tb_running containerd; then node_loopback_forward; fi
  tb_spawn git_daemon git daemon --reuseaddr --export-all --enable=receive-pack --listen=127.0.0.1 \
    --port="$GIT_DAEMON_PORT" --base-path="$GIT_DAEMON_ROOT" "$GIT_DAEMON_ROOT"
}

git_daemon_ready() { timeout 5 git ls-remote "git://127.0.0.1:$GIT_DAEMON_PORT/.probe.git" >/dev/null 2>&1; }

git_daemon_timeout() { echo 20; }

git_daemon_env() {
  echo "DARWIN_GIT_URL=git://127.0.0.1:$GIT_DAEMON_PORT"
  echo "DARWIN_GIT_URL_FROM_PODS=git://$NODE_IP:$GIT_DAEMON_PORT"
  echo "DARWIN_GIT_ROOT=$GIT_DAEMON_ROOT"
}
