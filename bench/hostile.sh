#!/usr/bin/env bash
# Counter throughput with and without hostile clients, in one run: wrk drives the Quick Start
# counter's increment event, alone and then next to 1000 slowloris connections that trickle a
# request header and never finish it (bench/slowloris.py). The server cuts each of those after
# its header deadline (30 s by default) and keeps serving; wrk measures across that moment.
# Needs wrk and python3. Talks only to 127.0.0.1 and stops by itself.
#
#   bash bench/hostile.sh                 # 3 rounds x 10 s per variant
#   ROUNDS=5 DURATION=20s SLOW=2000 bash bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
SLOW=${SLOW:-1000}
WAIT=${WAIT:-27} # seconds the slow connections are held before wrk starts
ADDR=${LOAD_ADDR:-127.0.0.1:3998}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
cargo build --release --example counter -q
DSTAR_ADDR=$ADDR taskset -c 0 ./target/release/examples/counter >/dev/null &
server=$!
slow=""
trap 'kill $server $slow 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR#*:}") 2>/dev/null && break; sleep 0.1; done

lua=$(mktemp)
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"count":41}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Datastar-Request"] = "true"
LUA
seconds=${DURATION%s}

run_wrk() {
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$lua" "http://$ADDR/counter/_event/increment" 2>/dev/null |
    awk '/Requests\/sec/ {print $2}'
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

declare -A results
for round in $(seq "$ROUNDS"); do
  calm=$(run_wrk)
  results[calm]="${results[calm]:-} $calm"
  # wrk runs while the server's 30 s header deadline cuts the slow connections and they all
  # reconnect at once: the worst moment, not a quiet one
  taskset -c 1 python3 bench/slowloris.py "$ADDR" --connections "$SLOW" --seconds $((WAIT + seconds + 4)) &
  slow=$!
  sleep "$WAIT"
  open=$(ls "/proc/$server/fd" | wc -l)
  hostile=$(run_wrk)
  results[hostile]="${results[hostile]:-} $hostile"
  echo "round $round  calm: $calm req/s   with $SLOW slowloris: $hostile req/s   (server fds $open, RSS $(rss) kB)"
  wait "$slow" || true
  slow=""
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
a=$(echo "${results[calm]}" | median)
b=$(echo "${results[hostile]}" | median)
echo
echo "median req/s over $ROUNDS rounds of $DURATION, $CONNECTIONS wrk connections:"
printf '  counter alone                 %10.0f\n' "$a"
printf '  counter + %5d slowloris      %10.0f   %.3f x alone\n' "$SLOW" "$b" "$(echo "$b / $a" | bc -l)"
rm -f "$lua"
