#!/usr/bin/env bash
# Measures the machine at hand with the memval kernels built natively,
# scalar like the RV64GC build twinsim runs (no vectorisation),
# (workloads/src/memval.c with -DNATIVE): its clock, load latency by
# footprint, STREAM copy and triad bandwidth, the cache-line transfer
# latency between two cores, and round trips handing K lines between them.
# Each point is the median of five runs. Writes
# figures/reference/native-epyc.csv (or $OUT; kernel,argument,value,unit),
# the reference figure F10 compares twinsim with, and prints it. Run it on
# an idle machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CC=${CC:-cc}
bin=$(mktemp -d)/memval
trap 'rm -rf "$(dirname "$bin")"' EXIT
$CC -O2 -fno-tree-vectorize -DNATIVE -pthread -o "$bin" workloads/src/memval.c
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run5() { for _ in 1 2 3 4 5; do "$bin" "$@" | head -1 | awk '{for (i=1;i<=NF;i++) if ($i+0==$i && $i!="") v=$i; print v}'; done | median; }
out=${OUT:-figures/reference/native-epyc.csv}
tmp=$out.tmp
{
	echo "# memval built natively on: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cpus, $(date -u +%Y-%m-%d)"
	echo "kernel,argument,value,unit"
	echo "clock,2000000,$(run5 clock 2000000),GHz"
	for b in 8192 16384 32768 65536 131072 262144 524288 1048576 2097152 4194304 8388608 16777216 33554432 67108864 134217728 268435456; do
		echo "lat,$b,$(run5 lat $b 4000000),ns"
	done
	for k in copy triad; do
		echo "$k,134217728,$(run5 $k 134217728 3),GB/s"
	done
	echo "c2c,200000,$(run5 c2c 200000),ns"
	for k in 1 4 16; do
		echo "msg,$k,$(run5 msg $k 200000),ns"
	done
} > "$tmp"
mv "$tmp" "$out"
cat "$out"
