#!/usr/bin/env bash
# Counts the user-space instructions of a Sluice push and fetch with valgrind's callgrind (docs/performance.md,
# "What limits each figure"). Starts a master and one worker on loopback, runs one sluice-bench scenario against
# them, and prints callgrind_annotate's top functions of the profiled side.
#   scripts/callgrind.sh [worker|client] [SCENARIO] [BYTES]     e.g. scripts/callgrind.sh worker large-batches-r1-none 128m
# Needs valgrind (apt-get install valgrind) and a release build. callgrind cannot read the DWARF that Swift 6.3
# emits, so the profiled binary is a copy with its debug sections stripped (symbols stay, line numbers go).
# Ports: SLUICE_CALLGRIND_MASTER_PORT (19097) and SLUICE_CALLGRIND_WORKER_PORT (19098).
set -euo pipefail

side="${1:-worker}"
scenario="${2:-large-batches-r1-none}"
bytes="${3:-128m}"
case "$side" in worker|client) ;; *) echo "usage: $0 [worker|client] [SCENARIO] [BYTES]" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 2; }
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$(cd "$repo" && swift build -c release --show-bin-path)"
for tool in sluice-master sluice-worker sluice-bench; do
    [ -x "$bin/$tool" ] || { echo "missing $bin/$tool: run swift build -c release" >&2; exit 2; }
done
master_port="${SLUICE_CALLGRIND_MASTER_PORT:-19097}"
worker_port="${SLUICE_CALLGRIND_WORKER_PORT:-19098}"
work="$(mktemp -d /tmp/sluice-callgrind.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work/data"
}
trap cleanup EXIT

profiled_tool=sluice-worker
[ "$side" = client ] && profiled_tool=sluice-bench
cp "$bin/$profiled_tool" "$work/profiled"
strip -g "$work/profiled"
callgrind=(valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$work/profiled")

"$bin/sluice-master" --port "$master_port" --http-port 0 >"$work/master.log" 2>&1 &
pids+=($!)
worker=("$bin/sluice-worker")
[ "$side" = worker ] && worker=("${callgrind[@]}")
"${worker[@]}" --port "$worker_port" --http-port 0 --master "127.0.0.1:$master_port" --storage-dir "$work/data" \
    --memory-budget 512m >"$work/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
    grep -q "registered with master" "$work/worker.log" && break
    kill -0 "${pids[1]}" 2>/dev/null || { cat "$work/worker.log" >&2; exit 1; }
    sleep 0.2
done
grep -q "registered with master" "$work/worker.log" || { echo "worker did not register; see $work" >&2; exit 1; }

bench=("$bin/sluice-bench")
[ "$side" = client ] && bench=("${callgrind[@]}")
"${bench[@]}" --master "127.0.0.1:$master_port" --scenarios "$scenario" --bytes "$bytes" --rounds 1 \
    --warmup-rounds 0 --no-mixed --no-local-disk-shuffle --no-floor-baselines >"$work/bench.log" 2>&1
cleanup
trap - EXIT
pids=()
grep -E "sluice-(push|fetch)" "$work/bench.log" | head -2
echo "callgrind output: $work/callgrind.out (the $side; timings above are under valgrind when it is the client)"
callgrind_annotate --inclusive=no "$work/callgrind.out" 2>/dev/null | sed -n '/PROGRAM TOTALS/,$p' | head -25 | cut -c1-160
