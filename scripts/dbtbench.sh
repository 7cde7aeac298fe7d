#!/usr/bin/env bash
# Runs the compute workloads under `twinsim exec` (functional mode) and under
# qemu-riscv64, side by side, and prints guest MIPS for each and the ratio,
# then the guest MIPS of the timing mode with the caches and TLBs on, on the
# in-order core and on a 4-wide out-of-order core.
# Both run the same instructions; twinsim counts them (--stats), and qemu's
# rate is that count over its wall time (best of 3 runs each).
# twinsim runs with translator.strategy=never, so that the figures measure
# the translator and the core models rather than the page-size strategy:
# the default (adaptive) regenerates hot blocks with inline page-table walks,
# which execute up to 70 % more host instructions per guest instruction
# (they take fewer simulated cycles than the faults they replace).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
"$GO" build -o bin/twinsim ./cmd/twinsim
have_qemu=1
command -v qemu-riscv64 >/dev/null || { have_qemu=0; echo "qemu-riscv64 not found; printing twinsim's figures only"; }
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
printf '%-10s %14s %12s %12s %8s %12s %12s\n' workload "guest instrs" "twinsim MIPS" "qemu MIPS" "ratio" "in-order" "out-of-order"
for w in sieve crc32 matmul qsort malloc recursion interp; do
	best_t=1e9
	for _ in 1 2 3; do
		./bin/twinsim exec --set translator.strategy=never --stats "$stats" "workloads/bin/$w" >/dev/null
		t=$(sed -n 's/^  "wall_seconds": \([0-9.e-]*\).*/\1/p' "$stats")
		best_t=$(awk -v a="$best_t" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
	done
	insts=$(sed -n 's/^  "guest_instructions": \([0-9]*\).*/\1/p' "$stats")
	tw=$(awk -v n="$insts" -v t="$best_t" 'BEGIN { printf "%.1f", n / t / 1e6 }')
	qm="-" ratio="-"
	if [ "$have_qemu" = 1 ]; then
		best_q=1e9
		for _ in 1 2 3; do
			s=$(date +%s.%N)
			qemu-riscv64 "workloads/bin/$w" >/dev/null
			e=$(date +%s.%N)
			best_q=$(awk -v a="$best_q" -v s="$s" -v e="$e" 'BEGIN { d = e - s; print (d < a ? d : a) }')
		done
		qm=$(awk -v n="$insts" -v t="$best_q" 'BEGIN { printf "%.1f", n / t / 1e6 }')
		ratio=$(awk -v a="$qm" -v b="$tw" 'BEGIN { printf "1/%.1f", a / b }')
	fi
	./bin/twinsim exec --mode timing --set translator.strategy=never --stats "$stats" "workloads/bin/$w" >/dev/null
	tm=$(sed -n 's/^  "guest_mips": \([0-9.e+-]*\).*/\1/p' "$stats" | awk '{ printf "%.1f", $1 }')
	./bin/twinsim exec --mode timing --config exec-ooo --set translator.strategy=never --stats "$stats" "workloads/bin/$w" >/dev/null
	to=$(sed -n 's/^  "guest_mips": \([0-9.e+-]*\).*/\1/p' "$stats" | awk '{ printf "%.1f", $1 }')
	printf '%-10s %14s %12s %12s %8s %12s %12s\n' "$w" "$insts" "$tw" "$qm" "$ratio" "$tm" "$to"
done
echo "targets: functional at least 1/15 of qemu-riscv64's speed (aim: 1/8); timing mode at least 10 MIPS in order, 3 out of order"
