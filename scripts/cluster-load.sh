#!/usr/bin/env bash
# The realistic mix (docs/load-testing.md) against 1 and against N unicharge nodes that share
# one PostgreSQL database and one NATS server — issue 17's "1 → 3 nodes" figures.
#
#   scripts/cluster-load.sh                      # 1 node, then 3 nodes; 600 stations, 20 s each
#   NODES="1 2 3" STATIONS=900 SECONDS_EACH=30 scripts/cluster-load.sh
#   RATE=600 scripts/cluster-load.sh             # a fixed aggregate rate: the latency a station sees
#
# Needs release binaries (cargo build --release --bin unicharge --bin unicharge-sim; set BIN to
# their directory if not target/release) and PostgreSQL + nats-server on this machine: it runs
# itself under .ci/services.sh, which starts throwaway ones. Each node gets its own load
# generator with its share of the stations (a load balancer's even spread); the figures are
# the generators' sums. Prints one line per run and the JSON reports under $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${UNICHARGE_TEST_POSTGRES_URL:-}" ] || [ -z "${UNICHARGE_TEST_NATS_URL:-}" ]; then
    exec .ci/services.sh "$0" "$@"
fi

BIN="${BIN:-target/release}"
NODES="${NODES:-1 3}"
STATIONS="${STATIONS:-600}"
SECONDS_EACH="${SECONDS_EACH:-20}"
RATE="${RATE:-0}"   # aggregate msg/s over all generators; 0: closed loop
OUT="${OUT:-$(mktemp -d)}"
for b in unicharge unicharge-sim; do
    [ -x "$BIN/$b" ] || { echo "no $BIN/$b: cargo build --release --bin unicharge --bin unicharge-sim" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null || true

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() {
    local n=$1 schema="load_${n}_$$" dir="$OUT/nodes-$n"
    mkdir -p "$dir"
    psql "$UNICHARGE_TEST_POSTGRES_URL" -qc "CREATE SCHEMA $schema" >/dev/null
    local store="$UNICHARGE_TEST_POSTGRES_URL?options[search_path]=$schema"
    UNICHARGE_DATABASE_URL="$store" "$BIN/unicharge" --data-dir "$dir/cli" station add-many \
        --prefix "L$n-" --count "$STATIONS" --credentials-out "$dir/stations.csv" >/dev/null
    local ws=()
    for i in $(seq 1 "$n"); do
        local wsp httpp
        wsp=$(free_port); httpp=$(free_port)
        cat >"$dir/n$i.toml" <<EOF
data_dir = "$dir/n$i"
[csms]
ws_listen = "127.0.0.1:$wsp"
wss_listen = ""
[store]
url = "$store"
[http]
listen = "127.0.0.1:$httpp"
[efc]
tcp_listen = ""
http_listen = ""
[diameter]
listen = ""
[cluster]
nats_url = "$UNICHARGE_TEST_NATS_URL"
node_id = "n$i"
bucket = "load_${n}_$$"
subject_prefix = "load_${n}_$$"
EOF
        RUST_LOG=warn "$BIN/unicharge" --config "$dir/n$i.toml" serve >"$dir/n$i.out" 2>"$dir/n$i.log" &
        pids+=($!)
        ws+=("ws://127.0.0.1:$wsp/ocpp")
        for _ in $(seq 1 100); do grep -q "metrics: http" "$dir/n$i.out" 2>/dev/null && break; sleep 0.1; done
    done
    # The stations split evenly, one generator per node.
    local per=$(( STATIONS / n )) gens=()
    for i in $(seq 1 "$n"); do
        { head -1 "$dir/stations.csv"; tail -n +2 "$dir/stations.csv" | sed -n "$(( (i-1)*per + 1 )),$(( i*per ))p"; } >"$dir/part$i.csv"
        "$BIN/unicharge-sim" load --ws-url "${ws[$((i-1))]}" --credentials "$dir/part$i.csv" \
            --rate "$(( RATE / n ))" --ramp 2 --duration "$SECONDS_EACH" --json --quiet \
            >"$dir/report$i.json" &
        gens+=($!)
    done
    for g in "${gens[@]}"; do wait "$g"; done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    pids=()
    python3 - "$n" "$dir" <<'PY'
import json, sys, glob
n, d = sys.argv[1], sys.argv[2]
reports = [json.load(open(f)) for f in sorted(glob.glob(f"{d}/report*.json"))]
rate = sum(r["messages_per_second"] for r in reports)
p50 = max(r["latency_ms"]["p50"] for r in reports)
p99 = max(r["latency_ms"]["p99"] for r in reports)
def count(e):
    return sum(e.values()) if isinstance(e, dict) else len(e) if isinstance(e, list) else int(e or 0)
errors = sum(count(r.get("errors")) for r in reports)
print(f"{n} node(s): {rate:,.0f} msg/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms (worst generator), errors {errors}")
PY
}

echo "$(nproc) cores; $STATIONS stations; rate ${RATE} (0: closed loop), ${SECONDS_EACH} s; reports in $OUT"
for n in $NODES; do run "$n"; done
