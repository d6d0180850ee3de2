#!/usr/bin/env bash
# Live pipeline benchmark (issue 3): `proximity run` with the embedded broker, driven by `proximity-sim load` on
# the same machine. Usage: benchmarks/run-live.sh [devices, default 10000] [fixes/s, default 10000] [seconds, default 30]
#
# Starts the service on free ports with a generated case, warms it up for 10 s (one load run: JIT, grain
# activations), then measures one load run: publish → decision (PUBACK: it leaves after the grains judged the fix
# and recorded any alert it raised) for every fix, publish → alert received by a control-room client, the CPU
# the service and the load generator used per fix (/proc/<pid>/stat). Everything started is stopped on exit.
# Ends with one line: devices=... fixes_per_s=... ack_p50_ms=... ack_p99_ms=... ack_p999_ms=... alert_p99_ms=...
# service_p50_ms=... service_p99_ms=... alerts=... errors=... server_us_per_fix=... generator_us_per_fix=...
# (service_*: the service's own histogram proximity.ingest.duration, message received → acknowledged, read from
# /metrics before and after the run and interpolated inside its buckets).
set -euo pipefail

DEVICES=${1:-10000}
RATE=${2:-10000}
SECONDS_MEASURED=${3:-30}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/proximity-live.XXXXXX)
SERVER_PID=""
# shellcheck source=lib.sh
source "$ROOT/benchmarks/lib.sh"
log() { echo "run-live: $*" >&2; }
trap 'stop_pid "$SERVER_PID"; rm -rf "$WORK"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "building (Release)"
build_release "$ROOT" "$WORK" src/Proximity.Server simulators/Proximity.Simulator || exit 1
SERVER="$ROOT/src/Proximity.Server/bin/Release/net10.0/proximity"
SIM="$ROOT/simulators/Proximity.Simulator/bin/Release/net10.0/proximity-sim"
"$SIM" gen-case --devices "$DEVICES" --out "$WORK/case.json" 2>/dev/null

MQTT_PORT=$(free_port); HTTP_PORT=$(free_port)
log "proximity run with $DEVICES devices on MQTT port $MQTT_PORT"
start_server "$SERVER" "$WORK/case.json" "$MQTT_PORT" "$HTTP_PORT" "$WORK/server.log" "live-$$"
wait_healthy "$HTTP_PORT" "$SERVER_PID" "$WORK/server.log" || exit 1

# --keep-alive 0: the devices publish all the time, and MQTTnet's client would otherwise wake every 250 ms per
# connection to check its keep-alive (40 000 wake-ups a second for 10 000 devices) on the cores the service uses.
LOAD=(load --devices "$DEVICES" --rate "$RATE" --json --quiet --broker 127.0.0.1 --port "$MQTT_PORT" --credentials-file "$WORK/case.json" --linger 2 --keep-alive 0)
log "warm-up: $RATE fixes/s for 10 s"
# The generator runs at a lower CPU priority (nice 10): real devices do not take the node's cores; here they share
# them, and at equal priority the generator's threads ran in the middle of the service's garbage collections and
# stretched them (inside the service p99 42-57 ms at equal priority, 29-30 ms so; README, "Live pipeline").
nice -n 10 "$SIM" "${LOAD[@]}" --duration 10 >"$WORK/warm.json" || log "the warm-up reported errors"
log "measured: $RATE fixes/s for $SECONDS_MEASURED s"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The service's own view, received → acknowledged (the proximity.ingest.duration histogram), over the measured run.
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" >"$WORK/metrics.before" || true
before=$(cpu_ticks "$SERVER_PID")
/usr/bin/time -f "%U %S" -o "$WORK/generator.time" nice -n 10 "$SIM" "${LOAD[@]}" --duration "$SECONDS_MEASURED" >"$WORK/load.json" \
  || log "the load run reported errors (errors= below)"
after=$(cpu_ticks "$SERVER_PID")
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" >"$WORK/metrics.after" || true

python3 - "$WORK/load.json" "$before" "$after" "$(getconf CLK_TCK)" "$WORK/generator.time" "$WORK/metrics.before" "$WORK/metrics.after" <<'EOF'
import json, re, sys
def buckets(path):
    counts = {}
    try:
        for line in open(path):
            m = re.match(r'proximity_ingest_duration_seconds_bucket\{.*le="([^"]+)".*\} (\S+)', line)
            if m: counts[float(m.group(1))] = counts.get(float(m.group(1)), 0) + float(m.group(2))
    except OSError: pass
    return counts
def quantile(q):  # interpolated inside the bucket holding it; "nan" without data
    b, a = buckets(sys.argv[6]), buckets(sys.argv[7])
    bounds = sorted(a)
    cum = [a[x] - b.get(x, 0) for x in bounds]
    if not cum or cum[-1] <= 0: return float("nan")
    target, lower, below = q * cum[-1], 0.0, 0.0
    for bound, c in zip(bounds, cum):
        if c >= target:
            if bound == float("inf"): return lower * 1e3
            return (lower + (bound - lower) * (target - below) / max(c - below, 1e-9)) * 1e3
        lower, below = bound, c
    return float("nan")
r = json.load(open(sys.argv[1]))
server_s = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
user, system = map(float, open(sys.argv[5]).read().split()[-2:])
acked = max(r["fixesAcked"], 1)
print(f"devices={r['devices']} fixes_per_s={r['fixesPerSecond']} ack_p50_ms={r['ackP50Ms']} ack_p99_ms={r['ackP99Ms']} "
      f"ack_p999_ms={r['ackP999Ms']} alert_p99_ms={r['p99Ms']} service_p50_ms={quantile(0.5):.2f} service_p99_ms={quantile(0.99):.2f} "
      f"alerts={r['alerts']} errors={r['errors']} "
      f"server_us_per_fix={server_s / acked * 1e6:.0f} generator_us_per_fix={(user + system) / acked * 1e6:.0f}")
EOF
