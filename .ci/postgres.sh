#!/usr/bin/env bash
# Installs (from Debian packages) and starts a local PostgreSQL server for the reference API's tests
# (they run against both PGlite and PostgreSQL), then prints the DATABASE_URL to use.
#
# Usage (as root, Debian 12):
#   eval "$(.ci/postgres.sh)"            # the last line on stdout is `export DATABASE_URL=...`
#   .ci/postgres.sh /tmp/pg.env && . /tmp/pg.env
#
# Idempotent: a second run finds the package, cluster, role and database in place and succeeds.
# Every progress message goes to stderr, so stdout carries only the export line.
#
# Environment (all optional):
#   GATEHOUSE_PG_PORT      TCP port on 127.0.0.1 (default 5432)
#   GATEHOUSE_PG_PASSWORD  password of the `gatehouse` role (default `gatehouse`; letters, digits, . _ ~ -)
#   GATEHOUSE_PG_WAIT      seconds to wait for the server to accept connections (default 30)
#
# The server is a throw-away test server bound to loopback only; the role gets CREATEDB because the test
# suite creates a scratch database per run, so runs never see each other's rows.
set -euo pipefail

port="${GATEHOUSE_PG_PORT:-5432}"
password="${GATEHOUSE_PG_PASSWORD:-gatehouse}"
wait_seconds="${GATEHOUSE_PG_WAIT:-30}"
role='gatehouse'
database='gatehouse_test'
cluster='main'

log() { echo "postgres.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[[ "$(id -u)" == 0 ]] || die 'run me as root (I install packages and start the cluster as the postgres user)'
[[ "$port" =~ ^[0-9]+$ ]] || die "GATEHOUSE_PG_PORT must be a port number"
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "GATEHOUSE_PG_WAIT must be a number of seconds"
# The password goes into a URL and a SQL literal: allow only characters that need no escaping in either.
[[ "$password" =~ ^[A-Za-z0-9._~-]+$ ]] || die 'GATEHOUSE_PG_PASSWORD may contain only letters, digits and . _ ~ -'

# Newest installed server version, from Debian's layout /usr/lib/postgresql/<major>/bin/postgres.
installed_major() {
  local dir
  for dir in $(ls -1 /usr/lib/postgresql 2>/dev/null | sort -V -r); do
    if [[ -x "/usr/lib/postgresql/$dir/bin/postgres" ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! installed_major >/dev/null; then
  log 'installing postgresql from the Debian packages'
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
fi

major="$(installed_major)" || die 'postgresql is installed but no /usr/lib/postgresql/<major>/bin/postgres was found'
log "using PostgreSQL $major"

# pg_lsclusters -h prints: version cluster port status owner datadir logfile
if ! pg_lsclusters -h | awk -v v="$major" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
  log "creating cluster $major/$cluster"
  pg_createcluster --port "$port" "$major" "$cluster" >&2
fi

# Loopback only, on the requested port: a test server must not listen on the network. Debian's
# postgresql.conf includes conf.d/*.conf last, so this file wins without editing the packaged config.
conf_file="/etc/postgresql/$major/$cluster/conf.d/gatehouse-ci.conf"
conf="$(printf "listen_addresses = '127.0.0.1'\nport = %s\n" "$port")"
conf_changed=0
if [[ ! -f "$conf_file" || "$(cat "$conf_file")" != "$conf" ]]; then
  printf '%s\n' "$conf" >"$conf_file"
  chown postgres:postgres "$conf_file"
  conf_changed=1
fi

status="$(pg_lsclusters -h | awk -v v="$major" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
if [[ "$status" != online* ]]; then
  log "starting cluster $major/$cluster on 127.0.0.1:$port"
  action=start
elif ((conf_changed)); then
  # listen_addresses and port take effect only on a restart.
  log "restarting cluster $major/$cluster to listen on 127.0.0.1:$port"
  action=restart
else
  action=
fi
if [[ -n "$action" ]] && ! pg_ctlcluster "$major" "$cluster" "$action" >&2; then
  tail -n 20 "/var/log/postgresql/postgresql-$major-$cluster.log" >&2 2>/dev/null || true
  die "could not $action cluster $major/$cluster (is port $port already in use?)"
fi

deadline=$((SECONDS + wait_seconds))
until pg_isready -q -h 127.0.0.1 -p "$port"; do
  if ((SECONDS >= deadline)); then
    tail -n 20 "/var/log/postgresql/postgresql-$major-$cluster.log" >&2 2>/dev/null || true
    die "PostgreSQL did not accept connections on 127.0.0.1:$port within ${wait_seconds}s"
  fi
  sleep 0.5
done

# Role and database, created once; the password and CREATEDB are (re)applied on every run.
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >&2 <<SQL
SELECT 'CREATE ROLE $role LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')\\gexec
ALTER ROLE $role WITH LOGIN CREATEDB PASSWORD '$password';
SELECT 'CREATE DATABASE $database OWNER $role' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')\\gexec
SQL

url="postgres://$role:$password@127.0.0.1:$port/$database"
# Prove the URL works over TCP with password authentication, as the tests will use it.
PGPASSWORD="$password" psql -X -q -At -h 127.0.0.1 -p "$port" -U "$role" -d "$database" -c 'select 1' >/dev/null ||
  die "cannot log in as $role over TCP on 127.0.0.1:$port"

log "ready: $role@127.0.0.1:$port/$database"
line="export DATABASE_URL=$url"
if [[ $# -ge 1 && -n "$1" ]]; then
  printf '%s\n' "$line" >"$1"
fi
printf '%s\n' "$line"
