#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the records benchmark, end to end: builds amane, amaned and the
# three programs of bench/records in build-benchrecords/ (Release), then
#   1. generates the persons, vehicles and hotlist (`amane records generate`,
#      CSV) and plants the persons of the spelling table
#      (tests/unit/data/name_pairs.tsv, `bench_records plant`);
#   2. imports them into a fresh store (`amane records import`, timed: the
#      records/s of each kind);
#   3. in process (`bench_records run`): loads the hotlist and the name index
#      (time, memory), draws the query sets and times every name search and
#      hotlist check one at a time, with recall@10;
#   4. end to end: amaned on the same store on a free loopback port, and
#      records_httpload sending the same queries over HTTP, where each read
#      waits for its access-log entry to be durable;
#   5. the named peer: a throwaway PostgreSQL 15 cluster (bench/lib.sh) with
#      pg_trgm, the same CSV loaded by COPY and indexed (pg_load.sql, timed
#      per step), and records_pgpeer asking the same queries one at a time;
# prints each JSON line and markdown tables, and removes every file and
# process it made on exit (unless --work keeps them).
#
# Usage: bench/records/run.sh [--persons N] [--vehicles N] [--hotlist N]
#                             [--names N] [--plates N] [--pg-names N] [--pg-spelling N]
#                             [--pg-op sim|word|both] [--pg-timeout-ms MS] [--pg-two-pass]
#                             [--http-seconds S] [--http-connections "1 16"]
#                             [--seed S] [--only amane|pg] [--work DIR]
#                             [--raw FILE] [--nice N]
#   --persons N        generated persons (default 10000000)
#   --vehicles N       generated vehicles (default 5000000)
#   --hotlist N        hotlist entries (default 100000)
#   --names N          name queries drawn from the stored persons (default 2000)
#   --plates N         plate checks, half on hotlist entries (default 2000)
#   --pg-names N       of the name queries, the first N asked of PostgreSQL
#                      (default 100: on 10 M persons a pg_trgm query takes
#                      seconds); the plate set goes whole
#   --pg-spelling N    of the spelling queries, N evenly spaced asked of
#                      PostgreSQL (default 60; 0: all)
#   --pg-op O          the pg_trgm search: sim (names % q, order by
#                      similarity), word (q <% names, order by
#                      word_similarity), or both (default)
#   --pg-timeout-ms MS statement_timeout of the peer's queries (default 30000)
#   --pg-two-pass      ask each name query of the peer with LIMIT 10 (timed),
#                      then with LIMIT 100 (untimed) when the person is not
#                      in the first 10; default (--pg-one-pass): once with
#                      LIMIT 100, timed, its first 10 rows as the LIMIT 10
#                      answer (a trigram search costs the same whatever the
#                      LIMIT: on 1 M persons p50 142 vs 170 ms, p99 1.9 vs
#                      2.9 s, the same recall, one pass vs two)
#   --http-seconds S   length of each HTTP run (default 20, after 3 s of warm-up)
#   --http-connections L  connections of the HTTP runs, one run each
#                      (default "1 16"); 0 skips the HTTP part
#   --seed S           the generator's and the queries' seed (default 1)
#   --only W           amane alone (no PostgreSQL), or pg (no HTTP; the
#                      data, the imports and the in-process run still make
#                      the queries the peer asks)
#   --work DIR         keep every file in DIR (made if missing) and reuse
#                      what is there: the CSV files, the imported store,
#                      the PostgreSQL cluster (then not loaded again)
#   --raw FILE         also write the JSON lines to FILE
#   --nice N           run the programs and PostgreSQL at niceness N
#   BENCH_BUILD_DIR    the build directory (default build-benchrecords/)
#   TMPDIR             where the temporary directory goes (default /tmp)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_NAME=bench/records/run.sh
# shellcheck source=../lib.sh
. "$repo/bench/lib.sh"

persons=10000000
vehicles=5000000
hotlist=100000
names=2000
plates=2000
pg_names=100
pg_spelling=60
pg_one_pass=yes
pg_op=both
pg_timeout=30000
http_seconds=20
http_conns="1 16"
seed=1
only=""
keep=""
raw_out=""
BENCH_NICE=${BENCH_NICE:-}
num() { [[ $2 =~ ^[0-9]{1,9}$ ]] || bench_die "bad value '$2' for $1"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --persons | --vehicles | --hotlist | --names | --plates | --pg-names | --pg-spelling | \
        --pg-timeout-ms | --http-seconds | --seed)
        [ $# -ge 2 ] || bench_die "$1 needs a value"
        num "$1" "$2"
        case "$1" in
        --persons) persons=$2 ;;
        --vehicles) vehicles=$2 ;;
        --hotlist) hotlist=$2 ;;
        --names) names=$2 ;;
        --plates) plates=$2 ;;
        --pg-names) pg_names=$2 ;;
        --pg-spelling) pg_spelling=$2 ;;
        --pg-timeout-ms) pg_timeout=$2 ;;
        --http-seconds) http_seconds=$2 ;;
        --seed) seed=$2 ;;
        esac
        shift 2 ;;
    --pg-op) [ $# -ge 2 ] || bench_die "--pg-op needs a value"; pg_op=$2; shift 2 ;;
    --pg-one-pass) pg_one_pass=yes; shift ;;
    --pg-two-pass) pg_one_pass=no; shift ;;
    --http-connections) [ $# -ge 2 ] || bench_die "$1 needs a value"; http_conns=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || bench_die "--only needs a value"; only=$2; shift 2 ;;
    --work) [ $# -ge 2 ] || bench_die "--work needs a value"; keep=$2; shift 2 ;;
    --raw) [ $# -ge 2 ] || bench_die "--raw needs a value"; raw_out=$2; shift 2 ;;
    --nice) [ $# -ge 2 ] || bench_die "--nice needs a value"; BENCH_NICE=$2; shift 2 ;;
    -h | --help) sed -n '3,/^set -euo/{/^set -euo/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bench_die "unknown argument '$1'" ;;
    esac
done
case "$only" in "" | amane | pg) ;; *) bench_die "--only takes amane or pg" ;; esac
case "$pg_op" in sim | word | both) ;; *) bench_die "--pg-op takes sim, word or both" ;; esac
[ "$persons" -ge 1000 ] || bench_die "at least 1000 persons"
[ "$vehicles" -ge 100 ] || bench_die "at least 100 vehicles"
for c in $http_conns; do num --http-connections "$c"; done
[ -z "$BENCH_NICE" ] || [[ $BENCH_NICE =~ ^-?[0-9]{1,2}$ ]] || bench_die "bad niceness '$BENCH_NICE'"
niced=()
[ -z "$BENCH_NICE" ] || niced=(nice -n "$BENCH_NICE")
command -v jq >/dev/null || bench_die "jq is needed to read the results (apt-get install jq)"
if [ -n "$raw_out" ] && [ ! -d "$(dirname -- "$raw_out")" ]; then
    bench_die "no directory for '$raw_out'"
fi
cd "$repo"

work=""
amaned_pid=""
cleanup() {
    local rc=$?
    if [ -n "$amaned_pid" ] && kill -0 "$amaned_pid" 2>/dev/null; then
        kill "$amaned_pid" 2>/dev/null || true
        wait "$amaned_pid" 2>/dev/null || true
    fi
    bench_pg_stop
    if [ -n "$work" ] && [ -z "$keep" ]; then
        rm -rf -- "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build=${BENCH_BUILD_DIR:-$repo/build-benchrecords}
echo "== building amane, amaned and bench/records in $build/" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DAMANE_BENCH=ON >/dev/null
cmake --build "$build" --target amane amaned bench_records records_pgpeer records_httpload \
    -j "$(nproc)" >/dev/null
tools="$build/bench/records"
amane=("$build/amane")

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    work=$(cd "$keep" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/amane-bench-records.XXXXXX")
fi
chmod 755 "$work"
data="$work/data"
queries="$work/queries"
mkdir -p "$data" "$queries"
chmod 755 "$data" "$queries"
jsons=()
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
notes=("Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load average at the start $(loadavg).")

# ------------------------------------------------------------------ 1. data
pairs="$repo/tests/unit/data/name_pairs.tsv"
if [ ! -f "$data/persons.csv" ]; then
    echo "== generating $persons persons, $vehicles vehicles, $hotlist hotlist entries (seed $seed)" >&2
    t0=$(now)
    "${niced[@]}" "${amane[@]}" records generate --out "$data" --persons "$persons" \
        --vehicles "$vehicles" --hotlist "$hotlist" --seed "$seed" --format csv >&2 ||
        bench_die "amane records generate failed"
    notes+=("Generated in $(secs "$t0" "$(now)") s: $(du -sh "$data" | cut -f1) of CSV.")
fi
chmod 644 "$data"/*.csv
spelling=()
if [ -f "$pairs" ]; then
    if [ ! -f "$data/spelling.tsv" ]; then
        "$tools/bench_records" plant --pairs "$pairs" --persons "$data/persons.csv" \
            --out "$data" --seed "$seed"
        chmod 644 "$data/planted.csv"
    fi
    spelling=(--pairs "$pairs" --spelling "$data/spelling.tsv")
    cp "$data/spelling.tsv" "$queries/spelling.tsv"
else
    echo "== no spelling table ($pairs): no spelling queries" >&2
    notes+=("No spelling table: $pairs did not exist.")
fi

# ------------------------------------------------------------------ 2. import
db="$work/amane/records.db"
import_rows=()
if [ ! -f "$db" ]; then
    mkdir -p "$work/amane"
    import_one() {
        local file=$1 kind=$2 label=$3 t0 t1 line r
        t0=$(now)
        line=$("${niced[@]}" "${amane[@]}" --store.path="$db" records import "$file" --kind "$kind" 2>&1) ||
            { echo "$line" >&2; bench_die "amane records import $file failed"; }
        t1=$(now)
        echo "== $label: $line" >&2
        # "imported N persons in X s (R records/s), sha256 ..."
        local n s
        n=$(sed -n 's/^imported \([0-9]*\) .* in \([0-9.]*\) s.*/\1/p' <<<"$line")
        s=$(sed -n 's/^imported \([0-9]*\) .* in \([0-9.]*\) s.*/\2/p' <<<"$line")
        r=$(sed -n 's/.*(\([0-9]*\) records\/s).*/\1/p' <<<"$line")
        import_rows+=("| $label | $n | $s | $r | $(secs "$t0" "$t1") | $(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') |")
    }
    echo "== amane records import into $db (load average $(loadavg))" >&2
    import_one "$data/persons.csv" persons "persons"
    [ ! -f "$data/planted.csv" ] || import_one "$data/planted.csv" persons "planted persons (spelling table)"
    import_one "$data/vehicles.csv" vehicles "vehicles"
    import_one "$data/hotlist.csv" hotlist "hotlist"
    notes+=("amane store after the imports: $(du -sh "$work/amane" | cut -f1) ($(du -sh "$db" | cut -f1) database file).")
fi

# ------------------------------------------------------------------ 3. in process
amane_json=""
echo "== bench_records run: index load, $names name queries, $plates plate checks (load average $(loadavg))" >&2
# The subsets the peer asks are timed again on their own (cheap), so
# that a run of either side alone can be set beside the other's.
subsets=(--subset-names "$pg_names" --subset-spelling "$pg_spelling")
amane_json=$("${niced[@]}" "$tools/bench_records" run --db "$db" --out "$queries" \
    "${spelling[@]}" --names "$names" --plates "$plates" --seed "$seed" "${subsets[@]}")
echo "$amane_json" >&2
jsons+=("$amane_json")

# ------------------------------------------------------------------ 4. HTTP
http_json=()
if [ "$only" != pg ] && [ "$http_conns" != 0 ]; then
    password="bench-records-$RANDOM$RANDOM"
    if ! "${amane[@]}" --store.path="$db" user list 2>/dev/null | grep -q benchrec; then
        printf '%s\n' "$password" | "${amane[@]}" --store.path="$db" user add benchrec \
            --role dispatcher --password-stdin >/dev/null 2>&1 ||
            bench_die "amane user add failed"
    else
        printf '%s\n' "$password" | "${amane[@]}" --store.path="$db" user passwd benchrec \
            --password-stdin >/dev/null 2>&1 || bench_die "amane user passwd failed"
    fi
    port=$(bench_free_port)
    echo "== starting amaned on 127.0.0.1:$port (loads the name index first)" >&2
    t0=$(now)
    "${niced[@]}" "$build/amaned" --server.listen=127.0.0.1 --server.port="$port" \
        --store.path="$db" --server.web_root="$repo/web" >"$work/amaned.log" 2>&1 &
    amaned_pid=$!
    ready=""
    for _ in $(seq 1 12000); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            ready=1
            break
        fi
        kill -0 "$amaned_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ready" ] || { tail -n 20 "$work/amaned.log" >&2; bench_die "amaned did not start"; }
    rss=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$amaned_pid/status")
    notes+=("amaned answered /healthz $(secs "$t0" "$(now)") s after start; resident memory then $rss MiB.")
    for c in $http_conns; do
        for kind in names plates; do
            echo "== HTTP $kind, $c connection(s), ${http_seconds}s (load average $(loadavg))" >&2
            line=$(printf '%s\n' "$password" | "${niced[@]}" "$tools/records_httpload" --port "$port" \
                --kind "$kind" --file "$queries/$kind.tsv" --user benchrec --connections "$c" \
                --seconds "$http_seconds" --warmup 3)
            echo "$line" >&2
            http_json+=("$line")
            jsons+=("$line")
        done
    done
    rss=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$amaned_pid/status")
    notes+=("amaned resident memory after the HTTP runs: $rss MiB.")
    kill "$amaned_pid"
    wait "$amaned_pid" || true
    amaned_pid=""
    grep -E '"level":"(error|warn)"|level=(error|warn)' "$work/amaned.log" | head -n 5 >&2 || true
fi

# ------------------------------------------------------------------ 5. PostgreSQL
pg_json=()
pg_steps=()
if [ "$only" != amane ]; then
    pgconf=("shared_buffers = 4GB" "effective_cache_size = 16GB" "work_mem = 64MB"
        "maintenance_work_mem = 2GB" "max_parallel_maintenance_workers = 2"
        "wal_level = minimal" "max_wal_senders = 0" "max_wal_size = 20GB"
        "checkpoint_timeout = 30min" "jit = off")
    if [ -d "$work/pg" ] && [ -n "$keep" ]; then
        # A kept cluster: start it again on a free port, loaded already.
        BENCH_PG_PORT=$(bench_free_port)
        bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w -t 120 \
            -o "-p $BENCH_PG_PORT" start >/dev/null || bench_die "PostgreSQL did not start"
        BENCH_PG_DATA="$work/pg"
        BENCH_PG_CONNINFO="host=127.0.0.1 port=$BENCH_PG_PORT user=bench dbname=postgres"
        loaded=1
    else
        rm -rf -- "$work/pg" "$work/pg.initdb.log"
        bench_pg_start "$work/pg" "${pgconf[@]}"
        loaded=""
    fi
    # pg_trgm takes letters by the database's LC_CTYPE: under "C" it would
    # see no letters in Arabic names at all, so the database is C.UTF-8.
    conninfo="host=127.0.0.1 port=$BENCH_PG_PORT user=bench dbname=records"
    if [ -z "$loaded" ]; then
        psql -X -q -v ON_ERROR_STOP=1 "$BENCH_PG_CONNINFO" -c \
            "CREATE DATABASE records TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'" ||
            bench_die "cannot create the database"
        "$tools/bench_records" pgprep --db "$db" --out "$data"
        chmod 644 "$data"/*.csv
        cols=$(head -n 1 "$data/persons.csv" | tr -d '\r')
        planted=()
        [ ! -f "$data/planted.csv" ] || planted=(-v planted_csv="$data/planted.csv")
        echo "== PostgreSQL: COPY and indexes (pg_load.sql; load average $(loadavg))" >&2
        t0=$(now)
        "${niced[@]}" psql -X -v ON_ERROR_STOP=1 "$conninfo" -v persons_csv="$data/persons.csv" \
            -v persons_cols="$cols" "${planted[@]}" -v vehicles_csv="$data/vehicles_pg.csv" \
            -v hotlist_csv="$data/hotlist_pg.csv" -f bench/records/pg_load.sql \
            >"$work/pg_load.log" 2>&1 || { tail -n 20 "$work/pg_load.log" >&2; bench_die "pg_load.sql failed"; }
        notes+=("PostgreSQL load and indexes, all steps: $(secs "$t0" "$(now)") s wall.")
        # Seconds per step, from \timing's "Time: X ms" lines after each "== step NAME".
        while read -r step ms; do
            pg_steps+=("$step $ms")
        done < <(awk '/^== step / { step = $3; order[++n] = step; next }
                     /^Time: / && step { t[step] += $2 }
                     END { for (i = 1; i < n; i++) printf "%s %.1f\n", order[i], t[order[i]] / 1000 }' \
            "$work/pg_load.log")
        sizes=$(grep -A2 'persons_heap' "$work/pg_load.log" | tail -n 1 || true)
        notes+=("PostgreSQL sizes (persons heap | trigram index | persons total | vehicles | hotlist | database, bytes): $sizes")
    fi
    ops=$pg_op
    [ "$pg_op" != both ] || ops="sim word"
    for op in $ops; do
        echo "== records_pgpeer --op $op: $pg_names name queries, the spelling set, the plates (load average $(loadavg))" >&2
        line=$("${niced[@]}" "$tools/records_pgpeer" --conninfo "$conninfo" --dir "$queries" \
            --op "$op" --max-names "$pg_names" --max-spelling "$pg_spelling" --timeout-ms "$pg_timeout" \
            --one-pass "$pg_one_pass")
        echo "$line" >&2
        pg_json+=("$line")
        jsons+=("$line")
    done
    bench_pg_stop
fi

if [ -n "$raw_out" ]; then
    printf '%s\n' "${jsons[@]}" >"$raw_out"
fi

# ------------------------------------------------------------------ tables
echo
echo "Scale: $persons persons, $vehicles vehicles, $hotlist hotlist entries (seed $seed)."
if [ ${#import_rows[@]} -gt 0 ]; then
    echo
    echo "| amane records import | records | s (as amane reports) | records/s | s wall (process) | records/s wall |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${import_rows[@]}"
fi
if [ ${#pg_steps[@]} -gt 0 ]; then
    echo
    echo "| PostgreSQL load step (pg_load.sql) | s |"
    echo "|---|---:|"
    for s in "${pg_steps[@]}"; do
        echo "| ${s% *} | ${s#* } |"
    done
fi
aj=${amane_json:-'{}'}
lat='"\(.p50_ms) / \(.p90_ms) / \(.p99_ms) / \(.max_ms)"'
rec='"\(.recall10) (\(.found10)/\(.n); outranked \(.outranked), missed \(.missed))"'
if [ -n "$amane_json" ]; then
    echo
    jq -r '"amane in process: index of \(.persons) persons (\(.vocabulary) spellings, \(.postings) postings) loaded in \(.index_load_s) s, hotlist in \(.hotlist_load_s) s; resident memory \(.rss_mb_store_open) MiB after opening the store, \(.rss_mb_index) MiB with the index (peak \(.hwm_mb) MiB)."' <<<"$amane_json"
    echo
    echo "| amane name search, in process (rix_search, limit 10) | queries | p50 / p90 / p99 / max ms | CPU p50 / p99 ms | recall@10 | recall@100 |"
    echo "|---|---:|---:|---:|---:|---:|"
    for set in names spelling spelling_with_year; do
        for g in "" $(jq -r --arg s "$set" '.[$s].by // {} | keys[]' <<<"$aj"); do
            if [ -z "$g" ]; then sel=".$set"; label="$set, all"; else sel=".$set.by[\"$g\"]"; label="$set, $g"; fi
            [ "$(jq -r "$sel != null" <<<"$aj")" = true ] || continue
            cpu=$(jq -r "if .$set.cpu and \"$g\" == \"\" then \"\\(.$set.cpu.p50_ms) / \\(.$set.cpu.p99_ms)\" else \"\" end" <<<"$aj")
            echo "| $label | $(jq -r "$sel.n" <<<"$aj") | $(jq -r "$sel | $lat" <<<"$aj") | $cpu | $(jq -r "$sel | $rec" <<<"$aj") | $(jq -r "$sel.recall100" <<<"$aj") |"
        done
    done
fi
if [ ${#pg_json[@]} -gt 0 ]; then
    # Side by side on the very same queries: amane's figures on the subsets
    # the peer asked, when it did not ask all.
    echo
    header="| same queries | amane p50 / p90 / p99 / max ms | amane recall@10"
    rule="|---|---:|---:"
    for j in "${pg_json[@]}"; do
        op=$(jq -r .op <<<"$j")
        header+=" | PG $op p50 / p90 / p99 / max ms | PG $op recall@10"
        rule+="|---:|---:"
    done
    echo "$header |"
    echo "$rule|"
    for set in names spelling spelling_with_year; do
        aset=$set
        [ "$(jq -r --arg s "${set}_subset" '.[$s] != null' <<<"$aj")" != true ] || aset=${set}_subset
        for g in "" $(jq -r --arg s "$aset" '.[$s].by // {} | keys[]' <<<"$aj"); do
            if [ -z "$g" ]; then
                asel=".$aset"; psel=".$set"; label="$set, all"
            else
                asel=".$aset.by[\"$g\"]"; psel=".$set.by[\"$g\"]"; label="$set, $g"
            fi
            [ "$(jq -r "$asel != null" <<<"$aj")" = true ] || continue
            line="| $label ($(jq -r "$asel.n" <<<"$aj")) | $(jq -r "$asel | $lat" <<<"$aj") | $(jq -r "$asel | $rec" <<<"$aj")"
            for j in "${pg_json[@]}"; do
                if [ "$(jq -r "$psel != null" <<<"$j")" = true ]; then
                    line+=" | $(jq -r "$psel | $lat" <<<"$j") | $(jq -r "$psel | $rec + (if .timeouts > 0 then \", \\(.timeouts) timeouts\" else \"\" end)" <<<"$j")"
                else
                    line+=" | - | -"
                fi
            done
            echo "$line |"
        done
    done
fi
if [ -n "$amane_json" ]; then
    echo
    echo "| hotlist check (amane: plate_variants + records_hot_match) | p50 / p90 / p99 / max ms | expected hits found (at score 1) | other hits |"
    echo "|---|---:|---:|---:|"
    jq -r '.plates as $p
        | (["all", $p], ["hotlist entries", $p.hotlist_entries], ["random vehicles", $p.random_vehicles])
          , ($p.by_form | to_entries[] | ["form: \(.key)", .value])
        | "| \(.[0]) | \(.[1].p50_ms) / \(.[1].p90_ms) / \(.[1].p99_ms) / \(.[1].max_ms) | \(.[1].found)/\(.[1].expected_hits) (\(.[1].found_as_written)) | \(.[1].other_hits) |"' <<<"$amane_json"
    jq -r '"plate_variants() alone: p50 \(.plates.plate_variants_alone.p50_ms) ms, p99 \(.plates.plate_variants_alone.p99_ms) ms; active plate entries on the hotlist: \(.hotlist_plates_active)."' <<<"$amane_json"
fi
if [ ${#pg_json[@]} -gt 0 ]; then
    echo
    echo "| PostgreSQL plate lookup (btree) | p50 / p90 / p99 / max ms | expected found |"
    echo "|---|---:|---:|"
    jq -r '.plates | to_entries[] | "| \(.key) | \(.value.p50_ms) / \(.value.p90_ms) / \(.value.p99_ms) / \(.value.max_ms) | \(.value.found)/\(.value.expected_hits) |"' <<<"${pg_json[0]}"
fi
if [ ${#http_json[@]} -gt 0 ]; then
    echo
    echo "| amaned over HTTP (each read logged durably first) | connections | answered/s | p50 / p90 / p99 / max ms | 2xx / 4xx / 5xx+transport |"
    echo "|---|---:|---:|---:|---:|"
    for j in "${http_json[@]}"; do
        jq -r '"| \(.kind) | \(.connections) | \(.per_s) | \(.latency.p50_ms) / \(.latency.p90_ms) / \(.latency.p99_ms) / \(.latency.max_ms) | \(.ok) / \(.client_4xx) / \(.server_5xx_transport) |"' <<<"$j"
    done
fi
echo
printf '%s\n' "${notes[@]}"
[ -z "$BENCH_NICE" ] || echo "The programs and PostgreSQL ran at niceness $BENCH_NICE."
echo "Load average at the end: $(loadavg)."
