# Redis (tier `gitops`, the cache of Argo CD's controller and repo server), from Debian's redis-server and
# redis-tools packages and the two libraries they need beyond the base system, unpacked into the cache (no
# system service is installed or started), run in the foreground on loopback without persistence.
# Sourced by hack/testbed.

REDIS_PORT=${DARWIN_REDIS_PORT:-28085}
REDIS_PACKAGES=(redis-server redis-tools libjemalloc2 liblzf1)

# The version Debian serves (the cache directory is named after it).
_redis_version() {
  local v
  v=$(apt-cache policy redis-server 2>/dev/null | sed -n 's/^  Candidate: //p')
  if [[ -z $v || $v == "(none)" ]]; then
    apt-get update >/dev/null 2>&1 || true
    v=$(apt-cache policy redis-server 2>/dev/null | sed -n 's/^  Candidate: //p')
  fi
  [[ -n $v && $v != "(none)" ]] || return 1
  v=${v#*:}
  echo "${v//\~/_}"
}

# The newest unpacked copy. Start and readiness use it without asking apt (seconds on a busy machine); a
# new Debian version is picked up by removing the old copy.
_redis_dir() { compgen -G "$DARWIN_CACHE/redis-*/usr/bin/redis-check-rdb" | sort -V | tail -n 1 | sed 's#/usr/bin/.*##'; }

# the unpacked libraries' directory (usr/lib/<arch triplet>)
_redis_libs() { compgen -G "$1/usr/lib/*-linux-gnu" | head -n 1; }

redis_build() {
  [[ -n $(_redis_dir) ]] && return 0
  local v dir log tmp
  v=$(_redis_version) || tb_die "redis: apt knows no redis-server package"
  dir=$DARWIN_CACHE/redis-$v
  log=$(tb_build_log redis)
  tb_log "redis: unpacking ${REDIS_PACKAGES[*]} from Debian into $dir (log $log)"
  tmp=$(mktemp -d "$DARWIN_CACHE/.redis.XXXXXX")
  # apt-get download runs as the _apt user where it can: let it write there
  chmod 777 "$tmp"
  if ! (cd "$tmp" && apt-get download "${REDIS_PACKAGES[@]}") >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$tmp"
    tb_die "redis: apt-get download ${REDIS_PACKAGES[*]} failed"
  fi
  mkdir -p "$tmp/root"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  rm -rf "$dir"
  mv "$tmp/root" "$dir"
  rm -rf "$tmp"
}

redis_start() {
  local dir
  dir=$(_redis_dir)
  mkdir -p "$DARWIN_RUN/data/redis"
  # redis-server is a link to redis-check-rdb, which acts by the name it runs under. No snapshots or AOF:
  # Argo CD keeps only a cache there.
  LD_LIBRARY_PATH=$(_redis_libs "$dir") tb_spawn redis "$dir/usr/bin/redis-server" \
    --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DARWIN_RUN/data/redis" \
    --save "" --appendonly no --protected-mode yes --daemonize no
}

redis_ready() {
  local dir
  dir=$(_redis_dir)
  [[ -n $dir ]] &&
    [[ $(LD_LIBRARY_PATH=$(_redis_libs "$dir") timeout 3 "$dir/usr/bin/redis-cli" -h 127.0.0.1 \
      -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_timeout() { echo 30; }

redis_env() { echo "DARWIN_REDIS=127.0.0.1:$REDIS_PORT"; }
