// Package cpu models twinsim's host cores: the host ISA that the binary
// translator (package dbt) targets, its encoding in memory, and the core
// that executes it.
//
// The host ISA is a compact load/store register machine: 64 integer
// registers (X0 reads as zero), RV64-like integer, multiply/divide and
// atomic operations so that a guest RV64 operation usually becomes one host
// instruction, guest-relative loads and stores translated by the core's
// MMU, branches within a translated block, and exits back to the firmware
// (block ends, system calls, instruction-stream synchronisation, illegal
// instructions, faults). Each instruction is one 64-bit word (a 64-bit
// constant takes a second word).
//
// Core is the functional executor. Memory accesses go through a
// direct-mapped software TLB in front of a Memory that translates one
// granule at a time (4 KiB guest pages, or 64 KiB host pages); a failed
// translation is a precise fault exit, leaving the registers as they were
// before the faulting instruction.
//
// Not here yet: floating point, CSRs, the cycle-level timing model (issue
// widths, functional units, branch prediction, caches and TLBs charged in
// cycles).
package cpu
