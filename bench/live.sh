#!/usr/bin/env bash
# Live pages against a hand-written peer and the write floor (examples/live-bench.rs), and the
# ticker fan-out of examples/stream-bench.rs, from release builds copied aside first: the target
# directory is shared, and a build started meanwhile must not swap a server under the bench.
#
#   bench/live.sh            # live-bench: VIEWERS=2000,10000, dstar/peer/peer-axum/floor, + br
#   bench/live.sh ticker     # stream-bench BENCH=fanout STREAMS=2000, RUNS (5) times
#
# Environment is passed through (VIEWERS, BUMPS, REPEATS, SERVERS, BROWSER_VIEWERS, STREAMS,
# ROUNDS, …). Talks only to 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-live}"
case "$mode" in
  live) examples=(live-bench leaderboard peer-leaderboard write-floor) ;;
  ticker) examples=(stream-bench stream-server) ;;
  *) echo "usage: bench/live.sh [live|ticker]" >&2; exit 2 ;;
esac

args=()
for e in "${examples[@]}"; do args+=(--example "$e"); done
cargo build --release "${args[@]}"

dir="$(mktemp -d -t dstar-live-bench.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
for e in "${examples[@]}"; do cp "target/release/examples/$e" "$dir/"; done

# 10,000 streams need 10,000 sockets in the bench and in the server: up to 20,000 open files
hard="$(ulimit -Hn)"
if [ "$hard" = unlimited ] || [ "$hard" -gt 20000 ]; then hard=20000; fi
ulimit -n "$hard" || true
echo "open-file limit: $(ulimit -n)"

if [ "$mode" = live ]; then
  "$dir/live-bench"
else
  for i in $(seq 1 "${RUNS:-5}"); do
    BENCH=fanout STREAMS="${STREAMS:-2000}" "$dir/stream-bench"
  done
fi
