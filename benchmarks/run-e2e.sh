#!/usr/bin/env bash
# End-to-end benchmark (issue 6): the live service against the raw broker and the evaluate-in-PostGIS design,
# in one run, on a machine with nothing started. Usage: benchmarks/run-e2e.sh [seconds per stage, default 20]
# Each of the three is first warmed up with E2E_WARMUP seconds of the same load, not measured (as run-live.sh does):
# the sustained rate of a service that has run for a while, not of one whose code is still being compiled and
# whose grains are still being activated (a cold server's first 10 s run at less than half its rate).
#
#   a. proximity run --case <gen-case output> (embedded broker, free ports), driven by
#      proximity-sim load --devices N --duration S: a1 at a target rate above capacity (the acknowledged rate is
#      the sustained fixes/s; server CPU from /proc/<pid>/stat), then a2 at half that rate for the latency:
#      publish → decision (PUBACK, which leaves after the grains judged the fix and recorded any alert it
#      raised) and publish → alert received by a control-room client, p50/p99/p99.9, and RSS per tracked device
#      (RSS growth over the idle server, /proc/<pid>/status).
#   b. Mosquitto (anonymous, free port) with the same load and one plain QoS 1 subscriber on
#      proximity/v1/devices/+/position (proximity-sim load --raw-subscribe): publish → delivery, no processing.
#   c. the evaluate-in-PostGIS design, through the same Mosquitto and the same load: proximity-postgis-eval
#      (8 subscribers sharing one subscription to every device's positions; a private PostgreSQL 15 + PostGIS with
#      the same bans) keeps each person's last position in the database and checks every fix there with one
#      statement on 2 connections (an offender's against its zones and its victims' last positions, a victim's
#      against its offenders'); its rate is the postgis_fixes_per_s of the last line. Then the zone query alone,
#      fed by no broker, for comparison (the summary's "postgis query alone").
#
# Environment: E2E_DEVICES (default 2000), E2E_RATE (saturation target, fixes/s over all devices, default
# 30000), E2E_RAW_RATE (the raw broker's saturation target, default twice E2E_RATE: a broker that delivers the
# whole target is not saturated), E2E_WARMUP (seconds, default 10), E2E_LATENCY_RATE (rate of a2, default half of a1's measured rate),
# E2E_OUT (where results go, default benchmarks/results/e2e). Everything started here is stopped on exit.
# Ends with exactly one line: fixes_per_s=... p50_ms=... p99_ms=... broker_msgs_per_s=... postgis_fixes_per_s=...
set -euo pipefail

STAGE_SECONDS=${1:-20}
DEVICES=${E2E_DEVICES:-2000}
RATE=${E2E_RATE:-30000}
RAW_RATE=${E2E_RAW_RATE:-$(python3 -c "print($RATE * 2)")}
WARMUP=${E2E_WARMUP:-10}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${E2E_OUT:-$ROOT/benchmarks/results/e2e}
WORK=$(mktemp -d /tmp/proximity-e2e.XXXXXX)
chmod 755 "$WORK"
SERVER_PID="" BROKER_PID="" SAMPLER_PID="" EVAL_PID=""

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log() { echo "run-e2e: $*" >&2; }

cleanup() {
  stop_pid "$SAMPLER_PID"; stop_pid "$SERVER_PID"; stop_pid "$BROKER_PID"; stop_pid "$EVAL_PID"
  for pg in "$WORK/pg" "$WORK/pg-design"; do
    if [ -f "$pg/data/postmaster.pid" ]; then
      runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Samples a process's CPU ticks (utime + stime) and RSS once a second: "unix_ms ticks rss_kb".
sample() {
  local pid=$1 file=$2
  while kill -0 "$pid" 2>/dev/null; do
    local stat rss
    stat=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || break
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
    echo "$(date +%s%3N) ${stat% *} ${stat#* } $rss" >>"$file"
    sleep 1
  done
}

# CPU % and RSS of a sampled process over the load run's publishing phase (from its JSON report).
window_stats() { # samples-file baseline-ms load-start-ms load-json devices
  python3 - "$@" <<'EOF'
import json, os, sys
samples_file, base_ms, start_ms, report_file, devices = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rows = [tuple(map(int, l.split())) for l in open(samples_file) if len(l.split()) == 4]
r = json.load(open(report_file))
t0 = start_ms + r["connectSeconds"] * 1000
t1 = t0 + r["durationSeconds"] * 1000
before = [x for x in rows if x[0] <= base_ms]
inside = [x for x in rows if t0 <= x[0] <= t1]
hz = os.sysconf("SC_CLK_TCK")
cpu = None
if len(inside) >= 2:
    a, b = inside[0], inside[-1]
    cpu = round(((b[1] + b[2]) - (a[1] + a[2])) / hz / ((b[0] - a[0]) / 1000) * 100, 1)
base = (before[-1] if before else rows[0])[3]
peak = max(x[3] for x in inside) if inside else rows[-1][3]
print(json.dumps({"cpuPercent": cpu, "rssBeforeMiB": round(base / 1024, 1), "rssPeakMiB": round(peak / 1024, 1),
                  "rssPerDeviceKiB": round((peak - base) / devices, 2), "rssTotalPerDeviceKiB": round(peak / devices, 2)}))
EOF
}

json_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

mkdir -p "$OUT"
log "work dir $WORK, results in $OUT; $DEVICES devices, target $RATE fixes/s, $WARMUP s of warm-up and $STAGE_SECONDS s per stage"
if ! [ -x /usr/sbin/mosquitto ] || ! [ -x /usr/lib/postgresql/15/bin/initdb ]; then bash "$ROOT/tests/install-services.sh"; fi
# One socket per device on each side: raise the open-file limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((DEVICES + 1000)) ] || log "open-file limit $(ulimit -n) is low for $DEVICES devices"

log "building (Release)"
build_release "$ROOT" "$WORK" src/Proximity.Server simulators/Proximity.Simulator benchmarks/Proximity.PostgisEval || exit 1
SERVER="$ROOT/src/Proximity.Server/bin/Release/net10.0/proximity"
SIM="$ROOT/simulators/Proximity.Simulator/bin/Release/net10.0/proximity-sim"
EVAL="$ROOT/benchmarks/Proximity.PostgisEval/bin/Release/net10.0/proximity-postgis-eval"

"$SIM" gen-case --devices "$DEVICES" --out "$WORK/case.json" 2>/dev/null
# The generator runs at a lower CPU priority (nice 10), as in run-live.sh: real devices do not take the cores of
# the system they report to; here they share them, in every stage alike.
GEN=(nice -n 10 "$SIM")
# --keep-alive 0: the generator's devices publish all the time, and MQTTnet's client would otherwise wake every
# 250 ms per connection to check its keep-alive, costing the shared cores more than the service's work.
LOAD=(load --devices "$DEVICES" --duration "$STAGE_SECONDS" --json --quiet --broker 127.0.0.1 --credentials-file "$WORK/case.json" --keep-alive 0)

# --- a. the live service ---------------------------------------------------------------------------------
MQTT_PORT=$(free_port); HTTP_PORT=$(free_port)
log "a. proximity run on MQTT port $MQTT_PORT (HTTP $HTTP_PORT)"
start_server "$SERVER" "$WORK/case.json" "$MQTT_PORT" "$HTTP_PORT" "$OUT/server.log" "e2e-$$"
wait_healthy "$HTTP_PORT" "$SERVER_PID" "$OUT/server.log" || exit 1
sample "$SERVER_PID" "$WORK/server.samples" & SAMPLER_PID=$!
sleep 2 # two samples before the load starts: the baseline RSS
BASE_MS=$(date +%s%3N)
if [ "$WARMUP" != 0 ]; then
  log "a0. warm-up: target $RATE fixes/s for $WARMUP s"
  "${GEN[@]}" "${LOAD[@]}" --rate "$RATE" --port "$MQTT_PORT" --linger 1 --max-inflight 4000 --duration "$WARMUP" >"$WORK/server-warm-up.json" \
    || log "the warm-up reported errors (see the next stage)"
fi
# a1. Saturation: the target rate is above what the machine sustains; the acknowledged rate is the capacity.
# (Latency at saturation only measures the generator's in-flight queue, so it is taken in a2.)
log "a1. saturation: target $RATE fixes/s for $STAGE_SECONDS s"
LOAD_START=$(date +%s%3N)
"${GEN[@]}" "${LOAD[@]}" --rate "$RATE" --port "$MQTT_PORT" --linger 3 --max-inflight 4000 >"$OUT/server-load.json" \
  || log "the load run reported errors (see $OUT/server-load.json)"
window_stats "$WORK/server.samples" "$BASE_MS" "$LOAD_START" "$OUT/server-load.json" "$DEVICES" >"$OUT/server-process.json"
# a2. Latency at a sustainable rate: half the measured capacity unless E2E_LATENCY_RATE says otherwise.
LAT_RATE=${E2E_LATENCY_RATE:-$(python3 -c 'import json,sys; print(max(1, int(json.load(open(sys.argv[1]))["fixesPerSecond"] * 0.5)))' "$OUT/server-load.json")}
log "a2. latency: $LAT_RATE fixes/s for $STAGE_SECONDS s"
LOAD_START=$(date +%s%3N)
"${GEN[@]}" "${LOAD[@]}" --rate "$LAT_RATE" --port "$MQTT_PORT" --linger 3 \
  --histogram-out "$OUT/alert-latency.hgrm" --fix-histogram-out "$OUT/fix-latency.hgrm" >"$OUT/server-latency.json" \
  || log "the load run reported errors (see $OUT/server-latency.json)"
window_stats "$WORK/server.samples" "$BASE_MS" "$LOAD_START" "$OUT/server-latency.json" "$DEVICES" >"$OUT/server-process-latency.json"
stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
stop_pid "$SERVER_PID"; SERVER_PID=""

# --- b. the raw broker -----------------------------------------------------------------------------------
BROKER_PORT=$(free_port)
log "b. mosquitto on port $BROKER_PORT"
mosquitto_bench_conf "$BROKER_PORT" >"$WORK/mosquitto.conf"
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$OUT/mosquitto.log" 2>&1 &
BROKER_PID=$!
wait_listening "$BROKER_PORT" "$BROKER_PID" "$OUT/mosquitto.log" || exit 1
sample "$BROKER_PID" "$WORK/broker.samples" & SAMPLER_PID=$!
sleep 1
BROKER_BASE_MS=$(date +%s%3N)
if [ "$WARMUP" != 0 ]; then
  "${GEN[@]}" "${LOAD[@]}" --mqtt 3.1.1 --rate "$RAW_RATE" --max-inflight 4000 --port "$BROKER_PORT" --raw-subscribe --linger 1 --duration "$WARMUP" >"$WORK/broker-warm-up.json" \
    || log "the raw-broker warm-up reported errors (see the next stage)"
fi
LOAD_START=$(date +%s%3N)
# MQTT 3.1.1 here: with MQTT 5, Mosquitto answers "no keep-alive" with its own maximum and MQTTnet's client then
# drops the connection.
"${GEN[@]}" "${LOAD[@]}" --mqtt 3.1.1 --rate "$RAW_RATE" --max-inflight 4000 --port "$BROKER_PORT" --raw-subscribe --linger 10 --histogram-out "$OUT/raw-latency.hgrm" >"$OUT/broker-load.json" \
  || log "the raw-broker run reported errors (see $OUT/broker-load.json)"
window_stats "$WORK/broker.samples" "$BROKER_BASE_MS" "$LOAD_START" "$OUT/broker-load.json" "$DEVICES" >"$OUT/broker-process.json"
stop_pid "$SAMPLER_PID"; SAMPLER_PID=""

# --- c. evaluate in PostGIS ------------------------------------------------------------------------------
log "c. the evaluate-in-PostGIS design through mosquitto, 2 connections"
"$EVAL" --case "$WORK/case.json" --seconds "$STAGE_SECONDS" --warm-up "$WARMUP" --connections 2 --work-dir "$WORK/pg-design" \
  --mqtt-port "$BROKER_PORT" --subscribers 8 >"$OUT/postgis-design.json" 2>"$WORK/postgis-design.log" &
EVAL_PID=$!
ready=""
for _ in $(seq 1 240); do
  grep -q '^ready' "$WORK/postgis-design.log" 2>/dev/null && { ready=1; break; }
  kill -0 "$EVAL_PID" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || { cat "$WORK/postgis-design.log" >&2; log "proximity-postgis-eval did not subscribe"; exit 1; }
# One load run of warm-up + stage: the design counts from the end of its warm-up.
"${GEN[@]}" "${LOAD[@]}" --mqtt 3.1.1 --rate "$RATE" --max-inflight 4000 --port "$BROKER_PORT" --linger 0 \
  --duration "$(python3 -c "print($WARMUP + $STAGE_SECONDS)")" >"$OUT/postgis-design-load.json" \
  || log "the PostGIS-design run reported errors (see $OUT/postgis-design-load.json)"
# It ends by itself: once what arrived within the stage is checked, or 120 s after subscribing when nothing came.
wait "$EVAL_PID" || { cat "$WORK/postgis-design.log" >&2; log "proximity-postgis-eval failed"; exit 1; }
EVAL_PID=""
stop_pid "$BROKER_PID"; BROKER_PID=""
log "c. the PostGIS query alone, 2 connections"
"$EVAL" --case "$WORK/case.json" --seconds "$STAGE_SECONDS" --warm-up "$WARMUP" --connections 2 --work-dir "$WORK/pg" >"$OUT/postgis.json"

# --- results ---------------------------------------------------------------------------------------------
F() { json_field "$@"; }
S="$OUT/server-load.json" L="$OUT/server-latency.json" B="$OUT/broker-load.json" P="$OUT/postgis.json" D="$OUT/postgis-design.json"
SP="$OUT/server-process.json" LP="$OUT/server-process-latency.json" BP="$OUT/broker-process.json"
{
  echo "E2E $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared machine); $DEVICES devices, $WARMUP s of warm-up and $STAGE_SECONDS s per stage"
  echo "service, saturation (target $RATE/s): $(F $S connected)/$DEVICES connected; $(F $S fixesAcked) fixes in $(F $S durationSeconds) s = $(F $S fixesPerSecond) fixes/s; errors $(F $S errors)"
  echo "          server CPU $(F $SP cpuPercent) % (100 = one core), RSS $(F $SP rssBeforeMiB) -> $(F $SP rssPeakMiB) MiB"
  echo "service, latency at $LAT_RATE fixes/s: $(F $L fixesPerSecond) fixes/s acked; errors $(F $L errors)"
  echo "          publish -> decision (PUBACK after the grains judged the fix and recorded any alert): p50 $(F $L ackP50Ms) ms, p99 $(F $L ackP99Ms) ms, p99.9 $(F $L ackP999Ms) ms"
  echo "          publish -> alert at a control-room MQTT client: $(F $L alerts) alerts, p50 $(F $L p50Ms) ms, p99 $(F $L p99Ms) ms, p99.9 $(F $L p999Ms) ms"
  echo "          server CPU $(F $LP cpuPercent) %, RSS $(F $LP rssBeforeMiB) -> $(F $LP rssPeakMiB) MiB: +$(F $LP rssPerDeviceKiB) KiB per tracked device over the idle server ($(F $LP rssTotalPerDeviceKiB) KiB of RSS per device in all)"
  echo "broker, saturation (target $RAW_RATE/s): $(F $B fixesPerSecond) fixes/s published, $(F $B rawPerSecond) msgs/s delivered ($(F $B rawReceived) of $(F $B fixesAcked)); publish -> delivery p50 $(F $B rawP50Ms) ms, p99 $(F $B rawP99Ms) ms; mosquitto CPU $(F $BP cpuPercent) %"
  echo "postgis design through mosquitto: $(F $D fixesPerSecond) fixes/s ($(F $D offenderFixes) offender and $(F $D victimFixes) victim fixes checked, $(F $D unreadable) unreadable, in $(F $D seconds) s; $(F $D source); at most $(F $D peakBacklog) waiting for a query) on $(F $D connections) connections, query p50 $(F $D p50Ms) ms, p99 $(F $D p99Ms) ms"
  echo "postgis query alone: $(F $P fixesPerSecond) fixes/s on $(F $P connections) connections ($(F $P zones) zones), query p50 $(F $P p50Ms) ms, p99 $(F $P p99Ms) ms"
} | tee "$OUT/summary.txt" >&2
# Debian's python3-matplotlib belongs to /usr/bin/python3 (another python3 may come first on PATH).
PLOT_PY=""
for py in python3 /usr/bin/python3; do "$py" -c "import matplotlib" 2>/dev/null && { PLOT_PY=$py; break; }; done
if [ -n "$PLOT_PY" ]; then
  "$PLOT_PY" "$ROOT/benchmarks/plot-latency.py" --out "$OUT/latency.png" --title "publish latency, $DEVICES devices at $LAT_RATE fixes/s" \
    "publish->decision=$OUT/fix-latency.hgrm" "publish->alert received=$OUT/alert-latency.hgrm" >&2 || log "plot failed"
else
  log "no PNG: matplotlib is missing (apt-get install -y python3-matplotlib)"
fi
echo "fixes_per_s=$(F $S fixesPerSecond) p50_ms=$(F $L ackP50Ms) p99_ms=$(F $L ackP99Ms) broker_msgs_per_s=$(F $B rawPerSecond) postgis_fixes_per_s=$(F $D fixesPerSecond)"
