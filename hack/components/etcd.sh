# etcd 3.6 for the testbed apiserver, built from go.etcd.io/etcd/server/v3. Sourced by hack/testbed.
#
# Debian's etcd (3.4) is too old for kube-apiserver >= 1.31 (watch progress notifications, streaming
# watch-list), so etcd is built from the Go module proxy like the rest.
source "$HACK_DIR/kube/gobuild.sh"

ETCD_VERSION=${DARWIN_ETCD_VERSION:-v3.6.16}
ETCD_DIR=$DARWIN_CACHE/etcd-$ETCD_VERSION
ETCD_PORT=${DARWIN_ETCD_PORT:-23790}
ETCD_PEER_PORT=${DARWIN_ETCD_PEER_PORT:-23800}
ETCD_URL=http://127.0.0.1:$ETCD_PORT

etcd_build() {
  tb_go_have "$ETCD_DIR/bin" etcd && return 0
  # The server module's go.mod replaces its sibling modules with ../ paths, which `go install` rejects;
  # a wrapper requiring it resolves the siblings at the same published version instead.
  tb_go_wrapper_build "$ETCD_DIR" "-s -w" "go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION" go.etcd.io/etcd/server/v3
  # go build names the binary after the module path less its /v3 suffix ("server"); give it its real name.
  mv "$ETCD_DIR/bin/server" "$ETCD_DIR/bin/etcd"
}

etcd_start() {
  mkdir -p "$DARWIN_RUN/data/etcd"
  # --unsafe-no-fsync: test data is thrown away, and fsync on a shared VM disk makes every write slow.
  tb_spawn etcd "$ETCD_DIR/bin/etcd" \
    --name darwin \
    --data-dir "$DARWIN_RUN/data/etcd" \
    --listen-client-urls "$ETCD_URL" \
    --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "darwin=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync \
    --log-level warn
}

etcd_ready() { curl -fsS --max-time 2 "$ETCD_URL/health" | grep -q '"health":"true"'; }

etcd_timeout() { echo 60; }

etcd_env() {
  echo "DARWIN_ETCD_URL=$ETCD_URL"
  echo "DARWIN_ETCD_VERSION=$ETCD_VERSION"
}
