#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the ingest benchmark of issue 5, end to end: builds amaned, amane
# and ingest_load in build-benchingest/ (Release, -DAMANE_BENCH=ON), then
#   1. seeds a fresh database (`amane demo seed`) in a temporary directory,
#      starts amaned on free loopback ports, creates the units BENCH-0001...
#      and binds the Teltonika and OsmAnd devices to them over the API
#      (ingest_load --setup), and stops it: the template of every run;
#   2. for each protocol, on its own copy of that template: amaned on fresh
#      ports, ingest_load sending positions for --warmup seconds, then
#      measuring for --seconds, while it also watches the WebSocket stream
#      as the demo's dispatcher (report -> position on the console); amaned
#      stopped; then sqlite3 checks that every position ingest_load saw
#      acknowledged is in avl_positions (by device and time), once, counts
#      the rows added that were never acknowledged, and the rows amaned
#      received during the measured window (received_us);
#   MQTT goes through a mosquitto broker started here on a free loopback
#   port: a vehicle's acknowledgement is the broker's PUBACK, which says
#   nothing of amaned (amaned's clients acknowledge to the broker once the
#   batch is durable, docs/avl.md), so its figure is amaned's: the rows it
#   received in the window; before amaned stops, the run waits until it has
#   taken every message the broker acknowledged;
# prints each JSON line on stderr and a markdown table on stdout, with the
# published peer figure, and removes every file and process it made on exit.
#
# Usage: bench/ingest/run.sh [--seconds N] [--warmup N] [--only osmand|teltonika|mqtt]
#                            [--units N] [--tlt-devices N] [--tlt-records R]
#                            [--tlt-rate X] [--tlt-io N] [--osm-devices N]
#                            [--osm-connections C] [--osm-rate X] [--mqtt-devices N]
#                            [--mqtt-rate X] [--perf DIR] [--raw FILE]
#   --seconds N          the measured part of each protocol (default 20)
#   --warmup N           seconds of the same load before it, not counted (default 5)
#   --only P             run one protocol only
#   --units N            units the devices are bound to, round robin (default 500)
#   --tlt-devices N      Teltonika trackers, one TCP connection each (default 5000)
#   --tlt-records R      records per Codec 8 packet (default 10; amaned takes at
#                        most 20 positions per device and second, so 2R <= 20
#                        keeps every packet acknowledged)
#   --tlt-rate X         positions per second per tracker (default 10)
#   --tlt-io N           IO elements per record, 0..7 (default 7: ignition,
#                        movement, GSM, GNSS status, two voltages, odometer)
#   --osm-devices N      OsmAnd phones (default 5000)
#   --osm-connections C  their keep-alive connections (default: one per phone)
#   --osm-rate X         positions per second per phone (default 5; at most 19)
#   --mqtt-devices N     vehicles publishing JSON telemetry at QoS 1, one MQTT
#                        connection each (default 5000)
#   --mqtt-rate X        positions per second per vehicle (default 10; at most 19)
#   --perf DIR           profile amaned (perf record -g, 5 s in the middle of
#                        each measured part) and write the reports into DIR;
#                        the profiler slows the server: do not quote such a run
#   --raw FILE           also write the JSON lines to FILE
#   BENCH_JOBS           parallel build jobs (default 2)
#   BENCH_BUILD_DIR      the build directory, relative to the repository
#                        (default build-benchingest; another one lets two
#                        engineers run the benchmark at once)
#   TMPDIR               where the temporary directory goes (default /tmp)
#
# Targets of issue 5 on a 2-core machine: 50,000 positions/s over Teltonika
# and MQTT, 20,000/s over OsmAnd, each acknowledged only once durable (MQTT:
# see above), and device -> console p99 under 100 ms.
set -euo pipefail

seconds=20
warmup=5
only=""
units=500
tlt_devices=5000
tlt_records=10
tlt_rate=10
tlt_io=7
osm_devices=5000
osm_conns=""
osm_rate=5
mqtt_devices=5000
mqtt_rate=10
perf_dir=""
raw_out=""

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2034 # read by bench/lib.sh
BENCH_NAME=bench/ingest/run.sh
# shellcheck source=../lib.sh
. "$repo/bench/lib.sh"
die() { bench_die "$@"; }

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds | --warmup | --only | --units | --tlt-devices | --tlt-records | --tlt-rate | \
        --tlt-io | --osm-devices | --osm-connections | --osm-rate | --mqtt-devices | --mqtt-rate | \
        --perf | --raw)
        [ $# -ge 2 ] || die "$1 needs a value"
        set -- "$1=$2" "${@:3}"
        continue
        ;;
    --seconds=*) seconds=${1#*=} ;;
    --warmup=*) warmup=${1#*=} ;;
    --only=*) only=${1#*=} ;;
    --units=*) units=${1#*=} ;;
    --tlt-devices=*) tlt_devices=${1#*=} ;;
    --tlt-records=*) tlt_records=${1#*=} ;;
    --tlt-rate=*) tlt_rate=${1#*=} ;;
    --tlt-io=*) tlt_io=${1#*=} ;;
    --osm-devices=*) osm_devices=${1#*=} ;;
    --osm-connections=*) osm_conns=${1#*=} ;;
    --osm-rate=*) osm_rate=${1#*=} ;;
    --mqtt-devices=*) mqtt_devices=${1#*=} ;;
    --mqtt-rate=*) mqtt_rate=${1#*=} ;;
    --perf=*) perf_dir=${1#*=} ;;
    --raw=*) raw_out=${1#*=} ;;
    -h | --help) sed -n '3,/^set -euo/{/^set -euo/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
    esac
    shift
done
# A whole number in [lo, hi].
in_range() { [[ $1 =~ ^[0-9]{1,6}$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
is_rate() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3})?$ ]] && [ "$(jq -n "$1 > 0")" = true ]; }
in_range "$seconds" 1 3600 || die "bad number of seconds '$seconds' (1..3600)"
in_range "$warmup" 0 600 || die "bad warm-up '$warmup' (0..600 seconds)"
in_range "$units" 1 9999 || die "bad number of units '$units' (1..9999)"
in_range "$tlt_devices" 1 9000 || die "bad number of Teltonika devices '$tlt_devices' (1..9000)"
in_range "$tlt_records" 1 255 || die "bad records per packet '$tlt_records' (1..255)"
in_range "$tlt_io" 0 7 || die "bad number of IO elements '$tlt_io' (0..7)"
in_range "$osm_devices" 1 9000 || die "bad number of OsmAnd devices '$osm_devices' (1..9000)"
in_range "$mqtt_devices" 1 9000 || die "bad number of MQTT devices '$mqtt_devices' (1..9000)"
[ -z "$osm_conns" ] || in_range "$osm_conns" 1 "$osm_devices" ||
    die "bad number of OsmAnd connections '$osm_conns' (1..$osm_devices)"
osm_conns=${osm_conns:-$osm_devices}
case "$only" in "" | osmand | teltonika | mqtt) ;; *) die "--only takes osmand, teltonika or mqtt" ;; esac
for tool in cmake sqlite3 jq curl; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
is_rate "$tlt_rate" || die "bad Teltonika rate '$tlt_rate'"
is_rate "$osm_rate" || die "bad OsmAnd rate '$osm_rate'"
is_rate "$mqtt_rate" || die "bad MQTT rate '$mqtt_rate'"
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ -z "$only" ] || [ "$only" = mqtt ]; then
    [ -x "$mosquitto_bin" ] || die "mosquitto is needed for MQTT (apt-get install mosquitto)"
fi
if [ -n "$perf_dir" ]; then
    command -v perf >/dev/null || die "--perf needs perf (apt-get install linux-perf)"
    mkdir -p "$perf_dir"
fi
if [ -n "$raw_out" ] && [ ! -d "$(dirname -- "$raw_out")" ]; then
    die "no directory for '$raw_out'"
fi
# Two connections per device (client and server side), plus some.
max_conns=$((tlt_devices > osm_conns ? tlt_devices : osm_conns))
max_conns=$((mqtt_devices > max_conns ? mqtt_devices : max_conns))
# MQTT: the vehicles' connections to the broker and the broker's own (3 per vehicle).
need_fds=$((3 * max_conns + 1000))
if [ "$(ulimit -n)" -lt "$need_fds" ]; then
    ulimit -n "$need_fds" 2>/dev/null || die "needs $need_fds open files (ulimit -n)"
fi

cd "$repo"
build="${BENCH_BUILD_DIR:-build-benchingest}"
jobs=${BENCH_JOBS:-2}
echo "== building amaned and amane in $build/ (-j$jobs)" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DAMANE_BENCH=ON >/dev/null
cmake --build "$build" --target amaned amane -j "$jobs" >/dev/null
# Once bench/CMakeLists.txt lists ingest, ingest_load is a target of the main
# build; until then it is built on its own.
if grep -Eq '^[[:space:]]*add_subdirectory\([[:space:]]*ingest[[:space:]]*\)' bench/CMakeLists.txt; then
    cmake --build "$build" --target ingest_load -j "$jobs" >/dev/null
    load="$repo/$build/bench/ingest/ingest_load"
else
    cmake -S bench/ingest -B "$build/bench-ingest" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build/bench-ingest" -j "$jobs" >/dev/null
    load="$repo/$build/bench-ingest/ingest_load"
fi

work=""
amaned_pid=""
perf_pid=""
mosq_pid=""
cleanup() {
    local rc=$?
    if [ -n "$mosq_pid" ] && kill -0 "$mosq_pid" 2>/dev/null; then
        kill "$mosq_pid" 2>/dev/null || true
        wait "$mosq_pid" 2>/dev/null || true
    fi
    if [ -n "$perf_pid" ] && kill -0 "$perf_pid" 2>/dev/null; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    if [ -n "$amaned_pid" ] && kill -0 "$amaned_pid" 2>/dev/null; then
        kill "$amaned_pid" 2>/dev/null || true
        wait "$amaned_pid" 2>/dev/null || true
    fi
    [ -z "$work" ] || rm -rf -- "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/amane-bench-ingest.XXXXXX")

# 1234567 -> 1,234,567
fmt() { jq -r '. as $n | if $n >= 1000 then ($n | floor | tostring | [scan("\\d{1,3}(?=(?:\\d{3})*$)")] | join(",")) else ($n | tostring) end' <<<"$1"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# CPU seconds amaned has used (user + system), from /proc.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
# Bytes amaned has caused to be written to storage, from /proc.
written() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }

# A loopback port nobody listens on, below the ephemeral range (32768 and up
# on Linux) so that none of the many client sockets of a run holds it.
free_port() {
    local candidate
    for _ in $(seq 1 200); do
        candidate=$((10000 + RANDOM % 22000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    die "no free port found"
}

# Starts amaned on the database $1 (log in $2) on three free ports: sets
# amaned_pid, api_port, osm_port, tlt_port. Tries other ports if one was taken
# in the meantime. Further arguments go to amaned.
start_amaned() {
    local db=$1 log=$2
    shift 2
    for _ in 1 2 3 4 5; do
        api_port=$(free_port)
        osm_port=$(free_port)
        tlt_port=$(free_port)
        while [ "$osm_port" = "$api_port" ]; do osm_port=$(free_port); done
        while [ "$tlt_port" = "$api_port" ] || [ "$tlt_port" = "$osm_port" ]; do
            tlt_port=$(free_port)
        done
        "$build/amaned" --server.listen=127.0.0.1 --server.port="$api_port" \
            --avl.osmand_port="$osm_port" --avl.teltonika_port="$tlt_port" --store.path="$db" \
            "$@" >"$log" 2>&1 &
        amaned_pid=$!
        for _ in $(seq 1 100); do
            if curl -fsS "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1; then
                return 0
            fi
            kill -0 "$amaned_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$amaned_pid" 2>/dev/null; then
            break # running but not answering: not a port taken
        fi
        wait "$amaned_pid" 2>/dev/null || true
        amaned_pid=""
        grep -q 'binding' "$log" || break
        echo "== a port was taken, trying others" >&2
    done
    tail -n 20 "$log" >&2
    die "amaned did not start"
}

# A counter of amaned's /metrics (0 when absent).
metric() {
    curl -fsS "http://127.0.0.1:$api_port/metrics" 2>/dev/null |
        awk -v m="$1" '$1 == m { v = $2 } END { printf "%d\n", v + 0 }'
}

# Starts mosquitto on a free loopback port (mq_port, mosq_pid): no persistence,
# and queues deep enough that a subscriber falling behind is not dropped.
start_mosquitto() {
    mq_port=$(free_port)
    printf '%s\n' "listener $mq_port 127.0.0.1" "allow_anonymous true" "persistence false" \
        "max_queued_messages 1000000" "max_inflight_messages 1000" >"$work/mosquitto.conf"
    "$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    mosq_pid=$!
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$mq_port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    cat "$work/mosquitto.log" >&2
    die "mosquitto did not start"
}

stop_amaned() {
    kill "$amaned_pid"
    wait "$amaned_pid" || true
    amaned_pid=""
}

# ------------------------------------------------------------------ template
template="$work/template"
mkdir -p "$template"
echo "== amane demo seed into $template/amane.db" >&2
"$build/amane" --store.path="$template/amane.db" demo seed >"$work/seed.log" 2>&1 ||
    { cat "$work/seed.log" >&2; die "amane demo seed failed"; }
start_amaned "$template/amane.db" "$work/template.log"
echo "== $units units; Teltonika, OsmAnd and MQTT devices bound over the API" >&2
if [ -z "$only" ] || [ "$only" = teltonika ]; then
    "$load" --setup teltonika --port "$api_port" --units "$units" --devices "$tlt_devices" >&2
fi
if [ -z "$only" ] || [ "$only" = osmand ]; then
    "$load" --setup osmand --port "$api_port" --units "$units" --devices "$osm_devices" >&2
fi
if [ -z "$only" ] || [ "$only" = mqtt ]; then
    "$load" --setup mqtt --port "$api_port" --units "$units" --devices "$mqtt_devices" >&2
fi
stop_amaned

# ------------------------------------------------------------------ runs
protocols=()
for p in teltonika osmand mqtt; do
    if [ -z "$only" ] || [ "$only" = "$p" ]; then protocols+=("$p"); fi
done
declare -A result check notes stored
for proto in "${protocols[@]}"; do
    dir="$work/$proto"
    mkdir -p "$dir"
    cp -a "$template/." "$dir/"
    rows_before=$(sqlite3 "$dir/amane.db" "SELECT count(*) FROM avl_positions")
    extra=()
    if [ "$proto" = mqtt ]; then
        start_mosquitto
        extra=(--avl.mqtt_host=127.0.0.1 --avl.mqtt_port="$mq_port")
    fi
    start_amaned "$dir/amane.db" "$dir/amaned.log" "${extra[@]}"
    if [ "$proto" = teltonika ]; then
        args=(--protocol teltonika --port "$tlt_port" --devices "$tlt_devices"
            --records "$tlt_records" --rate-per-device "$tlt_rate" --io "$tlt_io")
    elif [ "$proto" = mqtt ]; then
        args=(--protocol mqtt --port "$mq_port" --devices "$mqtt_devices"
            --rate-per-device "$mqtt_rate")
        # amaned's client subscribes once connected: wait for it.
        for _ in $(seq 1 100); do
            [ "$(metric amane_avl_mqtt_connects_total)" -ge 1 ] && break
            sleep 0.1
        done
    else
        args=(--protocol osmand --port "$osm_port" --devices "$osm_devices"
            --connections "$osm_conns" --rate-per-device "$osm_rate")
    fi
    args+=(--stream-port "$api_port" --units "$units")
    if [ -n "$perf_dir" ]; then
        # Connecting takes a few seconds; the profile covers the middle of the measured part.
        (sleep $((3 + warmup + seconds / 2)) &&
            exec perf record -g -o "$dir/perf.data" -p "$amaned_pid" -- sleep 5) \
            >"$dir/perf.log" 2>&1 &
        perf_pid=$!
    fi
    before=$(loadavg)
    cpu0=$(cpu_s "$amaned_pid")
    w0=$(written "$amaned_pid")
    echo "== $proto: ${args[*]} --warmup $warmup --seconds $seconds (load average $before)" >&2
    line=$("$load" "${args[@]}" --warmup "$warmup" --seconds "$seconds" --acked "$dir/acked.csv")
    if [ "$proto" = mqtt ]; then
        # The broker acknowledged these; amaned takes them at its pace: wait until it has
        # them all (or 60 s), then its last batch is written as it stops.
        want=$(jq .acked_total <<<"$line")
        for _ in $(seq 1 600); do
            [ "$(metric amane_avl_mqtt_messages_total)" -ge "$want" ] && break
            sleep 0.1
        done
        echo "== mqtt: amaned took $(metric amane_avl_mqtt_messages_total) of $want messages" \
            "($(metric amane_avl_mqtt_refused_total) refused)" >&2
    fi
    cpu1=$(cpu_s "$amaned_pid")
    w1=$(written "$amaned_pid")
    after=$(loadavg)
    echo "$line" >&2
    result[$proto]=$line
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        perf_pid=""
        perf report -i "$dir/perf.data" --stdio --no-children --sort dso,symbol -g none \
            --percent-limit 0.7 >"$perf_dir/$proto.txt" 2>/dev/null || true
        # Per thread: the event loop, the store's writer, the trail flusher...
        perf script -i "$dir/perf.data" -F tid 2>/dev/null | sort | uniq -c | sort -rn |
            head -n 5 >"$perf_dir/$proto.threads.txt" || true
        for tid in $(awk '{ print $2 }' "$perf_dir/$proto.threads.txt" | head -n 3); do
            perf report -i "$dir/perf.data" --tid="$tid" --percentage relative --stdio \
                --no-children --sort dso,symbol -g none --percent-limit 1 \
                >"$perf_dir/$proto.tid-$tid.txt" 2>/dev/null || true
        done
        cp "$dir/perf.data" "$perf_dir/$proto.perf.data" 2>/dev/null || true
        echo "== perf reports in $perf_dir/$proto*.txt (data: $perf_dir/$proto.perf.data)" >&2
    fi
    stop_amaned
    if [ -n "$mosq_pid" ]; then
        kill "$mosq_pid" 2>/dev/null || true
        wait "$mosq_pid" 2>/dev/null || true
        mosq_pid=""
    fi
    grep -E 'level=(error|warn)' "$dir/amaned.log" | head -n 5 >&2 || true

    # Every acknowledged position stored, by device and time; no row that was not acknowledged.
    acked_db="$dir/acked.db"
    verdict=$(sqlite3 "$acked_db" <<EOF
CREATE TABLE acked(device TEXT NOT NULL, time_us INTEGER NOT NULL);
.mode csv
.import '$dir/acked.csv' acked
.mode list
.separator ' '
ATTACH '$dir/amane.db' AS amane;
SELECT (SELECT count(*) FROM acked),
       (SELECT count(*) FROM (SELECT DISTINCT device, time_us FROM acked)),
       (SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM amane.avl_positions p
            WHERE p.device = a.device AND p.time_us = a.time_us)),
       (SELECT count(*) FROM amane.avl_positions) - $rows_before;
EOF
    )
    read -r n_acked n_distinct n_missing n_rows <<<"$verdict"
    # What amaned received in the measured window and stored (all durable by now).
    n_window=$(sqlite3 "$dir/amane.db" "SELECT count(*) FROM avl_positions WHERE received_us >= \
        $(jq .window_start_us <<<"$line") AND received_us < $(jq .window_end_us <<<"$line")")
    stored[$proto]=$((n_window / seconds))
    [ "$n_acked" = "$(jq .acked_total <<<"$line")" ] ||
        die "$proto: $n_acked lines in acked.csv, the summary says $(jq .acked_total <<<"$line")"
    if [ "$n_missing" = 0 ] && [ "$n_distinct" = "$n_acked" ]; then
        check[$proto]="all $(fmt "$n_acked") acknowledged positions stored"
        if [ "$n_rows" -gt "$n_acked" ]; then
            check[$proto]+=" (and $((n_rows - n_acked)) never acknowledged)"
        else
            check[$proto]+=", no other row"
        fi
    else
        check[$proto]="**FAILED**: $n_acked acknowledged ($n_distinct distinct), $n_missing missing, $n_rows rows added"
    fi
    echo "== $proto check: ${check[$proto]}" >&2
    notes[$proto]=$(jq -r --arg before "$before" --arg after "$after" --arg cpu0 "$cpu0" \
        --arg cpu1 "$cpu1" --arg w0 "$w0" --arg w1 "$w1" '
        (($cpu1 | tonumber) - ($cpu0 | tonumber)) as $cpu
        | (($w1 | tonumber) - ($w0 | tonumber)) as $w
        | "\(.protocol): load average \($before) -> \($after); amaned used \($cpu * 100 | round / 100) CPU s"
          + " (\(if .acked_total > 0 then ($cpu * 1e6 / .acked_total | round) else "-" end) µs per"
          + " acknowledged position) and wrote \($w / 1048576 | round) MiB"
          + " (\(if .acked_total > 0 then ($w / .acked_total | round) else "-" end) bytes per position)"
          + " over the whole run (warm-up and drain included, \(.acked_total) positions)"' <<<"$line")
done

if [ -n "$raw_out" ]; then
    for proto in "${protocols[@]}"; do echo "${result[$proto]}"; done >"$raw_out"
fi

# ------------------------------------------------------------------ table
echo
echo "Positions acknowledged per second once durable (report → trail batch committed → acknowledgement;"
echo "MQTT: the broker's PUBACK, see below), ${seconds} s measured after ${warmup} s of warm-up, $(nproc) processors,"
echo "$units units; amaned Release, default settings. 'stored/s': rows amaned received in the measured window"
echo "(received_us), all durable at the check. 'report→console': from sending a report to its position on a"
echo "dispatcher's WebSocket stream (avl.positions: each unit at most twice a second, so with several devices per unit only some positions are shown)."
echo
echo "| protocol | devices / connections | offered | positions acknowledged/s (min–max of each second) | stored/s | target | report→ack p50 / p99, ms | report→console p50 / p99, ms | errors | stored (sqlite3 check) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for proto in "${protocols[@]}"; do
    j=${result[$proto]}
    rate=$(jq '.rate | round' <<<"$j")
    if [ "$proto" = teltonika ]; then
        name="amane, Teltonika Codec 8 TCP ($(jq .records_per_report <<<"$j") records/packet, $(jq .io_elements <<<"$j") IO elements/record)"
        target=50000
    elif [ "$proto" = mqtt ]; then
        name="amane, MQTT 3.1.1 QoS 1 JSON telemetry through mosquitto (acknowledged: broker PUBACK)"
        target=50000
        rate=${stored[$proto]} # the broker's PUBACKs say nothing of amaned
    else
        name="amane, OsmAnd HTTP/1.1 keep-alive (GET, one position/request)"
        target=20000
    fi
    met="not met"
    [ "$rate" -lt "$target" ] || met="met"
    errs=$(jq -r '.errors | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")' <<<"$j")
    console=$(jq -r 'if .stream.latency.n > 0 then "\(.stream.latency.p50_ms | round) / \(.stream.latency.p99_ms | round) (n \(.stream.latency.n))" else "–" end' <<<"$j")
    printf '| %s | %s / %s | %s/s | **%s** (%s–%s) | %s | ≥ %s (%s) | %s / %s | %s | %s | %s |\n' "$name" \
        "$(fmt "$(jq .devices <<<"$j")")" "$(fmt "$(jq .connections <<<"$j")")" \
        "$(fmt "$(jq .offered_per_s <<<"$j")")" "$(fmt "$(jq '.rate | round' <<<"$j")")" \
        "$(fmt "$(jq .per_second_min <<<"$j")")" "$(fmt "$(jq .per_second_max <<<"$j")")" \
        "$(fmt "${stored[$proto]}")" "$(fmt "$target")" "$met" \
        "$(jq '.latency.p50_ms * 10 | round / 10' <<<"$j")" "$(jq '.latency.p99_ms * 10 | round / 10' <<<"$j")" \
        "$console" "${errs:-0}" "${check[$proto]}"
done
echo "| Traccar: 8,000 messages/s (published) — peer, not run here | – | – | 8,000 | – | – | – | – | – | source: Traccar documentation, 'Performance' |"
echo
for proto in "${protocols[@]}"; do echo "- ${notes[$proto]}"; done
