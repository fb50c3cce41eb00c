#!/usr/bin/env bash
# Query throughput of understudy against NSD and Knot in one run, through
# the shared benchmark (../shared/bench/bench_qps.sh) and its `custom` hook:
# understudy serves the generated 100k-name zone as the secondary of a Knot
# primary (bench/understudy-secondary.sh). Prints the shared tables, then
# the ratios understudy/NSD and understudy/Knot of queries per second per
# server core and of resident memory.
#
#   bench/qps.sh                         # understudy, nsd, knot; shared defaults
#   REPEATS=1 DURATION=10 bench/qps.sh   # a quicker run
#   SERVERS="custom nsd" bench/qps.sh
#
# Not part of scripts/test. Needs a release build (done here unless
# NO_BUILD=1), dnsperf, nsd and knot.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$root/../shared}
bench_qps=$SHARED/bench/bench_qps.sh
[[ -x $bench_qps ]] || { echo "shared benchmark not found at $bench_qps (set SHARED)" >&2; exit 1; }

if [[ ${NO_BUILD:-0} != 1 ]]; then
	(cd "$root" && cargo build --release -p understudy-node --bins)
fi
export UNDERSTUDY_BIN=${UNDERSTUDY_BIN:-$root/target/release/understudy}
export CUSTOM_PRIMARY_CMD="$root/bench/understudy-secondary.sh {dir} {addr} {port} {workers} {zonefile} {origin}"

read -r -a servers <<<"${SERVERS:-custom nsd knot}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$bench_qps" "${servers[@]}" 2>&1 | tee "$log"

results=$(sed -n 's/^ *results: //p' "$log" | tail -1)
[[ -s $results ]] || { echo "no results file found" >&2; exit 1; }
echo
echo "== understudy (the 'custom' rows) relative to NSD and Knot, median runs"
python3 "$root/bench/ratios.py" "$results"
