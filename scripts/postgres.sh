#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, in a folder of its own: CI (.ci/run), developers
# and the pytest fixtures in tests/pg.py all start and stop it through this script.
#
#   scripts/postgres.sh install          # Debian's server package, when no server is found (root)
#   scripts/postgres.sh find             # prints the folder holding initdb/pg_ctl/postgres
#   scripts/postgres.sh start DIR        # init (first time) and start; prints the SQLAlchemy URL
#   scripts/postgres.sh stop DIR [immediate]  # stop, keep the data (immediate: like a crash)
#   scripts/postgres.sh destroy DIR      # stop and remove DIR
#   scripts/postgres.sh url DIR          # prints the URL again
#
# start writes DIR/url and DIR/env (`export DISPATCH_TEST_PG_URL=...`, for `source`). A server
# listens on 127.0.0.1 only, on a free port chosen at first start and kept across restarts, so a
# URL stays valid through stop/start. Run as root, initdb and postgres (which refuse root) run
# as the unprivileged PG_OS_USER (default: postgres, else nobody), which is given DIR.
set -euo pipefail

PG_DB_USER="dispatch"
PG_DB_NAME="dispatch"

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

# The newest server binaries: PG_BINDIR, else Debian's /usr/lib/postgresql/N/bin, else PATH.
find_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then
        [[ -x "$PG_BINDIR/initdb" ]] || die "PG_BINDIR=$PG_BINDIR has no initdb"
        echo "$PG_BINDIR"
        return
    fi
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | while read -r d; do [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && echo "$d"; done |
        tail -n 1)"
    if [[ -z "$dir" ]] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
    fi
    [[ -n "$dir" ]] || return 1
    echo "$dir"
}

install_server() {
    if find_bindir >/dev/null; then
        return
    fi
    [[ "$(id -u)" == 0 ]] || die "no PostgreSQL server found; install it (as root: $0 install)"
    # Debian's own "main" cluster that the package may create goes unused: tests start theirs.
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 postgresql)
    # Package lists are refreshed only when installing from the current ones fails.
    if ! "${apt[@]}" >/dev/null 2>&1; then
        apt-get update -qq || die "apt-get update failed"
        "${apt[@]}" >/dev/null || die "apt-get install postgresql failed"
    fi
    find_bindir >/dev/null || die "postgresql installed but no server binaries found"
}

# as_owner CMD...: run CMD as the server's OS user, from / (a root-only working directory makes
# initdb and pg_ctl fail), with a locale that always exists.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && LC_ALL=C runuser -u "$OWNER" -- "$@")
    else
        (cd / && LC_ALL=C "$@")
    fi
}

pick_owner() {
    OWNER="${PG_OS_USER:-}"
    if [[ -z "$OWNER" ]]; then
        OWNER=postgres
        id -u postgres >/dev/null 2>&1 || OWNER=nobody
    fi
}

# A port nothing listens on (the server's bind may still lose a race: start retries).
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

write_url() {
    local dir="$1" port="$2" password="$3"
    local url="postgresql+psycopg://$PG_DB_USER:$password@127.0.0.1:$port/$PG_DB_NAME"
    printf '%s\n' "$url" >"$dir/url"
    printf 'export DISPATCH_TEST_PG_URL=%q\n' "$url" >"$dir/env"
}

init_cluster() {
    local dir="$1" bindir="$2"
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then chown "$OWNER:" "$dir"; fi
    chmod 700 "$dir"
    as_owner test -w "$dir" || die "$OWNER cannot write $dir (is a parent folder private?)"
    local password
    password="$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$password" >"$dir/password"
    if [[ "$(id -u)" == 0 ]]; then chown "$OWNER:" "$dir/password"; fi
    # fsync stays on, in initdb and in the server: the service's kill -9 durability tests rely
    # on it, and with initdb's files already synced a crash restart needs no long resync.
    as_owner "$bindir/initdb" -D "$dir/data" -U "$PG_DB_USER" --pwfile="$dir/password" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    }
    cat >>"$dir/data/postgresql.conf" <<EOF

# throwaway test server (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
shared_buffers = 32MB
max_connections = 200
log_min_messages = warning
EOF
}

# pg_ctl_start DIR BINDIR PORT: 0 when up; 2 when the port was taken; 1 otherwise.
pg_ctl_start() {
    local dir="$1" bindir="$2" port="$3" seen
    seen="$(stat -c %s "$dir/server.log" 2>/dev/null || echo 0)"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port" start >/dev/null 2>&1; then
        return 0
    fi
    # Only this attempt's part of the log.
    if tail -c +"$((seen + 1))" "$dir/server.log" 2>/dev/null | grep -q 'could not bind'; then
        return 2
    fi
    return 1
}

start_server() {
    local dir="$1" bindir port status password
    bindir="$(find_bindir)" || die "no PostgreSQL server found; install it (as root: $0 install)"
    pick_owner
    dir="$(realpath -m "$dir")"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        init_cluster "$dir" "$bindir"
    fi
    if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        cat "$dir/url"
        return
    fi
    password="$(cat "$dir/password")"
    for _ in 1 2 3 4 5; do
        if [[ -f "$dir/port" ]]; then
            port="$(cat "$dir/port")"
        else
            port="$(free_port)"
        fi
        status=0
        pg_ctl_start "$dir" "$bindir" "$port" || status=$?
        if [[ "$status" == 0 ]]; then
            echo "$port" >"$dir/port"
            write_url "$dir" "$port" "$password"
            as_owner "$bindir/psql" -h "$dir" -p "$port" -U "$PG_DB_USER" -d postgres -qAt \
                -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB_NAME'" | grep -q 1 ||
                as_owner "$bindir/createdb" -h "$dir" -p "$port" -U "$PG_DB_USER" "$PG_DB_NAME"
            cat "$dir/url"
            return
        fi
        # A restart keeps its port (clients hold the URL); only a first start moves on.
        [[ "$status" == 2 && ! -f "$dir/port" ]] || break
    done
    tail -n 20 "$dir/server.log" >&2 || true
    [[ "$status" != 2 ]] || die "port $port, which the server in $dir keeps, is taken"
    die "the server in $dir did not start"
}

stop_server() {
    local dir="$1" mode="${2:-fast}" bindir
    [[ "$mode" == fast || "$mode" == immediate ]] || die "stop mode is fast or immediate"
    [[ -f "$dir/data/PG_VERSION" ]] || return 0
    bindir="$(find_bindir)" || die "no PostgreSQL server found"
    pick_owner
    dir="$(realpath -m "$dir")"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null
    fi
}

case "${1:-}" in
install) install_server ;;
find) find_bindir || die "no PostgreSQL server found" ;;
start) start_server "${2:?usage: $0 start DIR}" ;;
stop) stop_server "${2:?usage: $0 stop DIR [fast|immediate]}" "${3:-fast}" ;;
destroy)
    stop_server "${2:?usage: $0 destroy DIR}" immediate
    rm -rf "$2"
    ;;
url) cat "${2:?usage: $0 url DIR}/url" ;;
*)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
