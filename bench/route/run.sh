#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the routing benchmark, end to end: builds amane's libraries and
# bench_route in build-benchroute/ (Release, -DAMANE_BENCH=ON), then in one
# run, for an OSM extract (OSRM's Monaco benchmark file) and a synthetic
# road-like graph of a million nodes: the contraction hierarchy's build time,
# shortcuts and memory, and 1,000 random point-to-point queries by the
# hierarchy and by plain Dijkstra (the named peer) on the same pairs, every
# answer compared; prints a markdown table (see bench/route/bench_route.c).
#
# Usage: bench/route/run.sh [--osm FILE] [--nodes N] [--shape N] [--queries N]
#                           [--seed N] [--nice N]
#   --osm FILE    the extract (default: data/roads/monaco.osm.pbf or
#                 data/geo/monaco.osm.pbf, whichever exists; "" for none)
#   --nodes N     nodes of the synthetic graph, at least (default 1000000; 0: none)
#   --shape N     shape nodes per block of it, at most (default 4; 0: a bare grid
#                 of intersections, the hardest case for a hierarchy)
#   --queries N   random pairs per graph (default 1000; Dijkstra takes about
#                 0.1 to 0.3 s a pair on the million-node graph)
#   --seed N      of the synthetic graph and the pairs (default 1)
#   --nice N      run bench_route at niceness N (e.g. -10, as root) to measure
#                 the software rather than its neighbours on a shared machine
#   BENCH_BUILD_DIR  the build directory (default build-benchroute/ in the repo)
# Exit status: 0, or 1 if any hierarchy answer differed from Dijkstra's.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

die() {
    echo "bench/route/run.sh: $*" >&2
    exit 2
}

osm="unset"
args=()
niceness=""
while [ $# -gt 0 ]; do
    case "$1" in
    --osm) [ $# -ge 2 ] || die "--osm needs a value"; osm=$2; shift 2 ;;
    --osm=*) osm=${1#*=}; shift ;;
    --nodes | --shape | --queries | --seed)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^[0-9]{1,9}$ ]] || die "bad value '$2' for $1"
        args+=("$1" "$2"); shift 2 ;;
    --nodes=* | --shape=* | --queries=* | --seed=*)
        v=${1#*=}
        [[ $v =~ ^[0-9]{1,9}$ ]] || die "bad value '$v' for ${1%%=*}"
        args+=("${1%%=*}" "$v"); shift ;;
    --nice) [ $# -ge 2 ] || die "--nice needs a value"; niceness=$2; shift 2 ;;
    --nice=*) niceness=${1#*=}; shift ;;
    -h | --help) sed -n '3,/^set -euo/{/^set -euo/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
    esac
done
[ -z "$niceness" ] || [[ $niceness =~ ^-?[0-9]{1,2}$ ]] || die "bad niceness '$niceness'"
if [ "$osm" = unset ]; then
    osm=""
    for f in "$repo/data/roads/monaco.osm.pbf" "$repo/data/geo/monaco.osm.pbf"; do
        if [ -f "$f" ]; then
            osm=$f
            break
        fi
    done
    [ -n "$osm" ] || echo "bench/route/run.sh: no Monaco extract under data/; give one with --osm" >&2
fi
if [ -n "$osm" ]; then
    [ -f "$osm" ] || die "no such file '$osm'"
    args+=(--osm "$osm")
fi

build=${BENCH_BUILD_DIR:-$repo/build-benchroute}
echo "== building amane's libraries and bench_route in $build/" >&2
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DAMANE_BENCH=ON -DAMANE_TESTS=OFF \
    >/dev/null
cmake --build "$build" --target bench_route -j "$(nproc)" >/dev/null
tool="$build/bench/route/bench_route"

echo "== $(nproc) processors, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run" >&2
if [ -n "$niceness" ]; then
    exec nice -n "$niceness" "$tool" "${args[@]}"
fi
exec "$tool" "${args[@]}"
