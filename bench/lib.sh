# SPDX-License-Identifier: AGPL-3.0-or-later
#
# lib.sh - shell helpers shared by the bench/*/run.sh scripts, sourced (not
# run) after `set -euo pipefail`:
#
#   bench_die MSG...           print "NAME: MSG" on stderr and exit 1
#   bench_free_port            a loopback TCP port nobody answers on
#   bench_as_pg CMD...         run CMD as the postgres system user when root
#                              (initdb and postgres refuse to run as root)
#   bench_pg_start DIR [LINE...]  initdb a throwaway PostgreSQL 15 cluster in
#                              DIR (made here, must not exist; its parent
#                              gets initdb's log), loopback only, its unix
#                              socket in DIR, a free port, each LINE added
#                              to postgresql.conf; sets BENCH_PG_PORT and
#                              BENCH_PG_CONNINFO
#   bench_pg_stop              stop that cluster (immediate), if running;
#                              safe to call from an EXIT trap, twice
#
# BENCH_NAME (default: the calling script's directory name) prefixes errors.
# BENCH_NICE, if set, is the niceness PostgreSQL runs at (e.g. -10, as root).
# BENCH_PG_BIN defaults to Debian's /usr/lib/postgresql/15/bin.

BENCH_NAME=${BENCH_NAME:-$(basename "$(dirname "$0")")/run.sh}
BENCH_PG_BIN=${BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
BENCH_PG_DATA=""
BENCH_PG_PORT=""
BENCH_PG_CONNINFO=""

bench_die() {
    echo "$BENCH_NAME: $*" >&2
    exit 1
}

bench_free_port() {
    local candidate
    for _ in $(seq 1 200); do
        candidate=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    bench_die "no free port found"
}

bench_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

bench_pg_start() {
    local dir=$1
    shift
    [ -x "$BENCH_PG_BIN/initdb" ] ||
        bench_die "PostgreSQL 15 server not found in $BENCH_PG_BIN (apt-get install postgresql-15)"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || bench_die "running as root needs the 'postgres' system user"
    fi
    mkdir -m 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    bench_as_pg "$BENCH_PG_BIN/initdb" -D "$dir" -U bench -A trust -E UTF8 --locale=C \
        >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; bench_die "initdb failed"; }
    BENCH_PG_PORT=$(bench_free_port)
    {
        echo
        echo "# amane bench/lib.sh"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $BENCH_PG_PORT"
        echo "unix_socket_directories = '$dir'"
        [ $# -eq 0 ] || printf '%s\n' "$@"
    } | bench_as_pg tee -a "$dir/postgresql.conf" >/dev/null
    BENCH_PG_DATA=$dir
    local start=("$BENCH_PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start)
    [ "$(id -u)" -ne 0 ] || start=(runuser -u postgres -- "${start[@]}")
    [ -z "${BENCH_NICE:-}" ] || start=(nice -n "$BENCH_NICE" "${start[@]}")
    (cd / && "${start[@]}") >/dev/null ||
        { cat "$dir/server.log" >&2; bench_die "PostgreSQL did not start"; }
    BENCH_PG_CONNINFO="host=127.0.0.1 port=$BENCH_PG_PORT user=bench dbname=postgres"
    echo "== PostgreSQL 15 on 127.0.0.1:$BENCH_PG_PORT in $dir" >&2
}

bench_pg_stop() {
    if [ -n "$BENCH_PG_DATA" ] && [ -f "$BENCH_PG_DATA/postmaster.pid" ]; then
        bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DATA" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    BENCH_PG_DATA=""
}
