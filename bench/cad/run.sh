#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the CAD benchmark of issue 3, end to end: builds amaned, amane and
# the two load programs in build-benchcad/, then in one run
#   1. amane: a fresh database (`amane demo seed`), amaned on a free loopback
#      port with its default settings, and cad_loadgen driving it (200
#      dispatcher connections, 2,000 units, 1,000 commands/s, one supervisor
#      on the WebSocket stream);
#   2. the named peer: the same command mix as SQL transactions from
#      cad_pgpeer on a throwaway PostgreSQL 15 cluster (initdb in a temporary
#      directory, loopback only, fsync and synchronous_commit on), once with
#      200 connections and once through a pool of 20;
# prints each JSON line and a markdown table, and removes every file and
# process it made on exit.
#
# Usage: bench/cad/run.sh [--seconds N] [--rate R] [--connections C] [--units N]
#                         [--raw FILE] [--perf FILE] [--only amane|pg]
#                         [--pg-numbering sequence|counter] [--pg-mode M]
#                         [--pg-pools "200 20"] [--nice N]
#   --seconds N      length of each measured load (default 60; also BENCH_SECONDS=N or
#                    SECONDS=N in the environment)
#   --rate R         commands per second, all connections together (default 1000)
#   --warmup S       seconds of the same load before the measured part, not
#                    counted (default 10): every side starts warm
#   --connections C  dispatcher connections (default 200)
#   --units N        units (default 2000)
#   --raw FILE       also write the JSON lines (probe and result of each side) to FILE
#   --perf FILE      profile amaned during its load (perf record -g) and write
#                    the report to FILE; the profiler slows the server, so
#                    do not take the figures of such a run as the result
#   --only W         run only amane or only the PostgreSQL peer
#   --pg-numbering N how the peer numbers incidents: a sequence (default), or
#                    amane's counter row per prefecture and year (see pgpeer.c)
#   --pg-mode M      statements (default): each command a transaction of
#                    prepared statements sent one by one, as an application
#                    does; function: one PL/pgSQL call per command; both: run
#                    the peer twice, once each way
#   --pg-pools L     the peer's connection pool sizes, one run each (default
#                    "200 20": one connection per dispatcher, as the issue
#                    asks, then the 200 dispatchers over a pool of 20, as an
#                    application server in front of PostgreSQL would do)
#   --nice N         run amaned, the load programs and PostgreSQL at niceness N
#                    (e.g. -10, as root) to measure the software rather than
#                    its neighbours on a shared machine; default: not changed
#   TMPDIR           where the temporary directory goes (default /tmp)
#
# Before each side, cad_fsyncprobe measures the disk's flush latency for 5 s
# (4 KiB rewrite + fdatasync in a loop): no durable commit is faster.
set -euo pipefail

# Bash counts SECONDS up from whatever it was given, so read the value this
# process was started with rather than the live variable.
env_seconds=$(tr '\0' '\n' </proc/$$/environ 2>/dev/null | sed -n 's/^SECONDS=//p' | head -n 1)
seconds=${BENCH_SECONDS:-${env_seconds:-60}}
rate=1000
warmup=10
connections=200
units=2000
raw_out=""
perf_out=""
only=""
pg_numbering=sequence
pg_mode=statements
pg_pools="200 20"
niceness=""

die() {
    echo "run.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --rate) [ $# -ge 2 ] || die "--rate needs a value"; rate=$2; shift 2 ;;
    --rate=*) rate=${1#*=}; shift ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a value"; warmup=$2; shift 2 ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --connections) [ $# -ge 2 ] || die "--connections needs a value"; connections=$2; shift 2 ;;
    --connections=*) connections=${1#*=}; shift ;;
    --units) [ $# -ge 2 ] || die "--units needs a value"; units=$2; shift 2 ;;
    --units=*) units=${1#*=}; shift ;;
    --raw) [ $# -ge 2 ] || die "--raw needs a value"; raw_out=$2; shift 2 ;;
    --raw=*) raw_out=${1#*=}; shift ;;
    --perf) [ $# -ge 2 ] || die "--perf needs a value"; perf_out=$2; shift 2 ;;
    --perf=*) perf_out=${1#*=}; shift ;;
    --only) [ $# -ge 2 ] || die "--only needs a value"; only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --pg-numbering) [ $# -ge 2 ] || die "--pg-numbering needs a value"; pg_numbering=$2; shift 2 ;;
    --pg-numbering=*) pg_numbering=${1#*=}; shift ;;
    --pg-mode) [ $# -ge 2 ] || die "--pg-mode needs a value"; pg_mode=$2; shift 2 ;;
    --pg-mode=*) pg_mode=${1#*=}; shift ;;
    --pg-pools) [ $# -ge 2 ] || die "--pg-pools needs a value"; pg_pools=$2; shift 2 ;;
    --pg-pools=*) pg_pools=${1#*=}; shift ;;
    --nice) [ $# -ge 2 ] || die "--nice needs a value"; niceness=$2; shift 2 ;;
    --nice=*) niceness=${1#*=}; shift ;;
    -h | --help) sed -n '3,/^set -euo/{/^set -euo/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
    esac
done
# A whole number in [1, max].
in_range() { [[ $1 =~ ^[1-9][0-9]{0,6}$ ]] && [ "$1" -le "$2" ]; }
in_range "$seconds" 3600 || die "bad number of seconds '$seconds' (1..3600)"
in_range "$rate" 100000 || die "bad rate '$rate' (1..100000)"
[[ $warmup =~ ^[0-9]{1,3}$ ]] || die "bad warm-up '$warmup' (0..999 seconds)"
in_range "$connections" 900 || die "bad number of connections '$connections' (1..900)"
in_range "$units" 9999 || die "bad number of units '$units' (1..9999)"
case "$only" in "" | amane | pg) ;; *) die "--only takes amane or pg" ;; esac
[ -z "$niceness" ] || [[ $niceness =~ ^-?[0-9]{1,2}$ ]] || die "bad niceness '$niceness'"
case "$pg_mode" in statements | function | both) ;; *) die "--pg-mode takes statements, function or both" ;; esac
[ -n "${pg_pools// /}" ] || die "no pool sizes"
for p in $pg_pools; do
    in_range "$p" "$connections" || die "bad pool size '$p' (1..$connections)"
done
case "$pg_numbering" in sequence | counter) ;; *) die "--pg-numbering takes sequence or counter" ;; esac
for f in "$raw_out" "$perf_out"; do
    if [ -n "$f" ] && [ ! -d "$(dirname -- "$f")" ]; then
        die "no directory for '$f'"
    fi
done

pg_bin=/usr/lib/postgresql/15/bin
if [ "$only" != amane ]; then
    [ -x "$pg_bin/initdb" ] ||
        die "PostgreSQL 15 server not found in $pg_bin (apt-get install postgresql-15)"
fi
command -v jq >/dev/null || die "jq is needed to read the results (apt-get install jq)"
if [ -n "$perf_out" ]; then
    command -v perf >/dev/null || die "--perf needs perf (apt-get install linux-perf)"
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

work=""
pg_data=""
amaned_pid=""
cleanup() {
    local rc=$?
    if [ -n "$amaned_pid" ] && kill -0 "$amaned_pid" 2>/dev/null; then
        kill "$amaned_pid" 2>/dev/null || true
        wait "$amaned_pid" 2>/dev/null || true
    fi
    if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$work" ]; then
        rm -rf -- "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# initdb and the server refuse to run as root: use the postgres system user then.
if [ "$(id -u)" -eq 0 ]; then
    as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
    as_pg() { "$@"; }
fi

build=build-benchcad
echo "== building amaned and amane in $build/" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target amaned amane -j "$(nproc)" >/dev/null
# Once bench/CMakeLists.txt lists cad, the load programs are targets of the
# main build; until then they are built on their own.
if grep -Eq '^[[:space:]]*add_subdirectory\([[:space:]]*cad[[:space:]]*\)' bench/CMakeLists.txt; then
    cmake --build "$build" --target cad_loadgen cad_pgpeer cad_fsyncprobe -j "$(nproc)" >/dev/null
    tools="$repo/$build/bench/cad"
else
    cmake -S bench/cad -B "$build/bench-cad" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build/bench-cad" -j "$(nproc)" >/dev/null
    tools="$repo/$build/bench-cad"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/amane-bench-cad.XXXXXX")
chmod 755 "$work"

# A free loopback port: one that nobody answers on.
free_port() {
    local candidate
    for _ in $(seq 1 200); do
        candidate=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    die "no free port found"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# Runs a command at the chosen niceness (unchanged without --nice).
niced() {
    if [ -n "$niceness" ]; then
        nice -n "$niceness" "$@"
    else
        "$@"
    fi
}
# The same as a command prefix, for a background process whose PID must be
# its own (a function run with & would leave its PID to a subshell).
nice_prefix=()
[ -z "$niceness" ] || nice_prefix=(nice -n "$niceness")
niced_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && niced runuser -u postgres -- "$@")
    else
        niced "$@"
    fi
}
probe() {
    local line
    echo "== fsync probe, 5 s, in $work" >&2
    line=$("$tools/cad_fsyncprobe" "$work" 5) || die "the fsync probe failed"
    echo "$line" >&2
    echo "$line"
}

# The columns of the table: a title, a result line and the probe before it.
col_titles=()
col_json=()
col_probe=()
amane_json=""
amane_probe=""
load_notes=()

# ------------------------------------------------------------------ amane
if [ "$only" != pg ]; then
    db="$work/amane/amane.db"
    mkdir -p "$work/amane"
    echo "== amane demo seed into $db" >&2
    "$build/amane" --store.path="$db" demo seed >"$work/amane/seed.log" 2>&1 ||
        { cat "$work/amane/seed.log" >&2; die "amane demo seed failed"; }
    port=$(free_port)
    echo "== starting amaned on 127.0.0.1:$port" >&2
    amane_probe=$(probe)
    "${nice_prefix[@]}" "$build/amaned" --server.listen=127.0.0.1 --server.port="$port" --store.path="$db" \
        --server.web_root="$repo/web" >"$work/amane/amaned.log" 2>&1 &
    amaned_pid=$!
    ready=""
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            ready=1
            break
        fi
        kill -0 "$amaned_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ready" ] || { tail -n 20 "$work/amane/amaned.log" >&2; die "amaned did not start"; }

    perf_pid=""
    if [ -n "$perf_out" ]; then
        # Setup takes a few seconds; the profile then covers the load.
        (sleep $((3 + warmup)) && exec perf record -g -o "$work/perf.data" -p "$amaned_pid" -- sleep "$seconds") \
            >"$work/perf.log" 2>&1 &
        perf_pid=$!
    fi
    before=$(loadavg)
    echo "== amane: $rate commands/s for ${seconds}s, $connections dispatchers, $units units" \
        "(load average $before)" >&2
    amane_json=$(niced "$tools/cad_loadgen" --port "$port" --rate "$rate" --seconds "$seconds" \
        --connections "$connections" --units "$units" --warmup "$warmup")
    after=$(loadavg)
    load_notes+=("amane: load average $before -> $after")
    echo "$amane_json" >&2
    col_titles+=("amane")
    col_json+=("$amane_json")
    col_probe+=("$amane_probe")
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        perf report --stdio --no-children -i "$work/perf.data" --percent-limit 0.5 \
            >"$perf_out" 2>/dev/null || true
        perf report --stdio --children -i "$work/perf.data" --percent-limit 2 -g none \
            >"$perf_out.children" 2>/dev/null || true
        echo "== perf report written to $perf_out (and $perf_out.children)" >&2
    fi
    kill "$amaned_pid"
    wait "$amaned_pid" || true
    amaned_pid=""
    grep -E '"level":"(error|warn)"|level=(error|warn)' "$work/amane/amaned.log" | head -n 5 >&2 || true
fi

# ------------------------------------------------------------------ PostgreSQL peer
if [ "$only" != amane ]; then
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user"
    fi
    pg_data="$work/pg"
    mkdir -m 700 "$pg_data"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$pg_data"
    fi
    pg_port=$(free_port)
    echo "== starting PostgreSQL 15 on 127.0.0.1:$pg_port in $pg_data" >&2
    as_pg "$pg_bin/initdb" -D "$pg_data" -U bench -A trust -E UTF8 --locale=C \
        >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die "initdb failed"; }
    cat >>"$pg_data/postgresql.conf" <<EOF

# amane bench/cad/run.sh
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_data'
max_connections = $((connections + 20))
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
    niced_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 start >/dev/null ||
        { cat "$pg_data/server.log" >&2; die "PostgreSQL did not start"; }
    modes=$pg_mode
    [ "$pg_mode" != both ] || modes="statements function"
    for mode in $modes; do
        for pool in $pg_pools; do
            name="PostgreSQL 15 peer, $mode, $pool connections"
            probe_line=$(probe)
            before=$(loadavg)
            echo "== $name: $rate commands/s for ${seconds}s, $connections dispatchers," \
                "$units units (load average $before)" >&2
            # cad_pgpeer drops and makes its tables anew each time.
            line=$(niced "$tools/cad_pgpeer" \
                --conninfo "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" \
                --rate "$rate" --seconds "$seconds" --connections "$connections" \
                --units "$units" --numbering "$pg_numbering" --mode "$mode" --pool "$pool" \
                --warmup "$warmup")
            after=$(loadavg)
            load_notes+=("$name: load average $before -> $after")
            echo "$line" >&2
            col_titles+=("$name")
            col_json+=("$line")
            col_probe+=("$probe_line")
        done
    done
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null || true
fi

if [ -n "$raw_out" ]; then
    for i in "${!col_json[@]}"; do
        printf '%s\n%s\n' "${col_probe[$i]}" "${col_json[$i]}"
    done >"$raw_out"
fi

# ------------------------------------------------------------------ table
# One cell of the table from a result line; amane's and the peer's lines
# differ a little, so some rows give the peer its own expression.
cell() {
    local json=$1 expr=$2
    if [ -z "$json" ]; then
        echo "-"
    else
        jq -r "$expr" <<<"$json"
    fi
}
lat='"\(.p50_ms) / \(.p90_ms) / \(.p99_ms) / \(.p999_ms) / \(.max_ms)"'
row() {
    local line="| $1 " json
    for json in "${col_json[@]}"; do
        if [ "$(jq -r .tool <<<"$json")" = loadgen ]; then
            line+="| $(cell "$json" "$2") "
        else
            line+="| $(cell "$json" "${3:-$2}") "
        fi
    done
    echo "$line|"
}

echo
header="| $rate commands/s, ${seconds} s after ${warmup} s of warm-up, $connections dispatchers, $units units "
rule="|---"
for t in "${col_titles[@]}"; do
    header+="| $t "
    rule+="|---:"
done
echo "$header|"
echo "$rule|"
line="| disk flush just before (4 KiB + fdatasync) p50 / p99 / max, ms "
for p in "${col_probe[@]}"; do
    line+="| $(cell "$p" '"\(.p50_ms) / \(.p99_ms) / \(.max_ms) (\(.per_s)/s)"') "
done
echo "$line|"
row "commands due / answered" '"\(.scheduled // .sent) / \(.answered)"'
row "answered per second: mean (min–max over each second)" \
    '"\(.rate) (\(.per_second_min)–\(.per_second_max))"'
row "2xx / 409 / other 4xx / 5xx, transport, timeout" \
    '"\(.ok) / \(.conflict_409) / \(.client_4xx) / \(.server_5xx + .transport_errors + .timeouts)"' \
    '"\(.ok) / \(.conflict_409) / - / \(.failed)"'
row "late (due while the connection still waited)" '.late'
row "command latency p50 / p90 / p99 / p99.9 / max, ms" ".latency | $lat"
row "latency from due time p99 / max, ms" '"\(.from_due.p99_ms) / \(.from_due.max_ms)"'
row "commit → WebSocket p50 / p90 / p99 / p99.9 / max, ms" \
    "if .stream then (.stream | $lat) else \"-\" end" '"n/a (no stream)"'
row "events delivered in the measured part (missing at the end)" \
    'if .stream then "\(.stream.n) (\(.stream.missing))" else "-" end' '"n/a"'
row "durable flushes (commands per flush)" \
    'if .store then "\(.store.commits) (\(.store.commands_per_commit))" else "-" end' \
    'if .wal_syncs then "\(.wal_syncs) WAL syncs (\(.sent / .wal_syncs * 100 | round / 100))" else "-" end'
row "open / assign / status / note / close p99, ms" \
    '.by_kind | "\(.open.p99_ms) / \(.assign.p99_ms) / \([.en_route.p99_ms, .on_scene.p99_ms, .available.p99_ms] | max) / \(.note.p99_ms) / \(.close.p99_ms)"'
echo
[ -z "$niceness" ] || echo "amaned, the load programs and PostgreSQL ran at niceness $niceness."
printf '%s\n' "${load_notes[@]}"

# The targets of issue 3, for each side that ran.
verdict() {
    local name=$1 json=$2 stream=$3
    [ -n "$json" ] || return 0
    jq -r --arg name "$name" --argjson rate "$rate" --argjson stream "$stream" '
        def yn(c): if c then "met" else "MISSED" end;
        (.ok + .conflict_409) as $done
        | ((.failed // (.client_4xx + .server_5xx + .transport_errors + .timeouts)) == 0
           and .rate >= 0.99 * $rate) as $sustained
        | "\($name): rate >= \($rate)/s sustained with no failure: \(yn($sustained)) (\(.rate)/s, \($done) of \(.scheduled // .sent) answered 2xx/409);"
          + " p99 command latency < 10 ms: \(yn(.latency.p99_ms < 10)) (\(.latency.p99_ms) ms)"
          + (if $stream then "; p99 commit → WebSocket < 20 ms: \(yn(.stream.p99_ms < 20)) (\(.stream.p99_ms) ms)" else "" end)
    ' <<<"$json"
}
echo
for i in "${!col_json[@]}"; do
    if [ "$(jq -r .tool <<<"${col_json[$i]}")" = loadgen ]; then
        verdict "${col_titles[$i]}" "${col_json[$i]}" true
    else
        verdict "${col_titles[$i]}" "${col_json[$i]}" false
    fi
done
