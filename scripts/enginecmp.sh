#!/usr/bin/env bash
# Runs twinsim's engine benchmarks and Akita v5's serial engine on the same
# workload shapes (../shared/tools/enginecmp) in one go and prints the ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
akita=../shared/tools/enginecmp/run.sh

tw=$("$GO" test ./sim -run '^$' -bench '^BenchmarkEngine(Chain|Heap1000)$' -benchtime 5000000x -count 3 |
	awk '/^BenchmarkEngine/ { for (i = 1; i < NF; i++) if ($(i+1) == "ns/event") { n = $1; sub(/-[0-9]+$/, "", n); if (!(n in best) || $i < best[n]) best[n] = $i } }
	     END { printf "%s %s\n", best["BenchmarkEngineChain"], best["BenchmarkEngineHeap1000"] }')
read -r tw_chain tw_heap <<<"$tw"
echo "twinsim engine: chain ${tw_chain} ns/event, heap1000 ${tw_heap} ns/event (best of 3)"

if [ ! -x "$akita" ]; then
	echo "enginecmp not found at $akita; skipping the Akita comparison"
	exit 0
fi
json=$("$akita" -reps 3)
ak_chain=$(sed -n 's/.*"chain_ns_per_event":\([0-9.]*\).*/\1/p' <<<"$json")
ak_heap=$(sed -n 's/.*"heap1000_ns_per_event":\([0-9.]*\).*/\1/p' <<<"$json")
echo "akita v5 serial engine: chain ${ak_chain} ns/event, heap1000 ${ak_heap} ns/event"
awk -v a="$ak_chain" -v t="$tw_chain" -v b="$ak_heap" -v u="$tw_heap" \
	'BEGIN { printf "speed-up over Akita: chain %.1fx, heap1000 %.1fx (target: at least 2x on both)\n", a / t, b / u }'
