#!/usr/bin/env bash
# 100 000 connected devices on one node (issue 6), with the node's memory per device.
# Usage: benchmarks/run-100k.sh [devices, default 100000] [seconds of measurement, default 60]
#
# The production topology with an external broker (README "External broker"), all on loopback:
#   devices ──► edge Mosquitto 1..E ──bridge (QoS 1)──► core Mosquitto ◄── ONE `proximity run` node
#   (proximity-sim load,                (proximity/v1/devices/+/position and   (Proximity:Ingest:Mode=External,
#    one process per edge)               .../event out; .../command and          shared subscription, QoS 1)
#                                        .../notify in)
# Why a pool of edge brokers: on this machine every process may hold at most 20 000 open files (RLIMIT_NOFILE hard
# limit, not raisable: CAP_SYS_RESOURCE is dropped), so neither the node's embedded broker nor one Mosquitto nor one
# simulator process can hold 100 000 connections. Each edge broker and each simulator process here holds at most
# R100K_PER_BROKER (default 16 000) device connections; in production the same topology spreads the connections
# over broker nodes. The brokers take anonymous clients on 127.0.0.1 (a benchmark on loopback: device
# authentication is the brokers' job in this topology, see deploy/mosquitto/, and is not what is measured).
#
# Steps: gen-case (the node loads all devices; PBKDF2 iterations lowered to 1000 as in run-e2e.sh, the node does not
# authenticate devices in External mode anyway) → core and edge brokers → the node (idle RSS taken once it watches
# every registered device) → one `proximity-sim load --first-device K --devices N` per edge, each device reporting
# every R100K_INTERVAL s → wait until the sims' connected devices add up to all devices → one interval of warm-up
# (every device has reported) and until the node has caught up with the sims → the measurement: RSS and CPU of
# every process once a second, the fixes the node judged from its Prometheus /metrics
# (proximity_ingest_fixes_total: fixes the grains evaluated) → the sims stop publishing (SIGINT: drain, report)
# → wait until the node has judged all they published.
#
# Environment: R100K_PER_BROKER (devices per edge broker and sim process, default 16000), R100K_INTERVAL (seconds
# between two fixes of one device, default 60, the victims' reporting profile: 1 667 fixes/s for 100 000 devices;
# at 30 s the node, sharing 2 cores with everything else here, did not always keep up), R100K_BREACH_FRACTION
# (offenders crossing their zone, default 0.01), R100K_CONNECT_TIMEOUT (seconds, default 1200), R100K_OUT (logs
# and reports, default benchmarks/results/100k). Everything started here is stopped on exit, the work directory
# removed.
# Ends with exactly one line:
#   devices=... connected=... node_rss_mib=... node_kib_per_device=... brokers_rss_mib=... fixes_per_s=... errors=...
# node_kib_per_device = (node RSS peak while all devices report − node RSS idle after start) / devices;
# fixes_per_s = fixes the node judged per second of the measurement; errors = the sims' connect and publish errors
# plus published fixes the node did not count as judged beyond those its retried grain calls explain.
set -euo pipefail

DEVICES=${1:-100000}
DURATION=${2:-60}
PER_BROKER=${R100K_PER_BROKER:-16000}
INTERVAL=${R100K_INTERVAL:-60}
BREACH=${R100K_BREACH_FRACTION:-0.01}
CONNECT_TIMEOUT=${R100K_CONNECT_TIMEOUT:-1200}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${R100K_OUT:-$ROOT/benchmarks/results/100k}
WORK=$(mktemp -d /tmp/proximity-100k.XXXXXX)
chmod 755 "$WORK"
PIDS_FILE="$WORK/pids"       # "name pid" of every process to sample
: >"$PIDS_FILE"
NODE_PID="" SAMPLER_PID=""
BROKER_PIDS=() SIM_PIDS=()

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log() { echo "run-100k: $(date +%T) $*" >&2; }
fail() { log "$*"; exit 1; }

cleanup() {
  local pid
  for pid in "${SIM_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_pid "$NODE_PID" 60 # a node with 100 000 grains takes a while to stop
  for pid in "${BROKER_PIDS[@]}"; do stop_pid "$pid"; done
  stop_pid "$SAMPLER_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $DEVICES =~ ^[0-9]+$ ]] && [ "$DEVICES" -ge 2 ] || fail "devices must be a whole number ≥ 2, not '$DEVICES'"
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] || fail "seconds must be a whole number ≥ 1, not '$DURATION'"
established() { ss -Htn state established "( sport = :$1 )" | wc -l; }
metric() { # name-prefix [label filter]: sum of the node's samples of that metric
  curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" -v f="${2:-}" '(index($0, m "{") == 1 || index($0, m " ") == 1) && index($0, f) {s += $NF} END {printf "%d\n", s}'
}
json_sum() { # field files...: sum of a numeric field over the sims' JSON reports
  python3 -c 'import json,sys; print(sum(json.load(open(f)).get(sys.argv[1]) or 0 for f in sys.argv[2:]))' "$@"
}
# From the last progress line of every sim: devices connected, sims still connecting, fixes sent.
sims_progress() {
  python3 - "$OUT" "${#SIM_PIDS[@]}" <<'EOF'
import re, sys
out, n = sys.argv[1], int(sys.argv[2])
total, connecting, sent = 0, 0, 0
for i in range(n):
    last = None
    try:
        for line in open(f"{out}/sim-{i}.log", errors="replace"):
            if " conn " in line: last = line
    except OSError:
        pass
    m = re.search(r"conn (\d+)/.* sent +(\d+)", last or "")
    total += int(m.group(1)) if m else 0
    sent += int(m.group(2)) if m else 0
    connecting += 1 if last is None or last.startswith("connecting") else 0
print(total, connecting, sent)
EOF
}

# --- limits and build -----------------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -ge $((PER_BROKER + 1000)) ] ||
  fail "open-file limit $NOFILE is too low for $PER_BROKER connections per process (set R100K_PER_BROKER lower)"
EDGES=$(( (DEVICES + PER_BROKER - 1) / PER_BROKER ))
SLICE=$(( (DEVICES + EDGES - 1) / EDGES ))
RATE=$(python3 -c "print(round($DEVICES / $INTERVAL, 1))")
mkdir -p "$OUT"
rm -f "$OUT"/sim-*.json "$OUT"/sim-*.log "$OUT"/edge-*.log
log "work dir $WORK, logs in $OUT; $DEVICES devices over $EDGES edge broker(s) and as many sim processes (≤ $SLICE each, open-file limit $NOFILE), each device every $INTERVAL s = $RATE fixes/s, $DURATION s of measurement; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x /usr/sbin/mosquitto ] || bash "$ROOT/tests/install-services.sh"
log "building (Release)"
build_release "$ROOT" "$WORK" src/Proximity.Server simulators/Proximity.Simulator || exit 1
SERVER="$ROOT/src/Proximity.Server/bin/Release/net10.0/proximity"
SIM="$ROOT/simulators/Proximity.Simulator/bin/Release/net10.0/proximity-sim"
# 1 % of the offenders walk through their exclusion zone (gen-case's default, 20 %, is a storm of 10 000 alerts
# and 10 000 escalations at once for 100 000 devices: a test of the alert outputs, not of holding devices).
"$SIM" gen-case --devices "$DEVICES" --breach-fraction "$BREACH" --out "$WORK/case.json" 2>/dev/null

# One sampler for every process (RSS and CPU ticks once a second): "unix_ms name rss_kb ticks".
cat >"$WORK/sampler.py" <<'EOF'
import sys, time
pids_file, out = sys.argv[1], sys.argv[2]
with open(out, "a", buffering=1) as f:
    while True:
        now = int(time.time() * 1000)
        for entry in open(pids_file).read().split("\n"):
            if not entry: continue
            name, pid = entry.split()
            try:
                with open(f"/proc/{pid}/status") as s: rss = next(int(l.split()[1]) for l in s if l.startswith("VmRSS:"))
                with open(f"/proc/{pid}/stat") as s: st = s.read().rsplit(")", 1)[1].split()
            except (OSError, StopIteration, ValueError):
                continue
            f.write(f"{now} {name} {rss} {int(st[11]) + int(st[12])}\n")
        time.sleep(1)
EOF
python3 "$WORK/sampler.py" "$PIDS_FILE" "$WORK/samples" & SAMPLER_PID=$!

# --- brokers ---------------------------------------------------------------------------------------------
CORE_PORT=$(free_port)
mosquitto_bench_conf "$CORE_PORT" >"$WORK/core.conf"
/usr/sbin/mosquitto -c "$WORK/core.conf" >"$OUT/core.log" 2>&1 & BROKER_PIDS+=($!)
echo "core $!" >>"$PIDS_FILE"
wait_listening "$CORE_PORT" "$!" "$OUT/core.log" || fail "the core broker did not start"
EDGE_PORTS=()
for ((e = 0; e < EDGES; e++)); do
  port=$(free_port)
  EDGE_PORTS+=("$port")
  {
    mosquitto_bench_conf "$port"
    cat <<EOF
# The bridge to the core broker: device uplink out, the service's downlink in (each edge's devices take theirs).
connection edge-$e
address 127.0.0.1:$CORE_PORT
remote_clientid edge-$e-$$
cleansession true
notifications false
try_private true
topic proximity/v1/devices/+/position out 1
topic proximity/v1/devices/+/event out 1
topic proximity/v1/devices/+/command in 1
topic proximity/v1/devices/+/notify in 1
EOF
  } >"$WORK/edge-$e.conf"
  /usr/sbin/mosquitto -c "$WORK/edge-$e.conf" >"$OUT/edge-$e.log" 2>&1 & BROKER_PIDS+=($!)
  echo "edge-$e $!" >>"$PIDS_FILE"
  wait_listening "$port" "$!" "$OUT/edge-$e.log" || fail "edge broker $e did not start"
done
for i in $(seq 1 100); do
  [ "$(established "$CORE_PORT")" -ge "$EDGES" ] && break
  [ "$i" -eq 100 ] && fail "the edge brokers' bridges did not connect to the core broker within 20 s"
  sleep 0.2
done
log "core broker on port $CORE_PORT; edge brokers on ${EDGE_PORTS[*]}, all bridged"

# --- the node --------------------------------------------------------------------------------------------
HTTP_PORT=$(free_port); SILO_PORT=$(free_port); GATEWAY_PORT=$(free_port)
log "proximity run (External ingest from the core broker), HTTP $HTTP_PORT"
# Offline after 2 × 30 min + 5 s: devices still waiting for their connection in the connection phase are not
# reported silent (the benchmark measures connected devices, not 100 000 DeviceOffline alerts).
Proximity__Ingest__Mode=External Proximity__Ingest__BrokerHost=127.0.0.1 Proximity__Ingest__BrokerPort="$CORE_PORT" \
  Proximity__Ingest__ClientId="proximity-100k-$$" Proximity__SecretHashIterations=1000 Proximity__Silo__ClusterId="r100k-$$" \
  Proximity__OffenderReportingInterval=00:30:00 Proximity__VictimReportingInterval=00:30:00 \
  "$SERVER" run --case "$WORK/case.json" --http-port "$HTTP_PORT" --silo-port "$SILO_PORT" --gateway-port "$GATEWAY_PORT" \
  >"$OUT/node.log" 2>&1 &
NODE_PID=$!
echo "node $NODE_PID" >>"$PIDS_FILE"
NODE_START=$(date +%s)
for i in $(seq 1 1200); do
  grep -q "watching $DEVICES registered devices" "$OUT/node.log" && curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null 2>&1 && break
  kill -0 "$NODE_PID" 2>/dev/null || { tail -50 "$OUT/node.log" >&2; fail "the node exited"; }
  [ "$i" -eq 1200 ] && fail "the node did not watch all devices and connect to the core broker within 10 min"
  sleep 0.5
done
NODE_READY_S=$(( $(date +%s) - NODE_START ))
sleep 3
IDLE_FROM=$(date +%s%3N); sleep 5; IDLE_TO=$(date +%s%3N)
log "node ready in $NODE_READY_S s (case loaded, $DEVICES device grains watching), idle RSS $(awk '/^VmRSS:/ {printf "%.0f MiB", $2 / 1024}' /proc/$NODE_PID/status)"

# --- the devices -----------------------------------------------------------------------------------------
for ((e = 0; e < EDGES; e++)); do
  first=$((e * SLICE))
  n=$(( DEVICES - first < SLICE ? DEVICES - first : SLICE ))
  rate=$(python3 -c "print(round($n / $INTERVAL, 3))")
  # SIGINT (see below) stops publishing and prints the report; a script's background jobs ignore it unless reset.
  # --keep-alive 0: MQTTnet's client wakes every 250 ms per connection to check its keep-alive, which for 100 000
  # devices costs more CPU than their fixes. MQTT 3.1.1 (the device protocol allows it): to an MQTT 5 client asking
  # for no keep-alive, Mosquitto 2.0 answers with a server keep-alive, and MQTTnet then starts that loop anyway.
  env --default-signal=INT "$SIM" load --credentials-file "$WORK/case.json" --first-device "$first" --devices "$n" \
    --broker 127.0.0.1 --port "${EDGE_PORTS[$e]}" --rate "$rate" --duration 86400 --linger 0 --mqtt 3.1.1 --keep-alive 0 --json \
    >"$OUT/sim-$e.json" 2>"$OUT/sim-$e.log" &
  SIM_PIDS+=($!)
  echo "sim-$e $!" >>"$PIDS_FILE"
done
log "$EDGES sim(s) started (≤ $SLICE devices each, one per edge broker); connecting"
CONNECT_START=$(date +%s)
while :; do
  read -r connected connecting _ < <(sims_progress)
  now=$(date +%s)
  if (( now % 10 == 0 )); then
    log "connected $connected/$DEVICES ($connecting sim(s) still connecting), node RSS $(awk '/^VmRSS:/ {printf "%.0f MiB", $2 / 1024}' /proc/$NODE_PID/status), node judged $(metric proximity_ingest_fixes_total) fixes, load $(cut -d' ' -f1 /proc/loadavg)"
  fi
  [ "$connected" -ge "$DEVICES" ] && break
  if [ "$connecting" -eq 0 ]; then log "every sim finished connecting, with $connected of $DEVICES devices connected"; break; fi
  for e in "${!SIM_PIDS[@]}"; do
    kill -0 "${SIM_PIDS[$e]}" 2>/dev/null || { tail -20 "$OUT/sim-$e.log" >&2; fail "sim $e exited while connecting"; }
  done
  (( now - CONNECT_START < CONNECT_TIMEOUT )) || fail "only $connected of $DEVICES devices connected within $CONNECT_TIMEOUT s"
  sleep 1
done
CONNECT_S=$(( $(date +%s) - CONNECT_START ))
log "$connected devices connected in $CONNECT_S s; $((INTERVAL + 5)) s of warm-up (every device reports once)"
sleep $((INTERVAL + 5))
# The first fix of every person activates its grains: the node may be behind after the connection phase. Measure
# once what the sims sent and the node judged differ by less than 3 s of fixes (at most 10 min).
CATCH_START=$(date +%s)
while :; do
  read -r _ _ sent < <(sims_progress)
  judged=$(metric proximity_ingest_fixes_total)
  backlog=$((sent - judged))
  (( backlog < $(printf '%.0f' "$RATE") * 3 )) && break
  if (( $(date +%s) - CATCH_START >= 600 )); then log "the node is still $backlog fixes behind after 10 min: measuring anyway"; break; fi
  log "the node is $backlog fixes behind the sims; waiting for it to catch up"
  sleep 5
done
CATCH_UP_S=$(( $(date +%s) - CATCH_START ))

# --- measurement -----------------------------------------------------------------------------------------
read -r _ _ SENT0 < <(sims_progress); FIXES0=$(metric proximity_ingest_fixes_total); T0=$(date +%s%3N)
log "measuring for $DURATION s"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
CORE_PID=${BROKER_PIDS[0]}
for ((s = 0; s < DURATION; s += 10)); do
  step=$(( DURATION - s < 10 ? DURATION - s : 10 ))
  n0=$(ticks "$NODE_PID"); c0=$(ticks "$CORE_PID")
  sleep "$step"
  n1=$(ticks "$NODE_PID"); c1=$(ticks "$CORE_PID")
  read -r _ _ sent < <(sims_progress)
  log "node RSS $(awk '/^VmRSS:/ {printf "%.0f MiB", $2 / 1024}' /proc/$NODE_PID/status), CPU $(( (n1 - n0) * 100 / HZ / step )) %; core broker CPU $(( (c1 - c0) * 100 / HZ / step )) %; sims sent $sent fixes, node judged $(metric proximity_ingest_fixes_total); load $(cut -d' ' -f1 /proc/loadavg)"
done
read -r _ _ SENT1 < <(sims_progress); FIXES1=$(metric proximity_ingest_fixes_total); T1=$(date +%s%3N)
LOAD_AVG=$(cut -d' ' -f1-3 /proc/loadavg)

# --- stop the devices, let the node catch up ---------------------------------------------------------------
log "stopping the sims (they drain, report and disconnect)"
for pid in "${SIM_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
for e in "${!SIM_PIDS[@]}"; do
  for _ in $(seq 1 1800); do kill -0 "${SIM_PIDS[$e]}" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "${SIM_PIDS[$e]}" 2>/dev/null; then log "sim $e did not finish within 3 min: killed"; kill -KILL "${SIM_PIDS[$e]}" 2>/dev/null || true; fi
  wait "${SIM_PIDS[$e]}" 2>/dev/null || true
done
SIM_PIDS=()
for e in $(seq 0 $((EDGES - 1))); do
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT/sim-$e.json" 2>/dev/null || { tail -20 "$OUT/sim-$e.log" >&2; fail "sim $e wrote no report"; }
done
REPORTS=("$OUT"/sim-*.json)
PUBLISHED=$(json_sum fixesAcked "${REPORTS[@]}")
CONNECTED=$(json_sum connected "${REPORTS[@]}")
SIM_ERRORS=$(json_sum errors "${REPORTS[@]}")
# Everything the edges acknowledged reaches the node through the bridges and the core broker: wait for it (until
# every fix is counted or explained by a retried grain call, nothing moved for 30 s, or 5 min passed).
DRAIN_START=$(date +%s) last=-1 still_since=$(date +%s)
while :; do
  judged=$(metric proximity_ingest_fixes_total)
  [ "$judged" -ge $(( PUBLISHED - $(metric proximity_ingest_retried_total) )) ] && break
  now=$(date +%s)
  if [ "$judged" -ne "$last" ]; then still_since=$now; last=$judged; fi
  if (( now - still_since >= 30 )); then log "the node's count stood still for 30 s at $judged of $PUBLISHED"; break; fi
  if (( now - DRAIN_START >= 300 )); then log "the node had not caught up after 5 min: $judged of $PUBLISHED"; break; fi
  (( (now - DRAIN_START) % 5 == 0 )) && log "draining: the node judged $judged of $PUBLISHED published fixes"
  sleep 1
done
log "drained in $(( $(date +%s) - DRAIN_START )) s; the core broker holds $(timeout 20 mosquitto_sub -p "$CORE_PORT" -t '$SYS/broker/store/messages/count' -C 1 -W 15 2>/dev/null || echo '?') messages (its own \$SYS ones included)"
JUDGED=$(metric proximity_ingest_fixes_total)
OFFENDER_GRAINS=$(metric orleans_catalog_activations 'grain_type="offender"')
VICTIM_GRAINS=$(metric orleans_catalog_activations 'grain_type="victim"')
DEVICE_GRAINS=$(metric orleans_catalog_activations 'grain_type="device"')
ALERT_GRAINS=$(metric orleans_catalog_activations 'grain_type="alert"')
ALERTS=$(metric proximity_alerts_raised_total)
RETRIED=$(metric proximity_ingest_retried_total)
DROPPED=$(metric proximity_output_dropped_total)
REJECTED=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | grep '^proximity_ingest_rejected_total' | sed 's/.*reason="\([^"]*\)".* \([0-9.e+]*\)$/\1=\2/' | paste -sd, -) || true

# --- results ---------------------------------------------------------------------------------------------
python3 - "$WORK/samples" "$IDLE_FROM" "$IDLE_TO" "$T0" "$T1" "$DEVICES" "$FIXES0" "$FIXES1" "$SENT0" "$SENT1" >"$WORK/stats.json" <<'EOF'
import json, os, sys
samples, idle0, idle1, t0, t1, devices, f0, f1, s0, s1 = sys.argv[1], *map(int, sys.argv[2:])
rows = {}
for line in open(samples):
    p = line.split()
    if len(p) == 4: rows.setdefault(p[1], []).append((int(p[0]), int(p[2]), int(p[3])))
hz = os.sysconf("SC_CLK_TCK")
def window(name):
    r = [x for x in rows.get(name, []) if t0 <= x[0] <= t1]
    if not r: return None
    cpu = (r[-1][2] - r[0][2]) / hz / max((r[-1][0] - r[0][0]) / 1000, 1e-3) * 100 if len(r) > 1 else None
    return {"peakKiB": max(x[1] for x in r), "cpuPercent": None if cpu is None else round(cpu, 1)}
procs = {name: window(name) for name in sorted(rows)}
idle = [x for x in rows.get("node", []) if idle0 <= x[0] <= idle1]
node_idle = sum(x[1] for x in idle) / len(idle)
idle_cpu = (idle[-1][2] - idle[0][2]) / hz / max((idle[-1][0] - idle[0][0]) / 1000, 1e-3) * 100 if len(idle) > 1 else None
node = procs["node"]
brokers = [n for n in procs if (n == "core" or n.startswith("edge-")) and procs[n]]
sims = [n for n in procs if n.startswith("sim-") and procs[n]]
mib = lambda kib: round(kib / 1024, 1)
print(json.dumps({
    "nodeIdleMiB": mib(node_idle), "nodeIdleCpuPercent": None if idle_cpu is None else round(idle_cpu, 1), "nodePeakMiB": mib(node["peakKiB"]), "nodeCpuPercent": node["cpuPercent"],
    "nodeKiBPerDevice": round((node["peakKiB"] - node_idle) / devices, 2),
    "nodeTotalKiBPerDevice": round(node["peakKiB"] / devices, 2),
    "brokersMiB": mib(sum(procs[n]["peakKiB"] for n in brokers)),
    "coreMiB": mib(procs["core"]["peakKiB"]), "coreCpuPercent": procs["core"]["cpuPercent"],
    "edgeMiB": [mib(procs[n]["peakKiB"]) for n in brokers if n != "core"],
    "edgesCpuPercent": round(sum(procs[n]["cpuPercent"] or 0 for n in brokers if n != "core"), 1),
    "simsMiB": mib(sum(procs[n]["peakKiB"] for n in sims)),
    "simsCpuPercent": round(sum(procs[n]["cpuPercent"] or 0 for n in sims), 1),
    "fixesPerSecond": round((f1 - f0) / max((t1 - t0) / 1000, 1e-3), 1),
    "sentPerSecond": round((s1 - s0) / max((t1 - t0) / 1000, 1e-3), 1),
    "backlogStart": max(0, s0 - f0), "backlogEnd": max(0, s1 - f1),
}))
EOF
S() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$WORK/stats.json" "$1"; }
LOST=$(( PUBLISHED > JUDGED ? PUBLISHED - JUDGED : 0 ))
# A grain call that timed out (the node overloaded) is tried again; when the first call did judge the fix, the retry
# finds a duplicate, which the counter leaves out. Only what the retries cannot explain counts as lost.
UNEXPLAINED=$(( LOST > RETRIED ? LOST - RETRIED : 0 ))
ERRORS=$(( SIM_ERRORS + UNEXPLAINED ))
{
  echo "100K $(date -u +%FT%TZ) $(nproc) cores, load average at the end of the measurement $LOAD_AVG (shared machine); open-file limit $NOFILE per process"
  echo "topology: $DEVICES devices → $EDGES edge Mosquitto broker(s) (≤ $SLICE connections each) → bridges (QoS 1) → core Mosquitto → 1 node (External ingest)"
  echo "connected: $CONNECTED/$DEVICES in $CONNECT_S s ($EDGES proximity-sim process(es)); node ready in $NODE_READY_S s"
  echo "node: RSS $(S nodeIdleMiB) MiB idle after start ($DEVICES device grains watching, CPU $(S nodeIdleCpuPercent) %) → $(S nodePeakMiB) MiB peak with every device reporting"
  echo "      +$(S nodeKiBPerDevice) KiB per device over the idle node, $(S nodeTotalKiBPerDevice) KiB of RSS per device in all; CPU $(S nodeCpuPercent) % (100 = one core)"
  echo "      judged $(S fixesPerSecond) fixes/s during the measurement while the sims sent $(S sentPerSecond)/s (target $RATE; sent but not yet judged: $(S backlogStart) at the start, $(S backlogEnd) at the end; caught up $CATCH_UP_S s after the warm-up)"
  echo "      $JUDGED fixes judged of $PUBLISHED published over the whole run (not counted: $LOST, of which $UNEXPLAINED not explained by the $RETRIED grain calls tried again after a timeout); rejected: ${REJECTED:-none}"
  echo "      grains active: $DEVICE_GRAINS device, $OFFENDER_GRAINS offender + $VICTIM_GRAINS victim (of $(( (DEVICES + 1) / 2 )) + $(( DEVICES / 2 )) people, one device each), $ALERT_GRAINS alert; $ALERTS alerts raised, $DROPPED output items dropped (queue full)"
  echo "brokers: $(S brokersMiB) MiB RSS in all; core $(S coreMiB) MiB at $(S coreCpuPercent) % CPU; edges $(S edgeMiB) MiB, $(S edgesCpuPercent) % CPU together"
  echo "sims: $(S simsMiB) MiB RSS, $(S simsCpuPercent) % CPU together; errors $SIM_ERRORS"
} | tee "$OUT/summary.txt" >&2
echo "devices=$DEVICES connected=$CONNECTED node_rss_mib=$(S nodePeakMiB) node_kib_per_device=$(S nodeKiBPerDevice) brokers_rss_mib=$(S brokersMiB) fixes_per_s=$(S fixesPerSecond) errors=$ERRORS"
