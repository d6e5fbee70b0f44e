# S3: moto's standalone server from PyPI, loopback only. Clients must use path-style addressing.
# moto keeps every bucket and object in memory: a stop, kill or restart loses all S3 data (no durability tests).
S3_VERSION=${DARWIN_S3_VERSION:-5.2.5} # moto
S3_PORT=${DARWIN_S3_PORT:-25000}
S3_HOME="$DARWIN_CACHE/s3-moto-$S3_VERSION"

s3_build() {
  tb_pip_venv s3 "$S3_HOME/venv" "moto[server]==$S3_VERSION"
}

s3_start() {
  tb_spawn s3 "$S3_HOME/venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT"
}

# Ready when ListBuckets (GET /) answers with its XML result. moto does not check signatures.
s3_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -q ListAllMyBucketsResult
}

s3_timeout() { echo 60; }

s3_env() {
  echo "DARWIN_S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
  echo "DARWIN_S3_REGION=us-east-1"
  echo "DARWIN_S3_ACCESS_KEY_ID=testing"
  echo "DARWIN_S3_SECRET_ACCESS_KEY=testing"
}
