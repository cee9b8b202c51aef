#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the store benchmark of issue 2, end to end: builds bench_store in
# build-bench/, starts a throwaway PostgreSQL 15 cluster in a temporary
# directory on the same filesystem as the SQLite files, runs async, group, single
# and pg at 1, 8 and 64 writers, prints a markdown table and the ratios at
# 64 writers, and removes the cluster and every file it made on exit.
#
# Usage: bench/store/run.sh [--seconds N] [--rounds N] [--writers "1 8 64"] [--raw FILE]
#   --seconds N   seconds per run (default 10; also BENCH_SECONDS=N or
#                 SECONDS=N in the environment)
#   --rounds N    repeat the whole series N times and report the median run
#                 of each cell (default 1); each round starts with an
#                 fdatasync probe of the disk
#   --writers L   the writer counts, space-separated (default "1 8 64")
#   --raw FILE    also write the JSON line of each run to FILE
#   TMPDIR        where the temporary directory goes (default /tmp)
set -euo pipefail

# Bash counts SECONDS up from whatever it was given, so read the value this
# process was started with rather than the live variable.
env_seconds=$(tr '\0' '\n' </proc/$$/environ 2>/dev/null | sed -n 's/^SECONDS=//p' | head -n 1)
seconds=${BENCH_SECONDS:-${env_seconds:-10}}
writer_counts="1 8 64"
rounds=1
raw_out=""

die() {
    echo "run.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --writers) [ $# -ge 2 ] || die "--writers needs a value"; writer_counts=$2; shift 2 ;;
    --writers=*) writer_counts=${1#*=}; shift ;;
    --raw) [ $# -ge 2 ] || die "--raw needs a value"; raw_out=$2; shift 2 ;;
    --raw=*) raw_out=${1#*=}; shift ;;
    -h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
    esac
done
# A whole number in [1, max].
in_range() { [[ $1 =~ ^[1-9][0-9]{0,5}$ ]] && [ "$1" -le "$2" ]; }
in_range "$seconds" 3600 || die "bad number of seconds '$seconds' (1..3600)"
in_range "$rounds" 100 || die "bad number of rounds '$rounds' (1..100)"
[ -n "${writer_counts// /}" ] || die "no writer counts"
for w in $writer_counts; do
    # max_connections is 100: leave room for the setup and count connections.
    in_range "$w" 90 || die "bad writer count '$w' (1..90)"
done

if [ -n "$raw_out" ] && [ ! -d "$(dirname -- "$raw_out")" ]; then
    die "no directory for '$raw_out'"
fi

pg_bin=/usr/lib/postgresql/15/bin
[ -x "$pg_bin/initdb" ] ||
    die "PostgreSQL 15 server not found in $pg_bin (apt-get install postgresql-15)"

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

work=""
pg_data=""
cleanup() {
    local rc=$?
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
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user"
    as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
    as_pg() { "$@"; }
fi

echo "== building bench_store in build-bench/" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target bench_store -j "$(nproc)" >/dev/null
bench="$repo/build-bench/bench/store/bench_store"

work=$(mktemp -d "${TMPDIR:-/tmp}/amane-bench-store.XXXXXX")
chmod 755 "$work"
mkdir "$work/sqlite"
pg_data="$work/pg"
mkdir -m 700 "$pg_data"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$pg_data"
fi

# A free loopback port: one that nobody answers on.
port=""
for _ in $(seq 1 200); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || die "no free port found"

echo "== starting PostgreSQL 15 on 127.0.0.1:$port in $pg_data" >&2
as_pg "$pg_bin/initdb" -D "$pg_data" -U bench -A trust -E UTF8 --locale=C \
    >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die "initdb failed"; }
cat >>"$pg_data/postgresql.conf" <<EOF

# amane bench/store/run.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pg_data'
max_connections = 100
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 start >/dev/null ||
    { cat "$pg_data/server.log" >&2; die "PostgreSQL did not start"; }
conninfo="host=127.0.0.1 port=$port user=bench dbname=postgres"

results="$work/results.jsonl"
: >"$results"
# Runs one bench_store invocation and keeps its JSON line.
run_one() {
    local line
    line=$("$bench" "$@")
    echo "$line" >&2
    echo "$line" >>"$results"
    last_line=$line
}
# The JSON lines come from bench_store in a fixed shape; pull one field out.
field() { sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<<"$1"; }

last=$(awk '{ print $NF }' <<<"$writer_counts")
round_notes=()
declare -A round_rate
for round in $(seq 1 "$rounds"); do
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "== round $round/$rounds: fdatasync probe, 1 writer, ${seconds}s (load $load_before)" >&2
    run_one --mode=fsync --dir "$work/sqlite" --writers 1 --seconds "$seconds"
    for w in $writer_counts; do
        for mode in async group single pg; do
            echo "== round $round/$rounds: $mode, $w writer(s), ${seconds}s" >&2
            if [ "$mode" = pg ]; then
                run_one --mode=pg --conninfo "$conninfo" --writers "$w" --seconds "$seconds"
            else
                run_one --mode="$mode" --dir "$work/sqlite" --writers "$w" --seconds "$seconds"
            fi
            if [ "$w" = "$last" ]; then
                round_rate[$mode]=$(field "$last_line" events_per_s)
            fi
        done
    done
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    round_notes+=("$(awk -v r="$round" -v g="${round_rate[group]}" -v s="${round_rate[single]}" \
        -v p="${round_rate[pg]}" -v x="${round_rate[async]}" -v a="$load_before" \
        -v b="$load_after" 'BEGIN {
        printf "round %d: async/single %.1fx, async/pg %.2fx, group/single %.1fx, group/pg %.2fx" \
            " (load average %s -> %s)", r, x / s, x / p, g / s, g / p, a, b }')")
done
if [ -n "$raw_out" ]; then
    cp -- "$results" "$raw_out"
fi

# The run with the median events/s of a mode at a writer count (the lower one of two).
median() {
    local lines n
    lines=$(grep -E "\"mode\":\"$1\",\"writers\":$2," "$results" |
        awk -F'"events_per_s":' '{ split($2, a, ","); print a[1] "\t" $0 }' | sort -g)
    n=$(wc -l <<<"$lines")
    sed -n "$(((n + 1) / 2))p" <<<"$lines" | cut -f2-
}
rate() { awk -v x="$(field "$1" events_per_s)" 'BEGIN { printf "%.0f", x }'; }
lat() { echo "$(field "$1" p50_ms) / $(field "$1" p99_ms)"; }

echo
[ "$rounds" -gt 1 ] && echo "Median of $rounds rounds (each cell is the median run's numbers)."
echo
echo "| writers | async ev/s | async p50 / p99 ms | group ev/s | group p50 / p99 ms" \
    "| single ev/s | single p50 / p99 ms | pg ev/s | pg p50 / p99 ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for w in $writer_counts; do
    row="| $w "
    for mode in async group single pg; do
        line=$(median "$mode" "$w")
        row+="| $(rate "$line") | $(lat "$line") "
    done
    echo "$row|"
done
f=$(median fsync 1)
echo
echo "fdatasync probe (4 KiB rewrite + fdatasync, 1 writer): $(rate "$f") ops/s," \
    "p50 / p99 $(lat "$f") ms"
echo
x=$(field "$(median async "$last")" events_per_s)
g=$(field "$(median group "$last")" events_per_s)
s=$(field "$(median single "$last")" events_per_s)
p=$(field "$(median pg "$last")" events_per_s)
awk -v x="$x" -v g="$g" -v s="$s" -v p="$p" -v w="$last" 'BEGIN {
    printf "At %d writers: async/single = %.1fx, async/pg = %.2fx (targets >= 20x, >= 1x);" \
        " blocking group/single = %.1fx, group/pg = %.2fx\n", w, x / s, x / p, g / s, g / p
}'
if [ "$rounds" -gt 1 ]; then
    printf '  %s\n' "${round_notes[@]}"
fi
