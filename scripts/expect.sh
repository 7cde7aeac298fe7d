#!/usr/bin/env bash
# Records what each differential test case (workloads/cases.txt) does under
# qemu-riscv64: its standard output and its exit status as a shell reports
# it (128 + the signal for a killed program).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../workloads"
command -v qemu-riscv64 >/dev/null || { echo "qemu-riscv64 not found; install it (Debian: apt-get install qemu-user)" >&2; exit 1; }
mkdir -p expected
# cases.txt, and threadcases.txt (multithreaded programs).
cat cases.txt threadcases.txt | while read -r id prog args; do
	[[ -z "$id" || "$id" == \#* ]] && continue
	status=0
	# shellcheck disable=SC2086
	(qemu-riscv64 "bin/$prog" $args > "expected/$id.out" 2>/dev/null) 2>/dev/null || status=$?
	echo "$status" > "expected/$id.status"
	echo "$id: exit $status"
done

# The key-value pairs (workloads/netcases.txt): a kvserver and a kvclient
# talking over UDP on the loopback address, each under qemu-riscv64.
while read -r id port requests seed; do
	[[ -z "$id" || "$id" == \#* ]] && continue
	qemu-riscv64 bin/kvserver "$port" "$requests" > "expected/$id.server.out" &
	server=$!
	sleep 0.5
	status=0
	qemu-riscv64 bin/kvclient 127.0.0.1 "$port" "$requests" "$seed" > "expected/$id.client.out" || status=$?
	echo "$status" > "expected/$id.client.status"
	wait "$server"
	echo "$id: client exit $status"
done < netcases.txt
