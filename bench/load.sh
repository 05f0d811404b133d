#!/usr/bin/env bash
# Load test of the counter's increment endpoint, six versions in one run:
#   (a) dstar's functional core   (p) the same as a #[dstar::page] event
#   (A) that page inside dstar::App (default layers)   (b) axum + datastar 0.4.1
#   (r) the precomputed bytes after reading the body (hyper's cost of a body, dstar's work aside)
#   (c) precomputed bytes (the ceiling)
# Needs wrk (Debian: apt-get install wrk). Talks only to 127.0.0.1 and stops by itself.
#
#   bash bench/load.sh            # 3 rounds x 10 s per version
#   ROUNDS=5 DURATION=20s bash bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
ADDR=${LOAD_ADDR:-127.0.0.1:3999}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --example load-server -q
# server on core 0, wrk on core 1: they do not compete for a core
DSTAR_ADDR=$ADDR taskset -c 0 ./target/release/examples/load-server >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR#*:}") 2>/dev/null && break; sleep 0.1; done

lua=$(mktemp)
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"count":41}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Datastar-Request"] = "true"
LUA

# the server's CPU time (user + system, in clock ticks): with the request count, what each request
# cost the server, whether or not wrk, on a shared core, kept it busy
tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

declare -A results cpu labels
for round in $(seq "$ROUNDS"); do
  # interleave the versions so drift on a shared machine hits them all alike
  for v in dstar page app sdk read ceiling; do
    path="/$v/increment"
    case $v in
      page) path="/page/_event/increment" ;;
      app) path="/app/page/_event/increment" ;;
    esac
    before=$(cpu_ticks)
    out=$(taskset -c 1 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$lua" "http://$ADDR$path" 2>/dev/null)
    after=$(cpu_ticks)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    us=$(echo "($after - $before) * 1000000 / $tck / $requests" | bc -l)
    results[$v]="${results[$v]:-} $rps"
    cpu[$v]="${cpu[$v]:-} $us"
    printf 'round %s  %s: %s req/s, %.2f us of server CPU per request\n' "$round" "$v" "$rps" "$us"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# the median of round-by-round ratios of two lists: each round runs every version back to back,
# so its own ratio cancels the machine's slow drift
round_ratio() {
  paste <(echo "$1" | tr ' ' '\n' | grep -v '^$') <(echo "$2" | tr ' ' '\n' | grep -v '^$') |
    awk '{print $1 / $2}' | median
}
c=$(echo "${results[ceiling]}" | median)
echo
echo "median req/s over $ROUNDS rounds of $DURATION, $CONNECTIONS connections:"
for v in dstar page app sdk read ceiling; do
  m=$(echo "${results[$v]}" | median)
  case $v in
    dstar) label="(a) dstar core" ;;
    page) label="(p) dstar page event" ;;
    app) label="(A) page in App" ;;
    sdk) label="(b) axum + datastar" ;;
    read) label="(r) read + precomputed" ;;
    ceiling) label="(c) precomputed" ;;
  esac
  r=$(round_ratio "${results[$v]}" "${results[ceiling]}")
  printf '  %-22s %10.0f   %.3f x ceiling   (median of per-round ratios: %.3f)\n' \
    "$label" "$m" "$(echo "$m / $c" | bc -l)" "$r"
  labels[$v]=$label
done
echo
echo "server CPU per request (median), and the ceiling's CPU per request over this version's (the"
echo "throughput ratio were the server alone the bottleneck; median of per-round ratios):"
for v in dstar page app sdk read ceiling; do
  m=$(echo "${cpu[$v]}" | median)
  r=$(round_ratio "${cpu[ceiling]}" "${cpu[$v]}")
  printf '  %-22s %8.2f us   %.3f x ceiling\n' "${labels[$v]}" "$m" "$r"
done
rm -f "$lua"
