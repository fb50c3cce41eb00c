#!/usr/bin/env bash
# understudy as the secondary of a Knot primary, for the shared benchmark's
# `custom` hook:
#
#   understudy-secondary.sh DIR ADDR PORT WORKERS ZONEFILE ORIGIN
#
# Starts a Knot primary with ZONEFILE on another loopback port (outside this
# process tree, so the benchmark's CPU and memory accounting see understudy
# alone), then replaces itself with `understudy run` listening on ADDR:PORT
# with WORKERS UDP workers; the benchmark's SIGTERM reaches understudy
# directly, and a detached watchdog stops the primary when understudy exits.
set -euo pipefail

dir=$1 addr=$2 port=$3 workers=$4 zonefile=$5 origin=$6
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${UNDERSTUDY_BIN:-$root/target/release/understudy}
knotd=${KNOTD_BIN:-/usr/sbin/knotd}
[[ -x $bin ]] || { echo "understudy binary not found at $bin (cargo build --release)" >&2; exit 1; }

primary_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$dir/primary/db" "$dir/data"
cat >"$dir/primary/knot.conf" <<KNOT
server:
    rundir: "$dir/primary"
    listen: 127.0.0.1@$primary_port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "$dir/primary/knot.log"
    any: info
database:
    storage: "$dir/primary/db"
acl:
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "$dir/primary"
    semantic-checks: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: "$origin"
    file: "$zonefile"
    acl: transfer
KNOT

# Double fork: the primary is re-parented away from this process tree.
(setsid "$knotd" -c "$dir/primary/knot.conf" </dev/null >>"$dir/primary/knot.out" 2>&1 &
	echo $! >"$dir/primary/knot.pid")
for _ in $(seq 1 600); do
	dig +short +time=1 +tries=1 -p "$primary_port" @127.0.0.1 "$origin" SOA 2>/dev/null | grep -q . && break
	sleep 0.1
done

cat >"$dir/understudy.toml" <<TOML
version = 1

[node]
id = "bench"
data_dir = "$dir/data"

[dns]
listen = ["$addr:$port"]
udp_workers = $workers

[control]
socket = "$dir/control.sock"

[log]
level = "warn"

[zone_defaults]
max_zone_bytes = "4GiB"

[[zone]]
name = "$origin"
primaries = ["127.0.0.1:$primary_port"]
TOML

# Stop the primary once understudy (this PID after exec) is gone.
self=$$
(setsid bash -c "while kill -0 $self 2>/dev/null; do sleep 1; done; kill \$(cat '$dir/primary/knot.pid') 2>/dev/null" \
	</dev/null >/dev/null 2>&1 &)

exec "$bin" run --config "$dir/understudy.toml"
