#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the recommendation benchmark, end to end: builds amane and
# bench_recommend in build-benchrec/ (Release), exports the road graph with
# `amane roads export --csv`, starts a throwaway PostgreSQL 15 cluster with
# pgRouting (bench/lib.sh), and in one run measures amane's top-5 of 1,000
# units by road ETA against pgRouting's on the same graph and the same
# snapped points, then the straight-line-versus-road quality figure; prints
# markdown tables and removes every file and process it made on exit.
#
# Usage: bench/recommend/run.sh [--osm FILE] [--units N] [--incidents N]
#                               [--pg-incidents N] [--quality-units N]
#                               [--quality-incidents N] [--seed N] [--only amane|pg]
#                               [--nice N]
#   --osm FILE             the graph (default data/roads/casablanca_center.osm)
#   --units N              units at random road positions (default 1000)
#   --incidents N          incidents timed in amane (default 1000)
#   --pg-incidents N       of those, the first N also asked of pgRouting, each
#                          way (default 200; units → incident takes about 0.25 s
#                          each on the Casablanca graph, the reversed way 15 ms)
#   --quality-units N      units of the straight-line-versus-road figure (default 200)
#   --quality-incidents N  its incidents (default 10000)
#   --seed N               the random positions (default 1)
#   --only W               amane alone (no PostgreSQL), or pg (the peer, and amane
#                          for the rankings it is compared with, but no quality run)
#   --nice N               run bench_recommend and PostgreSQL at niceness N (e.g.
#                          -10, as root) to measure the software rather than its
#                          neighbours on a shared machine; default: not changed
#   BENCH_BUILD_DIR        the build directory (default build-benchrec/ in the repo)
#   TMPDIR                 where the temporary directory goes (default /tmp)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_NAME=bench/recommend/run.sh
# shellcheck source=../lib.sh
. "$repo/bench/lib.sh"

osm="$repo/data/roads/casablanca_center.osm"
args=()
only=""
while [ $# -gt 0 ]; do
    case "$1" in
    --osm) [ $# -ge 2 ] || bench_die "--osm needs a value"; osm=$2; shift 2 ;;
    --osm=*) osm=${1#*=}; shift ;;
    --units | --incidents | --pg-incidents | --quality-units | --quality-incidents | --seed)
        [ $# -ge 2 ] || bench_die "$1 needs a value"
        [[ $2 =~ ^[0-9]{1,8}$ ]] || bench_die "bad value '$2' for $1"
        args+=("$1" "$2"); shift 2 ;;
    --only) [ $# -ge 2 ] || bench_die "--only needs a value"; only=$2; shift 2 ;;
    --nice) [ $# -ge 2 ] || bench_die "--nice needs a value"; BENCH_NICE=$2; shift 2 ;;
    --nice=*) BENCH_NICE=${1#*=}; shift ;;
    --only=*) only=${1#*=}; shift ;;
    -h | --help) sed -n '3,/^set -euo/{/^set -euo/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$1'" ;;
    esac
done
case "$only" in "" | amane | pg) ;; *) bench_die "--only takes amane or pg" ;; esac
BENCH_NICE=${BENCH_NICE:-}
[ -z "$BENCH_NICE" ] || [[ $BENCH_NICE =~ ^-?[0-9]{1,2}$ ]] || bench_die "bad niceness '$BENCH_NICE'"
niced=()
[ -z "$BENCH_NICE" ] || niced=(nice -n "$BENCH_NICE")
[ -f "$osm" ] || bench_die "no road graph '$osm'"
osm=$(cd "$(dirname "$osm")" && pwd)/$(basename "$osm")
cd "$repo"

work=""
cleanup() {
    local rc=$?
    bench_pg_stop
    if [ -n "$work" ]; then
        rm -rf -- "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build=${BENCH_BUILD_DIR:-$repo/build-benchrec}
echo "== building amane and bench_recommend in $build/" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DAMANE_BENCH=ON >/dev/null
cmake --build "$build" --target amane -j "$(nproc)" >/dev/null
cmake --build "$build" --target bench_recommend -j "$(nproc)" >/dev/null
tool="$build/bench/recommend/bench_recommend"

work=$(mktemp -d "${TMPDIR:-/tmp}/amane-bench-recommend.XXXXXX")
chmod 755 "$work"
echo "== amane roads export $osm" >&2
"$build/amane" roads export "$osm" --csv "$work/roads.csv" >&2 ||
    bench_die "amane roads export failed"

peer=()
if [ "$only" != amane ]; then
    bench_pg_start "$work/pg" "shared_buffers = 256MB" "work_mem = 64MB" "fsync = off" \
        "synchronous_commit = off" "full_page_writes = off"
    peer=(--conninfo "$BENCH_PG_CONNINFO")
fi
if [ "$only" = pg ]; then
    args+=(--quality-incidents 0)
fi

echo "== bench_recommend (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"${niced[@]}" "$tool" --osm "$osm" --csv "$work/roads.csv" "${peer[@]}" "${args[@]}"
echo
[ -z "$BENCH_NICE" ] || echo "bench_recommend and PostgreSQL ran at niceness $BENCH_NICE."
echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1);" \
    "load average after the run $(cut -d' ' -f1-3 /proc/loadavg)."
