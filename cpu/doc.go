// Package cpu models twinsim's host cores: the host ISA that the binary
// translator (package dbt) targets, its encoding in memory, and the core
// that executes it.
//
// The host ISA is a compact load/store register machine: 64 integer
// registers (X0 reads as zero) and 32 floating-point registers; RV64-like
// integer, multiply/divide, atomic and floating-point operations (IEEE 754
// with RISC-V's rounding modes, exception flags, canonical NaNs and NaN
// boxing) so that a guest RV64 operation usually becomes one host
// instruction; guest-relative loads and stores translated by the core's
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
// Floating point: the common case (round to nearest even, normal results)
// uses the host's IEEE arithmetic, with the inexact flag found by
// error-free transformations; other rounding modes, tiny results and cases
// those transformations cannot decide go through exact arithmetic
// (math/big), so results and flags are exact in every case.
//
// The timing models (timing.go, inorder.go, ooo.go) turn the executed host
// instructions into cycles. Core.SetTimer attaches one; the functional core
// then reports every instruction it executes (with its host address in the
// code cache), every conditional branch's outcome and every block exit:
//
//   - InOrder: in-order issue of Width instructions a cycle, a scoreboard of
//     register ready times, functional units by class with their counts
//     (dividers not pipelined), a store buffer.
//   - OutOfOrder: dispatch, execute, complete and retire cycles per
//     instruction in the style of ZSim's OOO core, with a reorder buffer,
//     load and store queues, rename registers and store-to-load forwarding.
//
// Both share a front end: instruction fetch by line through an L1I and TLB
// (MemoryTiming; PortTiming puts a cache.Port behind it), the direction
// predictors of bpred.go (bimodal, gshare, TAGE-lite, static baselines), a
// branch target buffer and a return-address stack for block exits. Their
// CPI stack charges every cycle to a cause (TimingStats.CPIStack).
//
// Not modelled: wrong-path execution, MSHR limits, prefetchers.
package cpu
