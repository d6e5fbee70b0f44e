# MariaDB from Debian's mariadb-server, run as a foreground mariadbd on 127.0.0.1 with its own data dir and
# socket (the system service is never used). Root is reachable over TCP from 127.0.0.1 with a known password.
MARIADB_PORT=${DARWIN_MYSQL_PORT:-23306}
MARIADB_PASSWORD=${DARWIN_MYSQL_PASSWORD:-darwin}
MARIADB_DATA="$DARWIN_RUN/data/mariadb"
MARIADB_SOCKET="$DARWIN_RUN/mariadb.sock"

_mariadbd() {
  local b
  for b in mariadbd mysqld; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    if [[ -x /usr/sbin/$b ]]; then echo "/usr/sbin/$b"; return 0; fi
  done
  return 1
}

mariadb_build() {
  _mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null && return 0
  local log
  log=$(tb_build_log mariadb)
  tb_log "mariadb: installing mariadb-server from Debian (log $log)"
  # policy-rc.d or not, the system service is left alone: mariadb_start runs its own server
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
    >"$log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
      >>"$log" 2>&1 || { tail -n 30 "$log" >&2; tb_die "mariadb: apt-get install mariadb-server failed"; }
  fi
}

mariadb_start() {
  local bin
  bin=$(_mariadbd) || tb_die "mariadb: mariadbd not found"
  if [[ ! -d $MARIADB_DATA/mysql ]]; then
    tb_log "mariadb: initialising $MARIADB_DATA"
    rm -rf "$MARIADB_DATA"
    mkdir -p "$MARIADB_DATA"
    mariadb-install-db --no-defaults --user=root --datadir="$MARIADB_DATA" --auth-root-authentication-method=socket \
      --skip-test-db >"$DARWIN_RUN/logs/mariadb-install-db.log" 2>&1 ||
      { tail -n 30 "$DARWIN_RUN/logs/mariadb-install-db.log" >&2; tb_die "mariadb: mariadb-install-db failed"; }
  fi
  tb_render "$HACK_DIR/services/mariadb/init.sql" "$DARWIN_RUN/data/mariadb-init.sql" PASSWORD="$MARIADB_PASSWORD"
  tb_spawn mariadb "$bin" --no-defaults --user=root \
    --datadir="$MARIADB_DATA" --socket="$MARIADB_SOCKET" --pid-file="$DARWIN_RUN/mariadb.pid" \
    --port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --init-file="$DARWIN_RUN/data/mariadb-init.sql" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M --performance-schema=OFF --max-connections=200
}

# Ready when root can run a query over TCP in the darwin database (so the init file has run, too).
mariadb_ready() {
  MYSQL_PWD=$MARIADB_PASSWORD mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MARIADB_PORT" -u root \
    --connect-timeout=3 -N -e 'SELECT 1' darwin 2>/dev/null | grep -qx 1
}

mariadb_timeout() { echo 60; }

mariadb_env() {
  echo "DARWIN_MYSQL_URL=mysql://root:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/darwin"
  echo "DARWIN_MYSQL_HOST=127.0.0.1"
  echo "DARWIN_MYSQL_PORT=$MARIADB_PORT"
  echo "DARWIN_MYSQL_USER=root"
  echo "DARWIN_MYSQL_PASSWORD=$MARIADB_PASSWORD"
  echo "DARWIN_MYSQL_DATABASE=darwin"
}
