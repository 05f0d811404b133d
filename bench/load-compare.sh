#!/usr/bin/env bash
# The counter's event endpoint, this checkout against an earlier commit, in one run: what a
# change to the default layers (security headers, the host check, the panic catcher) costs.
# Both load-servers run side by side on core 0, wrk on core 1; the rounds interleave them so
# drift on a shared machine hits both alike. Needs wrk. Talks only to 127.0.0.1, stops by itself.
#
#   BASE=e576e8e bash bench/load-compare.sh        # 5 rounds x 6 s per server and endpoint
#   BASE=e576e8e ROUNDS=9 DURATION=10s bash bench/load-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BASE:?set BASE to the commit to compare with}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-6s}
CONNECTIONS=${CONNECTIONS:-64}
NEW_ADDR=127.0.0.1:3991
OLD_ADDR=127.0.0.1:3992

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --example load-server -q
base_dir=$(mktemp -d)
git worktree add -q "$base_dir/src" "$BASE"
trap 'git worktree remove --force "$base_dir/src" 2>/dev/null || true' EXIT
(cd "$base_dir/src" && cargo build --release --example load-server -q --target-dir "${BASE_TARGET:-$base_dir/target}")
old_bin="${BASE_TARGET:-$base_dir/target}/release/examples/load-server"

DSTAR_ADDR=$NEW_ADDR taskset -c 0 ./target/release/examples/load-server >/dev/null 2>&1 &
new=$!
DSTAR_ADDR=$OLD_ADDR taskset -c 0 "$old_bin" >/dev/null 2>&1 &
old=$!
trap 'kill $new $old 2>/dev/null || true; git worktree remove --force "$base_dir/src" 2>/dev/null || true' EXIT
for addr in $NEW_ADDR $OLD_ADDR; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break; sleep 0.1; done
done

lua=$(mktemp)
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"count":41}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Datastar-Request"] = "true"
LUA

declare -A results
for round in $(seq "$ROUNDS"); do
  for path in /dstar/increment /app/page/_event/increment; do
    for side in new old; do
      addr=$NEW_ADDR; [ $side = old ] && addr=$OLD_ADDR
      rps=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$lua" "http://$addr$path" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
      results["$side $path"]="${results["$side $path"]:-} $rps"
      printf 'round %s  %-4s %-28s %s req/s\n' "$round" "$side" "$path" "$rps"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "median req/s over $ROUNDS rounds of $DURATION, $CONNECTIONS connections (new: $(git rev-parse --short HEAD) + working tree, old: $BASE):"
for path in /dstar/increment /app/page/_event/increment; do
  n=$(echo "${results["new $path"]}" | median)
  o=$(echo "${results["old $path"]}" | median)
  ratios=$(paste <(echo "${results["new $path"]}" | tr ' ' '\n' | grep -v '^$') <(echo "${results["old $path"]}" | tr ' ' '\n' | grep -v '^$') | awk '{print $1 / $2}' | median)
  printf '  %-28s new %8.0f  old %8.0f  new/old (median of round ratios) %.3f\n' "$path" "$n" "$o" "$ratios"
done
