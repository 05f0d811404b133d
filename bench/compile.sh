#!/usr/bin/env bash
# Debug rebuild after a one-line edit: the Quick Start counter page (`#[dstar::page]`) against
# the same page written by hand (axum + the datastar SDK, `examples/peer-counter.rs`), in one run.
# Needs hyperfine (Debian: apt-get install hyperfine). The edit changes a string in the page's
# template, as a person working on the page would.
#
#   bash bench/compile.sh                  # 10 runs each
#   RUNS=20 bash bench/compile.sh
#   WORKSPACE=/path/to/other/checkout bash bench/compile.sh   # e.g. an older commit, same target
set -euo pipefail
cd "${WORKSPACE:-$(dirname "$0")/..}"
RUNS=${RUNS:-10}
command -v hyperfine >/dev/null || { echo "hyperfine not found: apt-get install hyperfine" >&2; exit 1; }

cargo build --example counter --example peer-counter -q
for f in counter peer-counter; do cp "examples/$f.rs" "/tmp/dstar-compile-$f.rs"; done
trap 'for f in counter peer-counter; do cp "/tmp/dstar-compile-$f.rs" "examples/$f.rs"; done' EXIT

# each run flips the "Reset" label between two spellings, so every build sees a real edit
edit() { echo "perl -0pi -e 's/\"Reset\"/\"Reset \"/ or s/\"Reset \"/\"Reset\"/' examples/$1.rs"; }
hyperfine --runs "$RUNS" --warmup 1 --export-json /tmp/dstar-compile.json \
  --prepare "$(edit counter)" -n "counter (#[dstar::page])" "cargo build --example counter -q" \
  --prepare "$(edit peer-counter)" -n "peer (axum + datastar)" "cargo build --example peer-counter -q"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("/tmp/dstar-compile.json"))["results"]}
page, peer = r["counter (#[dstar::page])"]["median"], r["peer (axum + datastar)"]["median"]
print(f"median: counter {page:.2f} s, peer {peer:.2f} s, ratio {page / peer:.2f}x")
PY
