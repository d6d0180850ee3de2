# Helpers shared by the benchmark scripts (sourced, not run): processes, ports and the benchmark Mosquitto.

stop_pid() { # pid [seconds to wait before SIGKILL, default 10]
  local pid=$1 grace=${2:-10}
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_listening() { # port pid log-file: 0 once the port takes connections; 1 (log shown) when the process exits or 10 s pass
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "the process behind port $1 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "nothing listened on port $1 within 10 s" >&2
  return 1
}

mosquitto_bench_conf() { # port: an anonymous loopback broker without persistence, queues deep enough for a load run
  cat <<CONF
listener $1 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 1000
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
CONF
}

build_release() { # root work-dir project...: dotnet build -c Release each project, the log shown on failure
  local root=$1 work=$2; shift 2
  for p in "$@"; do
    dotnet build "$root/$p" -c Release --nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
  done
}

start_server() { # server case-file mqtt-port http-port log-file cluster-id: `proximity run` in the background, SERVER_PID set
  # Fewer PBKDF2 iterations: the benchmarks measure fixes, not logins (each secret is hashed at start-up).
  Proximity__SecretHashIterations=1000 Proximity__Silo__ClusterId="$6" \
    "$1" run --case "$2" --mqtt-port "$3" --http-port "$4" --silo-port "$(free_port)" --gateway-port "$(free_port)" >"$5" 2>&1 &
  SERVER_PID=$!
}

wait_healthy() { # http-port pid log-file: 0 once /health answers; 1 (log shown) when the process exits or 120 s pass
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "the server exited" >&2; return 1; }
    sleep 0.5
  done
  echo "the server was not healthy within 120 s" >&2
  return 1
}
